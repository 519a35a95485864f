/* test_rtc_send_stream.c — server/rtc/send_stream.c: sequence numbers across the wrap, the
 * packet history answering NACKs with RTX packets that unwrap to the original bytes (or with
 * the original itself without RTX), NACKs beyond the history, throttling by RTT, SR counters
 * and the report, RTT from report blocks. No network, no clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp.h"
#include "server/rtc/send_stream.h"

#define SSRC 0xa1a2a3a4u
#define RTX_SSRC 0xb1b2b3b4u
#define PT 96
#define RTX_PT 97
#define N 2000
#define HISTORY 1024

typedef struct sent {
    uint8_t buf[N][300];
    size_t len[N];
    uint16_t seq[N];
} sent_t;

static tf_send_stream_t *make(bool rtx, uint16_t first_seq, size_t queue)
{
    tf_send_stream_config_t cfg;
    tf_send_stream_config_default(&cfg, SSRC, PT, 90000);
    cfg.rtx = rtx;
    cfg.rtx_ssrc = RTX_SSRC;
    cfg.rtx_payload_type = RTX_PT;
    cfg.first_seq = first_seq;
    cfg.first_rtx_seq = 65534;
    cfg.history_packets = HISTORY;
    cfg.max_packet_bytes = 256;
    if (queue)
        cfg.retransmit_queue = queue;
    tf_send_stream_t *s = NULL;
    assert_int_equal(tf_send_stream_create(&s, &cfg), 0);
    return s;
}

/* Writes N packets of 20..219 payload bytes, a frame every 5 packets, 1 ms apart. An audio
 * level extension on some, so RTX must copy extensions too. */
static void write_all(tf_send_stream_t *s, sent_t *w)
{
    uint8_t payload[220], level[1];
    for (int i = 0; i < N; i++) {
        size_t plen = 20 + (size_t)(i * 37) % 200;
        for (size_t k = 0; k < plen; k++)
            payload[k] = (uint8_t)(i + k);
        tf_rtp_packet_t p = {.marker = i % 5 == 4,
                             .timestamp = 1000u + (uint32_t)(i / 5) * 3000u,
                             .payload = payload,
                             .payload_len = plen};
        if (i % 3 == 0) {
            tf_rtp_put_audio_level(level, true, (uint8_t)(i % 100));
            assert_int_equal(tf_rtp_ext_set(&p, 1, level, 1), 0);
        }
        int n = tf_send_stream_write(s, (int64_t)i * 1000, &p, w->buf[i], sizeof(w->buf[i]));
        assert_true(n > 0);
        assert_int_equal(p.ssrc, SSRC);
        assert_int_equal(p.payload_type, PT);
        w->len[i] = (size_t)n;
        w->seq[i] = p.seq;
        if (i > 0)
            assert_int_equal(w->seq[i], (uint16_t)(w->seq[i - 1] + 1));
    }
}

