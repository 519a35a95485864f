/* test_rtc_pacer.c — server/rtc/pacer.c on a simulated clock: the output rate over a second
 * matches the target, audio does not wait behind a video burst, retransmissions go before
 * video, the queue bound drops the oldest video and counts it, an idle pacer does not burst.
 * No network, no wall clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/pacer.h"

static tf_pacer_t *make(uint64_t rate, size_t max_packets)
{
    tf_pacer_config_t cfg;
    tf_pacer_config_default(&cfg, rate);
    if (max_packets)
        cfg.max_packets = max_packets;
    tf_pacer_t *p = NULL;
    assert_int_equal(tf_pacer_create(&p, &cfg), 0);
    return p;
}

/* A source offering 1.5 × the target in bursts (one video frame of `size`-byte packets every
 * 66 ms), run for 1.2 s; counts what leaves in [0.1 s, 1.1 s) once the queue is backed up. */
static void rate_run(uint64_t rate, size_t size)
{
    tf_pacer_t *p = make(rate, 4096);
    uint8_t pkt[1500];
    memset(pkt, 0x11, sizeof(pkt));
    int64_t now = 0, next_frame = 0;
    uint64_t bytes = 0, offered = 0;
    size_t per_frame = (size_t)((double)rate * 1.5 / 8.0 * 0.066 / (double)size) + 1;
    while (now < 1200000) {
        if (now >= next_frame) {
            for (size_t i = 0; i < per_frame; i++)
                assert_int_equal(tf_pacer_enqueue(p, now, TF_PACER_VIDEO, pkt, size), 0);
            offered += per_frame * size;
            next_frame += 66000;
        }
        tf_pacer_packet_t out;
        while (tf_pacer_poll(p, now, &out) == 0)
            if (now >= 100000 && now < 1100000)
                bytes += out.len;
        int64_t t = tf_pacer_poll_timeout(p);
        now = t < next_frame ? t : next_frame;
    }
    double kbps = (double)bytes * 8.0 / 1000.0;
    double err = kbps / ((double)rate / 1000.0) - 1.0;
    printf("  target %llu kbit/s, %zu-byte packets, offered %.0f kbit/s: sent %.1f kbit/s over "
           "1 s (%+.2f %%)\n",
           (unsigned long long)rate / 1000, size, (double)offered * 8.0 / 1200.0, kbps,
           err * 100.0);
    assert_true(fabs(err) < 0.03);
    tf_pacer_stats_t st;
    tf_pacer_get_stats(p, &st);
    assert_int_equal(st.dropped_video, 0);
    tf_pacer_destroy(&p);
    assert_null(p);
}

static void test_rate(void **state)
{
    (void)state;
    rate_run(150000, 1000);
    rate_run(500000, 1200);
    rate_run(1500000, 1200);
    rate_run(4000000, 300);
}

