/* test_metrics.c — the aggregation behind /metrics (metrics.c): bucket choice, per-worker room
 * snapshots by size and encoder count, and counters that keep the totals of closed rooms. The
 * HTTP side and the text format are tested on a running server (tests/integration). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "server/metrics.h"
#include "server/room.h"

static void test_bucket(void **state)
{
    static const double b[3] = {1, 2, 5};
    assert_int_equal(tf_metrics_bucket(b, 3, 0), 0);
    assert_int_equal(tf_metrics_bucket(b, 3, 1), 0); /* "le": the bound itself is inside */
    assert_int_equal(tf_metrics_bucket(b, 3, 1.5), 1);
    assert_int_equal(tf_metrics_bucket(b, 3, 5), 2);
    assert_int_equal(tf_metrics_bucket(b, 3, 6), 3); /* +Inf */
    assert_int_equal(tf_metrics_bucket(tf_metrics_loss_bounds, TF_METRICS_LOSS_N, 0.0), 0);
    assert_int_equal(tf_metrics_bucket(tf_metrics_rtt_bounds, TF_METRICS_RTT_N, 99.0),
                     TF_METRICS_RTT_N);
}

static tf_room_stats_t room(int members, int venc, int aenc, uint64_t tier_changes)
{
    tf_room_stats_t st;
    memset(&st, 0, sizeof(st));
    st.members = members;
    st.video_encoders = venc;
    st.audio_encoders = aenc;
    st.tier_changes = tier_changes;
    st.frames_encoded = 10 * tier_changes;
    return st;
}

static void test_worker_snapshots(void **state)
{
    tf_worker_metrics_t m;
    tf_metrics_worker_init(&m);
    /* Run 1: a 2-person room (3 encoders) and a 25-person room (9 encoders). */
    tf_room_stats_t a = room(2, 2, 1, 4), b = room(25, 5, 4, 7);
    tf_metrics_worker_begin(&m);
    tf_metrics_worker_room(&m, NULL, &a);
    tf_metrics_worker_room(&m, NULL, &b);
    tf_metrics_worker_end(&m);
    assert_int_equal(m.pub.rooms_by_size[1], 1);     /* le 2 */
    assert_int_equal(m.pub.rooms_by_size[5], 1);     /* le 30 */
    assert_int_equal(m.pub.rooms_by_encoders[2], 1); /* 3 encoders: le 4 */
    assert_int_equal(m.pub.rooms_by_encoders[4], 1); /* 9 encoders: le 16 */
    assert_int_equal(m.pub.members, 27);
    assert_int_equal(m.pub.encoders, 12);
    assert_int_equal(m.pub.tier_changes, 11);
    assert_int_equal(m.pub.frames_encoded, 110);

    /* The big room closes with 8 tier changes in total; the small one goes on. The counters
     * keep what the closed room did, the histograms forget it. */
    b.tier_changes = 8;
    tf_metrics_worker_room_closed(&m, &b);
    a.tier_changes = 5;
    tf_metrics_worker_begin(&m);
    tf_metrics_worker_room(&m, NULL, &a);
    tf_metrics_worker_end(&m);
    assert_int_equal(m.pub.rooms_by_size[5], 0);
    assert_int_equal(m.pub.rooms_by_size[1], 1);
    assert_int_equal(m.pub.members, 2);
    assert_int_equal(m.pub.tier_changes, 13);

    /* Everything closed: nothing open, counters stay. */
    tf_metrics_worker_room_closed(&m, &a);
    tf_metrics_worker_begin(&m);
    tf_metrics_worker_end(&m);
    uint64_t sum = 0;
    for (int i = 0; i <= TF_METRICS_ROOM_SIZE_N; i++)
        sum += m.pub.rooms_by_size[i];
    assert_int_equal(sum, 0);
    assert_int_equal(m.pub.tier_changes, 13);
    tf_metrics_worker_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_worker_snapshots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