static void test_rtx_answers(void **state)
{
    (void)state;
    static sent_t w;
    tf_send_stream_t *s = make(true, 64000, 0); /* wraps after 1536 packets */
    write_all(s, &w);
    assert_int_equal(w.seq[0], 64000);
    assert_int_equal(w.seq[N - 1], (uint16_t)(64000 + N - 1));
    tf_send_stream_set_rtt(s, 50000);

    /* NACK a few in the history (on both sides of the wrap) and a few beyond it. */
    const int in_history[] = {N - 1, N - 2, N - 500, 1535, 1536, N - HISTORY};
    const int too_old[] = {N - HISTORY - 1, 0, 500};
    uint16_t nack[16];
    size_t nn = 0;
    for (size_t i = 0; i < sizeof(in_history) / sizeof(in_history[0]); i++)
        nack[nn++] = w.seq[in_history[i]];
    for (size_t i = 0; i < sizeof(too_old) / sizeof(too_old[0]); i++)
        nack[nn++] = w.seq[too_old[i]];
    nack[nn++] = (uint16_t)(w.seq[N - 1] + 1); /* never sent */
    int64_t now = 3000000;
    tf_send_stream_on_nack(s, now, nack, nn);
    uint8_t out[400], orig[400];
    uint16_t rtx_seq = 65534;
    for (size_t i = 0; i < sizeof(in_history) / sizeof(in_history[0]); i++) {
        int n = tf_send_stream_poll_retransmit(s, now, out, sizeof(out));
        assert_true(n > 0);
        tf_rtp_packet_t r;
        assert_int_equal(tf_rtp_parse(&r, out, (size_t)n), 0);
        assert_int_equal(r.ssrc, RTX_SSRC);
        assert_int_equal(r.payload_type, RTX_PT);
        assert_int_equal(r.seq, rtx_seq); /* its own sequence, wrapping too */
        rtx_seq++;
        int m = tf_rtp_rtx_unwrap(out, (size_t)n, PT, SSRC, orig, sizeof(orig));
        int k = in_history[i];
        assert_int_equal(m, (int)w.len[k]);
        assert_memory_equal(orig, w.buf[k], w.len[k]); /* byte for byte the original */
    }
    assert_int_equal(tf_send_stream_poll_retransmit(s, now, out, sizeof(out)), -EAGAIN);
    tf_send_stats_t st;
    tf_send_stream_get_stats(s, &st);
    printf("  NACK for %zu: %llu RTX, %llu too old, %llu unknown\n", nn,
           (unsigned long long)st.rtx_packets, (unsigned long long)st.nack_too_old,
           (unsigned long long)st.nack_unknown);
    assert_int_equal(st.nack_seqs, nn);
    assert_int_equal(st.rtx_packets, 6);
    assert_int_equal(st.nack_too_old, 3);
    assert_int_equal(st.nack_unknown, 1);

    /* The same NACK again within the RTT is throttled; after it, answered again. */
    tf_send_stream_on_nack(s, now + 49999, nack, 1);
    assert_int_equal(tf_send_stream_poll_retransmit(s, now + 49999, out, sizeof(out)), -EAGAIN);
    tf_send_stream_on_nack(s, now + 50000, nack, 1);
    assert_true(tf_send_stream_poll_retransmit(s, now + 50000, out, sizeof(out)) > 0);
    /* Queued twice before a poll: one retransmission. */
    tf_send_stream_on_nack(s, now + 200000, nack + 1, 1);
    tf_send_stream_on_nack(s, now + 200000, nack + 1, 1);
    assert_true(tf_send_stream_poll_retransmit(s, now + 200000, out, sizeof(out)) > 0);
    assert_int_equal(tf_send_stream_poll_retransmit(s, now + 200000, out, sizeof(out)), -EAGAIN);
    /* A short buffer keeps it queued. */
    tf_send_stream_on_nack(s, now + 400000, nack + 2, 1);
    assert_int_equal(tf_send_stream_poll_retransmit(s, now + 400000, out, 10), -ENOBUFS);
    assert_true(tf_send_stream_poll_retransmit(s, now + 400000, out, sizeof(out)) > 0);
    tf_send_stream_get_stats(s, &st);
    assert_int_equal(st.nack_throttled, 2);
    assert_int_equal(st.rtx_packets, 9);

    /* Through RTCP: a NACK packet built from a list, parsed, handed over. */
    uint16_t lost[40];
    for (int i = 0; i < 40; i++)
        lost[i] = w.seq[N - 100 + 2 * i];
    uint8_t rtcp[256];
    int rn = tf_rtcp_nack_build_to(0x1, SSRC, lost, 40, rtcp, sizeof(rtcp));
    assert_true(rn > 0);
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t pkt;
    assert_int_equal(tf_rtcp_iter_init(&it, rtcp, (size_t)rn), 0);
    assert_int_equal(tf_rtcp_iter_next(&it, &pkt), 1);
    tf_send_stream_on_nack_rtcp(s, now + 600000, &pkt.nack);
    int got = 0, n;
    while ((n = tf_send_stream_poll_retransmit(s, now + 600000, out, sizeof(out))) > 0) {
        int m = tf_rtp_rtx_unwrap(out, (size_t)n, PT, SSRC, orig, sizeof(orig));
        tf_rtp_packet_t r;
        assert_int_equal(tf_rtp_parse(&r, orig, (size_t)m), 0);
        assert_int_equal(r.seq, lost[got]);
        got++;
    }
    assert_int_equal(got, 40);
    tf_send_stream_destroy(&s);
    assert_null(s);
}