static void test_audio_first(void **state)
{
    (void)state;
    tf_pacer_t *p = make(400000, 0);
    uint8_t video[1200], audio[80], rtx[900];
    memset(video, 'v', sizeof(video));
    memset(audio, 'a', sizeof(audio));
    memset(rtx, 'r', sizeof(rtx));
    /* A key frame's burst: 150 packets, 180 KB = 3.6 s at 400 kbit/s. Audio every 20 ms, one
     * retransmission at 0.5 s. */
    for (int i = 0; i < 150; i++)
        assert_int_equal(tf_pacer_enqueue(p, 0, TF_PACER_VIDEO, video, sizeof(video)), 0);
    int64_t now = 0, next_audio = 0, rtx_at = 500000, max_audio_wait = 0;
    int audio_out = 0, video_out = 0, video_at_rtx = -1, video_before_rtx_out = -1;
    tf_pacer_packet_t out;
    while (now < 1000000) {
        if (now >= next_audio) {
            assert_int_equal(tf_pacer_enqueue(p, now, TF_PACER_AUDIO, audio, sizeof(audio)), 0);
            next_audio += 20000;
        }
        if (now >= rtx_at) {
            assert_int_equal(tf_pacer_enqueue(p, now, TF_PACER_RETRANSMISSION, rtx, sizeof(rtx)),
                             0);
            video_at_rtx = video_out;
            rtx_at = INT64_MAX;
        }
        while (tf_pacer_poll(p, now, &out) == 0) {
            assert_int_equal(out.data[0], "avr"[out.kind == TF_PACER_AUDIO   ? 0
                                                : out.kind == TF_PACER_VIDEO ? 1
                                                                             : 2]);
            if (out.kind == TF_PACER_AUDIO) {
                audio_out++;
                if (out.queued_us > max_audio_wait)
                    max_audio_wait = out.queued_us;
            } else if (out.kind == TF_PACER_RETRANSMISSION) {
                video_before_rtx_out = video_out;
            } else {
                video_out++;
            }
        }
        int64_t t = tf_pacer_poll_timeout(p);
        t = t < next_audio ? t : next_audio;
        now = t < rtx_at ? t : rtx_at;
    }
    double video_kbps = (double)video_out * 1200 * 8 / 1000.0;
    printf("  behind a 150-packet video burst: %d audio packets, longest audio wait %lld us; "
           "video %.1f kbit/s (+ 32 audio + 7.2 RTX of 400); RTX after %d more video\n",
           audio_out, (long long)max_audio_wait, video_kbps, video_before_rtx_out - video_at_rtx);
    assert_int_equal(audio_out, 50);
    assert_int_equal(max_audio_wait, 0);                  /* never delayed behind the video */
    assert_int_equal(video_before_rtx_out, video_at_rtx); /* next out after it was queued */
    /* Audio and RTX bytes count: video gets what is left of the 400 kbit/s. */
    assert_true(fabs(video_kbps + 32.0 + 7.2 - 400.0) < 15.0);
    tf_pacer_stats_t st;
    tf_pacer_get_stats(p, &st);
    assert_true(st.queued_packets > 0);
    tf_pacer_destroy(&p);
}

static void test_retransmission_before_video(void **state)
{
    (void)state;
    tf_pacer_t *p = make(1000000, 0);
    uint8_t v[1000], r[500];
    memset(v, 'v', sizeof(v));
    memset(r, 'r', sizeof(r));
    for (int i = 0; i < 10; i++)
        assert_int_equal(tf_pacer_enqueue(p, 0, TF_PACER_VIDEO, v, sizeof(v)), 0);
    assert_int_equal(tf_pacer_enqueue(p, 0, TF_PACER_RETRANSMISSION, r, sizeof(r)), 0);
    tf_pacer_packet_t out;
    assert_int_equal(tf_pacer_poll(p, 0, &out), 0);
    assert_int_equal(out.kind, TF_PACER_RETRANSMISSION);
    assert_int_equal(out.len, 500);
    /* 500 bytes at 1 Mbit/s = 4 ms of debt. */
    assert_int_equal(tf_pacer_poll(p, 0, &out), -EAGAIN);
    assert_int_equal(tf_pacer_poll_timeout(p), 4000);
    assert_int_equal(tf_pacer_poll(p, 3999, &out), -EAGAIN);
    assert_int_equal(tf_pacer_poll(p, 4000, &out), 0);
    assert_int_equal(out.kind, TF_PACER_VIDEO);
    assert_int_equal(out.queued_us, 4000);
    assert_int_equal(tf_pacer_poll_timeout(p), 12000);
    /* Halving the rate doubles the wait that is left. */
    assert_int_equal(tf_pacer_set_rate(p, 8000, 500000), 0);
    assert_int_equal(tf_pacer_poll_timeout(p), 16000);
    assert_int_equal(tf_pacer_set_rate(p, 8000, 0), -EINVAL);
    tf_pacer_destroy(&p);

    /* With pace_audio, audio waits for the budget too, but still goes first. */
    tf_pacer_config_t cfg;
    tf_pacer_config_default(&cfg, 1000000);
    cfg.pace_audio = true;
    assert_int_equal(tf_pacer_create(&p, &cfg), 0);
    assert_int_equal(tf_pacer_enqueue(p, 0, TF_PACER_VIDEO, v, sizeof(v)), 0);
    assert_int_equal(tf_pacer_enqueue(p, 0, TF_PACER_VIDEO, v, sizeof(v)), 0);
    assert_int_equal(tf_pacer_poll(p, 0, &out), 0);
    assert_int_equal(tf_pacer_enqueue(p, 0, TF_PACER_AUDIO, r, 100), 0);
    assert_int_equal(tf_pacer_poll(p, 0, &out), -EAGAIN);
    assert_int_equal(tf_pacer_poll_timeout(p), 8000);
    assert_int_equal(tf_pacer_poll(p, 8000, &out), 0);
    assert_int_equal(out.kind, TF_PACER_AUDIO);
    assert_int_equal(out.queued_us, 8000);
    tf_pacer_destroy(&p);
}

