/* test_rtc_opus_payload.c — server/rtc/rtp_opus.c: TOC durations for every configuration and
 * frame-count code (RFC 6716 §3.1), real libopus packets at 20/40/60 ms through the packetizer,
 * the depacketizer's gap reports and a receive stream without NACK. No network, no clock. */
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

#include "codec/opus.h"
#include "server/rtc/recv_stream.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_opus.h"

#define SSRC 0x0a0b0c0du
#define PT 111

static void test_toc_durations(void **state)
{
    (void)state;
    /* Frame sizes in 48 kHz samples per configuration (RFC 6716 Table 2). */
    static const int frame[32] = {480,  960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920,
                                  2880, 480, 960,  480,  960, 120, 240,  480,  960, 120, 240,
                                  480,  960, 120,  240,  480, 960, 120,  240,  480, 960};
    for (int config = 0; config < 32; config++) {
        for (int stereo = 0; stereo < 2; stereo++) {
            uint8_t toc = (uint8_t)(config << 3 | stereo << 2);
            uint8_t p[8] = {toc, 0x11, 0x22, 0x33};
            assert_int_equal(tf_rtp_opus_packet_samples(p, 1), frame[config]); /* c=0 */
            p[0] = toc | 1;                                                    /* c=1 */
            assert_int_equal(tf_rtp_opus_packet_samples(p, 3), 2 * frame[config]);
            assert_int_equal(tf_rtp_opus_packet_samples(p, 4), -EPROTO); /* odd: unequal */
            p[0] = toc | 2;                                              /* c=2 */
            assert_int_equal(tf_rtp_opus_packet_samples(p, 1), -EPROTO);
            assert_int_equal(tf_rtp_opus_packet_samples(p, 2), 2 * frame[config]);
            p[0] = toc | 3; /* c=3: M frames, at most 120 ms */
            for (int m = 0; m < 64; m++) {
                p[1] = (uint8_t)(0x80 | m); /* VBR flag set, no padding */
                int want = m == 0 || m * frame[config] > 5760 ? -EPROTO : m * frame[config];
                assert_int_equal(tf_rtp_opus_packet_samples(p, 2), want);
            }
            assert_int_equal(tf_rtp_opus_packet_samples(p, 1), -EPROTO);
        }
    }
    assert_int_equal(tf_rtp_opus_packet_samples(NULL, 0), -EPROTO);
}

/* Real packets: a 440 Hz tone, encoded at three packet durations. */
static void run_encoder(int frame_ms)
{
    tf_opus_enc_config_t cfg;
    tf_opus_enc_config_default(&cfg);
    cfg.frame_ms = frame_ms;
    tf_opus_enc_t *enc = NULL;
    assert_int_equal(tf_opus_enc_create(&enc, &cfg), 0);
    int fs = tf_opus_enc_frame_samples(enc);
    assert_int_equal(fs, 48 * frame_ms);
    float *pcm = calloc((size_t)fs, sizeof(float));
    assert_non_null(pcm);
    uint32_t ts = 0xfffff000u; /* wraps */
    uint16_t seq = 65533;
    tf_rtp_opus_depacketizer_t d;
    tf_rtp_opus_depacketize_init(&d);
    uint8_t opus[TF_OPUS_MAX_PACKET], rtp[1500];
    long sample = 0;
    for (int i = 0; i < 20; i++) {
        for (int k = 0; k < fs; k++, sample++)
            pcm[k] = 0.3f * sinf(2.0f * 3.14159265f * 440.0f * (float)sample / 48000.0f);
        int n = tf_opus_enc_encode(enc, pcm, opus, sizeof(opus));
        assert_true(n > 2);
        tf_rtp_opus_packetizer_t pk;
        assert_int_equal(tf_rtp_opus_packetize_init(&pk, opus, (size_t)n, i == 0, 1188), 0);
        assert_int_equal(pk.samples, (uint32_t)fs); /* the TOC says what the encoder used */
        uint8_t payload[1188];
        bool marker = false;
        int len = tf_rtp_opus_packetize_next(&pk, payload, sizeof(payload), &marker);
        assert_int_equal(len, n);
        assert_int_equal(marker, i == 0);
        assert_int_equal(tf_rtp_opus_packetize_next(&pk, payload, sizeof(payload), &marker),
                         -EAGAIN);
        tf_rtp_packet_t r = {.version = 2,
                             .marker = marker,
                             .payload_type = PT,
                             .seq = seq,
                             .timestamp = ts,
                             .ssrc = SSRC,
                             .payload = payload,
                             .payload_len = (size_t)len};
        int w = tf_rtp_marshal_to(&r, rtp, sizeof(rtp));
        assert_true(w > 0);
        tf_rtp_packet_t back;
        assert_int_equal(tf_rtp_parse(&back, rtp, (size_t)w), 0);
        if (i != 7) { /* packet 7 is lost */
            assert_int_equal(tf_rtp_opus_depacketize_push(&d, back.seq, back.timestamp, back.marker,
                                                          back.payload, back.payload_len),
                             0);
            tf_rtp_opus_frame_t f;
            assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), 0);
            assert_int_equal(f.size, (size_t)n);
            assert_memory_equal(f.data, opus, (size_t)n);
            assert_int_equal(f.samples, (uint32_t)fs);
            assert_int_equal(f.timestamp, ts);
            assert_int_equal(f.lost_before, i == 8 ? 1 : 0);
            assert_int_equal(f.talkspurt, i == 0);
            assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), -EAGAIN);
        }
        ts += pk.samples;
        seq++;
    }
    printf("  %d ms Opus: timestamp step %d, 19 of 20 packets out, one gap reported\n", frame_ms,
           fs);
    assert_int_equal(d.frames, 19);
    assert_int_equal(d.lost, 1);
    free(pcm);
    tf_opus_enc_destroy(&enc);
}