static void test_plain_retransmission(void **state)
{
    (void)state;
    static sent_t w;
    tf_send_stream_t *s = make(false, 100, 4);
    write_all(s, &w);
    uint16_t nack[6] = {w.seq[N - 10], w.seq[N - 9], w.seq[N - 8],
                        w.seq[N - 7],  w.seq[N - 6], w.seq[N - 5]};
    tf_send_stream_on_nack(s, 5000000, nack, 6); /* a queue of 4: two are refused */
    uint8_t out[400];
    for (int i = 0; i < 4; i++) {
        int n = tf_send_stream_poll_retransmit(s, 5000000, out, sizeof(out));
        assert_int_equal(n, (int)w.len[N - 10 + i]);
        assert_memory_equal(out, w.buf[N - 10 + i], w.len[N - 10 + i]); /* the same packet */
    }
    assert_int_equal(tf_send_stream_poll_retransmit(s, 5000000, out, sizeof(out)), -EAGAIN);
    tf_send_stats_t st;
    tf_send_stream_get_stats(s, &st);
    assert_int_equal(st.nack_queue_full, 2);

    /* A NACK that was queued but overwritten before the poll counts as too old. */
    uint16_t old = w.seq[N - 3];
    tf_send_stream_on_nack(s, 6000000, &old, 1);
    uint8_t payload[10] = {0};
    for (int i = 0; i < HISTORY; i++) {
        tf_rtp_packet_t p = {.payload = payload, .payload_len = sizeof(payload)};
        assert_true(tf_send_stream_write(s, 6000000, &p, out, sizeof(out)) > 0);
    }
    assert_int_equal(tf_send_stream_poll_retransmit(s, 6000000, out, sizeof(out)), -EAGAIN);
    tf_send_stream_get_stats(s, &st);
    assert_int_equal(st.nack_too_old, 1);

    /* A packet too big for a slot is sent but not kept. */
    uint8_t big[300] = {0}, bigout[400];
    tf_rtp_packet_t p = {.payload = big, .payload_len = sizeof(big)};
    assert_true(tf_send_stream_write(s, 7000000, &p, bigout, sizeof(bigout)) > 0);
    tf_send_stream_on_nack(s, 7000000, &p.seq, 1);
    tf_send_stream_get_stats(s, &st);
    assert_int_equal(st.not_kept, 1);
    /* -ENOBUFS does not use a sequence number. */
    uint16_t next = st.next_seq;
    assert_int_equal(tf_send_stream_write(s, 7000000, &p, bigout, 20), -ENOBUFS);
    tf_send_stream_get_stats(s, &st);
    assert_int_equal(st.next_seq, next);
    tf_send_stream_destroy(&s);
}