static void test_queue_bound(void **state)
{
    (void)state;
    tf_pacer_t *p = make(100000, 50);
    uint8_t pkt[100];
    for (int i = 0; i < 60; i++) {
        memset(pkt, i, sizeof(pkt));
        assert_int_equal(tf_pacer_enqueue(p, i, TF_PACER_VIDEO, pkt, sizeof(pkt)), 0);
    }
    tf_pacer_stats_t st;
    tf_pacer_get_stats(p, &st);
    assert_int_equal(st.dropped_video, 10);
    assert_int_equal(st.queued_packets, 50);
    assert_int_equal(st.queued_bytes, 5000);
    /* The oldest went: the first out is packet 10. */
    tf_pacer_packet_t out;
    assert_int_equal(tf_pacer_poll(p, 100, &out), 0);
    assert_int_equal(out.data[0], 10);
    /* Audio into a full queue pushes video out; with no video left it is refused. */
    tf_pacer_t *a = make(100000, 3);
    assert_int_equal(tf_pacer_enqueue(a, 0, TF_PACER_VIDEO, pkt, 10), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tf_pacer_enqueue(a, 0, TF_PACER_AUDIO, pkt, 10), 0);
    assert_int_equal(tf_pacer_enqueue(a, 0, TF_PACER_RETRANSMISSION, pkt, 10), -ENOBUFS);
    tf_pacer_get_stats(a, &st);
    printf("  bound 50: 60 in, 10 oldest video dropped; bound 3: %llu video dropped for audio, "
           "%llu refused\n",
           (unsigned long long)st.dropped_video, (unsigned long long)st.refused);
    assert_int_equal(st.dropped_video, 1);
    assert_int_equal(st.refused, 1);
    assert_int_equal(tf_pacer_enqueue(a, 0, TF_PACER_AUDIO, pkt, 1501), -EMSGSIZE);
    assert_int_equal(tf_pacer_enqueue(a, 0, TF_PACER_KINDS, pkt, 10), -EINVAL);
    tf_pacer_destroy(&a);
    tf_pacer_destroy(&p);
}

static void test_idle_does_not_burst(void **state)
{
    (void)state;
    tf_pacer_t *p = make(500000, 0);
    uint8_t pkt[1200] = {0};
    tf_pacer_packet_t out;
    assert_int_equal(tf_pacer_poll_timeout(p), INT64_MAX);
    assert_int_equal(tf_pacer_poll(p, 0, &out), -EAGAIN);
    /* Ten seconds idle, then 20 packets: only the 5 ms burst allowance (312 bytes) is saved,
     * so one packet leaves at once and the rest at 19.2 ms spacing. */
    for (int i = 0; i < 20; i++)
        assert_int_equal(tf_pacer_enqueue(p, 10000000, TF_PACER_VIDEO, pkt, sizeof(pkt)), 0);
    int at_once = 0;
    while (tf_pacer_poll(p, 10000000, &out) == 0)
        at_once++;
    assert_int_equal(at_once, 1);
    int64_t t = tf_pacer_poll_timeout(p);
    printf("  after 10 s idle: %d packet at once, the next %lld us later\n", at_once,
           (long long)(t - 10000000));
    assert_int_equal(t - 10000000, 19200 - 5000);
    tf_pacer_destroy(&p);

    tf_pacer_config_t cfg;
    tf_pacer_config_default(&cfg, 0);
    assert_int_equal(tf_pacer_create(&p, &cfg), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_audio_first),
        cmocka_unit_test(test_retransmission_before_video),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_idle_does_not_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