static void test_real_packets(void **state)
{
    (void)state;
    run_encoder(20);
    run_encoder(40);
    run_encoder(60);
}

static void test_packetizer_errors(void **state)
{
    (void)state;
    tf_rtp_opus_packetizer_t pk;
    const uint8_t p[] = {0xfc, 0x01, 0x02, 0x03};
    uint8_t out[8];
    bool m;
    assert_int_equal(tf_rtp_opus_packetize_init(&pk, p, 0, false, 100), -EPROTO);
    assert_int_equal(tf_rtp_opus_packetize_init(&pk, p, sizeof(p), false, 3), -EMSGSIZE);
    assert_int_equal(tf_rtp_opus_packetize_init(&pk, p, sizeof(p), false, 4), 0);
    assert_int_equal(pk.samples, 960);
    assert_int_equal(tf_rtp_opus_packetize_next(&pk, out, 3, &m), -ENOBUFS);
    assert_int_equal(tf_rtp_opus_packetize_next(&pk, out, sizeof(out), &m), 4);
    assert_false(m);

    /* The depacketizer: malformed, padding, reordered. */
    tf_rtp_opus_depacketizer_t d;
    tf_rtp_opus_frame_t f;
    tf_rtp_opus_depacketize_init(&d);
    const uint8_t code3_zero[] = {0xfb, 0x00};
    assert_int_equal(tf_rtp_opus_depacketize_push(&d, 10, 0, false, p, 1), 0);
    assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), 0);
    assert_int_equal(tf_rtp_opus_depacketize_push(&d, 11, 960, false, code3_zero, 2), -EPROTO);
    assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), -EAGAIN);
    assert_int_equal(tf_rtp_opus_depacketize_push(&d, 12, 1920, false, NULL, 0), 0); /* padding */
    assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), -EAGAIN);
    assert_int_equal(tf_rtp_opus_depacketize_push(&d, 13, 2880, false, p, 1), 0);
    assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), 0);
    assert_int_equal(f.lost_before, 1); /* the malformed one */
    assert_int_equal(tf_rtp_opus_depacketize_push(&d, 9, 0, false, p, 1), 0);
    assert_int_equal(tf_rtp_opus_depacketize_poll(&d, &f), 0);
    assert_int_equal(f.lost_before, 0);
    assert_int_equal(d.malformed, 1);
}

/* Through a receive stream: no NACK, a lost packet is given up after the reorder wait and the
 * next frame reports it; a reordered one within the wait is not lost. */
static void test_receive_stream(void **state)
{
    (void)state;
    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_OPUS, SSRC, PT);
    tf_recv_stream_t *rs = NULL;
    assert_int_equal(tf_recv_stream_create(&rs, &cfg), 0);
    const uint8_t opus[] = {0x78, 0x01, 0x02}; /* config 15: 20 ms */
    uint8_t pkts[50][64];
    size_t lens[50];
    for (int i = 0; i < 50; i++) {
        tf_rtp_packet_t r = {.version = 2,
                             .payload_type = PT,
                             .seq = (uint16_t)(65520 + i),
                             .timestamp = (uint32_t)i * 960u,
                             .ssrc = SSRC,
                             .payload = opus,
                             .payload_len = sizeof(opus)};
        lens[i] = (size_t)tf_rtp_marshal_to(&r, pkts[i], sizeof(pkts[i]));
    }
    int out = 0, lost_reported = 0;
    int64_t now = 0;
    for (int i = 0; i < 50; i++) {
        now = (int64_t)i * 20000;
        int k = i == 20 ? 21 : i == 21 ? 20 : i; /* 20 and 21 swapped */
        if (k != 30)                             /* 30 lost */
            assert_int_equal(tf_recv_stream_push(rs, now, pkts[k], lens[k]), 0);
        tf_recv_feedback_t fb;
        assert_int_equal(tf_recv_stream_poll_feedback(rs, now, &fb), -EAGAIN);
        tf_recv_frame_t f;
        while (tf_recv_stream_poll_frame(rs, &f) == 0) {
            assert_int_equal(f.samples, 960);
            lost_reported += (int)f.lost_before;
            out++;
        }
    }
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(rs, &st);
    printf("  Opus receive stream: %d frames out, %d loss reported, %llu given up\n", out,
           lost_reported, (unsigned long long)st.given_up);
    assert_int_equal(out, 49);
    assert_int_equal(lost_reported, 1);
    assert_int_equal(st.given_up, 1);
    assert_int_equal(st.plis, 0);
    tf_recv_stream_destroy(&rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_toc_durations),
        cmocka_unit_test(test_real_packets),
        cmocka_unit_test(test_packetizer_errors),
        cmocka_unit_test(test_receive_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