static void test_sender_report(void **state)
{
    (void)state;
    tf_send_stream_t *s = make(true, 5, 0);
    uint8_t out[1500];
    assert_true(tf_send_stream_build_sr(s, 0, 1ull << 32, NULL, 0, out, sizeof(out)) > 0);
    uint32_t octets = 0;
    uint8_t payload[200] = {0};
    for (int i = 0; i < 100; i++) {
        tf_rtp_packet_t p = {.timestamp = 90000u + (uint32_t)i * 3000u,
                             .payload = payload,
                             .payload_len = 100 + (size_t)i};
        octets += 100 + (uint32_t)i;
        assert_true(tf_send_stream_write(s, 1000000 + (int64_t)i * 33333, &p, out, sizeof(out)) >
                    0);
    }
    /* Retransmissions do not count as media packets of the SR. */
    uint16_t seq = 50;
    tf_send_stream_on_nack(s, 5000000, &seq, 1);
    assert_true(tf_send_stream_poll_retransmit(s, 5000000, out, sizeof(out)) > 0);

    /* 0.5 s after the last packet (ts 90000 + 99 × 3000): + 45000 ticks. */
    int64_t last_us = 1000000 + 99 * 33333;
    tf_rtcp_report_block_t rb = {.ssrc = 0x77,
                                 .fraction_lost = 12,
                                 .cumulative_lost = 3,
                                 .highest_seq = 70000,
                                 .jitter = 9,
                                 .lsr = 1,
                                 .dlsr = 2};
    uint64_t ntp = 0xe1234567ull << 32 | 0x80000000u;
    int n = tf_send_stream_build_sr(s, last_us + 500000, ntp, &rb, 1, out, sizeof(out));
    assert_int_equal(n, 28 + 24);
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t p;
    assert_int_equal(tf_rtcp_iter_init(&it, out, (size_t)n), 0);
    assert_int_equal(tf_rtcp_iter_next(&it, &p), 1);
    assert_int_equal(p.type, TF_RTCP_SR);
    assert_int_equal(p.sr.ssrc, SSRC);
    assert_true(p.sr.ntp == ntp);
    assert_int_equal(p.sr.packet_count, 100);
    assert_int_equal(p.sr.octet_count, octets);
    assert_int_equal(p.sr.rtp_ts, 90000u + 99u * 3000u + 45000u);
    assert_int_equal(p.sr.rb_count, 1);
    assert_int_equal(p.sr.rb[0].ssrc, 0x77);
    assert_int_equal(p.sr.rb[0].cumulative_lost, 3);
    assert_int_equal(tf_send_stream_build_sr(s, 0, ntp, &rb, 32, out, sizeof(out)), -EINVAL);
    assert_int_equal(tf_send_stream_build_sr(s, 0, ntp, &rb, 1, out, 20), -ENOBUFS);
    tf_send_stats_t st;
    tf_send_stream_get_stats(s, &st);
    printf("  SR: %u packets, %u octets, rtp_ts %u; %llu RTX packets kept apart\n",
           p.sr.packet_count, p.sr.octet_count, p.sr.rtp_ts, (unsigned long long)st.rtx_packets);

    /* RTT (RFC 3550 §6.4.1): the receiver got our SR at LSR and held it DLSR; now is ntp. The
     * compact form of ntp is 0x4567_8000; LSR 0x4567_0000 and DLSR 0x4000 (0.25 s) leave
     * 0x4000 = 0.25 s. */
    tf_rtcp_report_block_t back = {.ssrc = SSRC,
                                   .fraction_lost = 20,
                                   .cumulative_lost = 7,
                                   .lsr = 0x45670000u,
                                   .dlsr = 0x4000};
    assert_int_equal(tf_send_stream_on_report_block(s, ntp, &back), 250000);
    tf_send_stream_get_stats(s, &st);
    assert_int_equal(st.rtt_us, 250000);
    assert_int_equal(st.fraction_lost, 20);
    assert_int_equal(st.cumulative_lost, 7);
    back.lsr = 0;
    assert_int_equal(tf_send_stream_on_report_block(s, ntp, &back), -EAGAIN);
    back.lsr = 0x45680000u; /* in our future: ignored */
    assert_int_equal(tf_send_stream_on_report_block(s, ntp, &back), -EAGAIN);
    tf_send_stream_destroy(&s);
}

static void test_write_rtp_in_place(void **state)
{
    (void)state;
    tf_send_stream_t *s = make(true, 9000, 0);
    uint8_t payload[] = {1, 2, 3};
    tf_rtp_packet_t p = {.version = 2,
                         .marker = true,
                         .payload_type = 100,
                         .seq = 1,
                         .timestamp = 42,
                         .ssrc = 0xdead,
                         .payload = payload,
                         .payload_len = 3};
    uint8_t buf[64];
    int n = tf_rtp_marshal_to(&p, buf, sizeof(buf));
    assert_int_equal(tf_send_stream_write_rtp(s, 0, buf, (size_t)n), 0);
    tf_rtp_packet_t r;
    assert_int_equal(tf_rtp_parse(&r, buf, (size_t)n), 0);
    assert_int_equal(r.ssrc, SSRC);
    assert_int_equal(r.payload_type, PT);
    assert_int_equal(r.seq, 9000);
    assert_true(r.marker);
    assert_int_equal(r.timestamp, 42);
    assert_int_equal(tf_send_stream_write_rtp(s, 0, buf, 5), -EPROTO);
    uint16_t seq = 9000;
    tf_send_stream_on_nack(s, 0, &seq, 1);
    uint8_t out[64], orig[64];
    int m = tf_send_stream_poll_retransmit(s, 0, out, sizeof(out));
    assert_int_equal(tf_rtp_rtx_unwrap(out, (size_t)m, PT, SSRC, orig, sizeof(orig)), n);
    assert_memory_equal(orig, buf, (size_t)n);
    tf_send_stream_destroy(&s);

    tf_send_stream_config_t cfg;
    tf_send_stream_config_default(&cfg, SSRC, PT, 90000);
    cfg.history_packets = 599;
    assert_int_equal(tf_send_stream_create(&s, &cfg), -EINVAL);
    cfg.history_packets = 600;
    cfg.payload_type = 128;
    assert_int_equal(tf_send_stream_create(&s, &cfg), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rtx_answers),
        cmocka_unit_test(test_plain_retransmission),
        cmocka_unit_test(test_sender_report),
        cmocka_unit_test(test_write_rtp_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
