/* test_queue.c — the worker queues: media fills only up to the control reserve, controls and
 * events still pass a queue that media has filled, and every refusal is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <errno.h>

#include "server/queue.h"

static void test_media_leaves_the_reserve(void **state)
{
    tf_queue_t q;
    assert_int_equal(tf_queue_init(&q, 64), 0);
    tf_msg_t rtp = {.kind = TF_MSG_RTP, .len = 12};
    int pushed = 0;
    while (tf_queue_push(&q, &rtp) == 0)
        pushed++;
    assert_int_equal(pushed, 64 - 64 / 8);
    assert_int_equal(tf_queue_dropped(&q), 1);
    tf_msg_t rtcp = {.kind = TF_MSG_RTCP, .len = 8};
    assert_int_equal(tf_queue_push(&q, &rtcp), -ENOBUFS);

    /* A teacher's control, a mute, a leave and a layout event still get through. */
    tf_msg_t ctl = {.kind = TF_MSG_CONTROL, .member = 7, .len = 2, .data = {1, 1}};
    tf_msg_t mute = {.kind = TF_MSG_MUTE, .member = 7, .len = 1};
    tf_msg_t leave = {.kind = TF_MSG_LEAVE, .member = 8};
    tf_msg_t ev = {.kind = TF_MSG_EVENT, .member = 7, .ptr = malloc(4)};
    assert_non_null(ev.ptr);
    assert_int_equal(tf_queue_push(&q, &ctl), 0);
    assert_int_equal(tf_queue_push(&q, &mute), 0);
    assert_int_equal(tf_queue_push(&q, &leave), 0);
    assert_int_equal(tf_queue_push(&q, &ev), 0);
    assert_int_equal(tf_queue_dropped_control(&q), 0);

    /* Order is kept: the media first, then the controls. */
    tf_msg_t m;
    for (int i = 0; i < pushed; i++) {
        assert_int_equal(tf_queue_pop(&q, &m), 0);
        assert_int_equal(m.kind, TF_MSG_RTP);
    }
    assert_int_equal(tf_queue_pop(&q, &m), 0);
    assert_int_equal(m.kind, TF_MSG_CONTROL);
    assert_int_equal(m.data[0], 1);
    assert_int_equal(m.member, 7);
    assert_int_equal(tf_queue_pop(&q, &m), 0);
    assert_int_equal(m.kind, TF_MSG_MUTE);
    assert_int_equal(tf_queue_pop(&q, &m), 0);
    assert_int_equal(m.kind, TF_MSG_LEAVE);
    assert_int_equal(tf_queue_pop(&q, &m), 0);
    assert_int_equal(m.kind, TF_MSG_EVENT);
    free(m.ptr);
    assert_int_equal(tf_queue_pop(&q, &m), -EAGAIN);
    tf_queue_free(&q);
}

/* When even the reserve is full, a control is refused and counted as such. */
static void test_reserve_exhausted(void **state)
{
    tf_queue_t q;
    assert_int_equal(tf_queue_init(&q, 16), 0);
    tf_msg_t ctl = {.kind = TF_MSG_CONTROL, .len = 2};
    for (int i = 0; i < 16; i++)
        assert_int_equal(tf_queue_push(&q, &ctl), 0);
    assert_int_equal(tf_queue_push(&q, &ctl), -ENOBUFS);
    tf_msg_t rtp = {.kind = TF_MSG_RTP, .len = 12};
    assert_int_equal(tf_queue_push(&q, &rtp), -ENOBUFS);
    assert_int_equal(tf_queue_dropped(&q), 2);
    assert_int_equal(tf_queue_dropped_control(&q), 1);
    tf_queue_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_leaves_the_reserve),
        cmocka_unit_test(test_reserve_exhausted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
