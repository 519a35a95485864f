/* test_rtc_recv_stream.c — server/rtc/recv_stream.c with a fake clock and a simulated network:
 * the test plays the sender (send_stream + the H.264 packetizer on synthetic access units) and
 * carries RTP, RTX and RTCP NACK/PLI with delay and seeded random loss. Checks NACK exactness,
 * repair through RTX, PLI bounds, key-frame recovery, sequence wrap, NACK timers and RFC 3550
 * receiver statistics against hand-computed values. Deterministic, faster than real time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/rtc/recv_stream.h"
#include "server/rtc/rtcp.h"
#include "server/rtc/rtcp_feedback.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"
#include "server/rtc/send_stream.h"

#define SSRC 0x11111111u
#define RTX_SSRC 0x22222222u
#define LOCAL_SSRC 0x33333333u
#define PT 102
#define RTX_PT 103
#define MAX_PAYLOAD 1188
#define FRAME_US 33333
#define MAX_FRAMES 700

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static bool chance(uint32_t *rng, int percent)
{
    return (int)(rng_next(rng) % 1000) < percent * 10;
}

/* ---- synthetic H.264 access units: Annex-B exactly as the depacketizer writes it --------- */

typedef struct au {
    uint8_t data[16384];
    tf_venc_packet_t pkt;
} au_t;

static void au_add(au_t *a, uint8_t h0, uint8_t h1, uint32_t size, uint32_t *rng)
{
    bool long_code = a->pkt.n_nal == 0 || h0 == 0x67 || h0 == 0x68;
    size_t off = a->pkt.size;
    if (long_code)
        a->data[off++] = 0;
    memcpy(a->data + off, "\0\0\1", 3);
    off += 3;
    a->pkt.nal[a->pkt.n_nal].offset = (uint32_t)off;
    a->pkt.nal[a->pkt.n_nal].size = size;
    a->pkt.n_nal++;
    a->data[off] = h0;
    a->data[off + 1] = h1;
    for (uint32_t i = 2; i < size; i++)
        a->data[off + i] = (uint8_t)(1 + rng_next(rng) % 255); /* no zeros: no emulation */
    a->pkt.size = off + size;
}

static void au_make(au_t *a, bool key, uint32_t *rng)
{
    memset(&a->pkt, 0, sizeof(a->pkt));
    a->pkt.data = a->data;
    if (key) {
        au_add(a, 0x67, 0x42, 12, rng);
        au_add(a, 0x68, 0xce, 4, rng);
        au_add(a, 0x65, 0x88, 3000 + rng_next(rng) % 3000, rng);
        a->pkt.keyframe = 1;
        return;
    }
    int slices = 1 + (int)(rng_next(rng) % 3);
    for (int s = 0; s < slices; s++)
        au_add(a, 0x41, s == 0 ? 0x9a : 0x1a, 200 + rng_next(rng) % 2300, rng);
}

/* ---- the simulated network ------------------------------------------------------------- */

enum { TO_RECEIVER, TO_SENDER };

typedef struct msg {
    int64_t at;
    int dir;
    size_t len;
    uint8_t buf[1500];
} msg_t;

typedef struct sim {
    int64_t now, one_way_us;
    uint32_t rng;
    int loss_media, loss_rtx, loss_rtcp; /* percent */
    bool drop_all_rtx;                   /* the sender's history is "gone" */
    msg_t *q;
    size_t nq, capq;

    tf_send_stream_t *tx;
    tf_recv_stream_t *rx;
    int frames_sent, frames_out;
    au_t *sent; /* every frame sent, for comparison */
    bool sent_key[MAX_FRAMES];
    bool key_requested;
    int first_out_after_loss; /* frame index of the first frame out after a gap, -1 if none */
    int last_out;

    uint8_t dropped[65536], nacked[65536]; /* by original sequence number */
    int drop_frames_from, drop_frames_to;  /* frames whose every packet is lost, with RTX */
    bool drop_seq[65536];
    int64_t first_gap_detect_us, first_pli_us;
    int plis;
    int quiet_tail; /* no random loss in the last frames */
    int total_frames;
} sim_t;

static void net_send(sim_t *s, int dir, const uint8_t *buf, size_t len)
{
    if (s->nq == s->capq) {
        s->capq = s->capq ? s->capq * 2 : 256;
        s->q = realloc(s->q, s->capq * sizeof(*s->q));
        assert_non_null(s->q);
    }
    msg_t *m = &s->q[s->nq++];
    m->at = s->now + s->one_way_us;
    m->dir = dir;
    m->len = len;
    memcpy(m->buf, buf, len);
}

static void send_frame(sim_t *s)
{
    int t = s->frames_sent++;
    bool key = t == 0 || s->key_requested;
    s->key_requested = false;
    s->sent_key[t] = key;
    au_t *a = &s->sent[t];
    au_make(a, key, &s->rng);
    tf_rtp_h264_packetizer_t pk;
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &a->pkt, MAX_PAYLOAD), 0);
    uint8_t payload[MAX_PAYLOAD], out[1500];
    bool marker;
    int n;
    while ((n = tf_rtp_h264_packetize_next(&pk, payload, sizeof(payload), &marker)) > 0) {
        tf_rtp_packet_t p = {.marker = marker,
                             .timestamp = (uint32_t)t * 3000u,
                             .payload = payload,
                             .payload_len = (size_t)n};
        int len = tf_send_stream_write(s->tx, s->now, &p, out, sizeof(out));
        assert_true(len > 0 && len <= 1200);
        bool lose = (t >= s->drop_frames_from && t <= s->drop_frames_to) ||
                    (t < s->total_frames - s->quiet_tail && chance(&s->rng, s->loss_media));
        if (t >= s->drop_frames_from && t <= s->drop_frames_to)
            s->drop_seq[p.seq] = true;
        if (lose)
            s->dropped[p.seq] = 1;
        else
            net_send(s, TO_RECEIVER, out, (size_t)len);
    }
}

static void sender_rtcp(sim_t *s, const uint8_t *buf, size_t len)
{
    tf_rtcp_iter_t it;
    tf_rtcp_packet_t p;
    assert_int_equal(tf_rtcp_iter_init(&it, buf, len), 0);
    while (tf_rtcp_iter_next(&it, &p) == 1) {
        if (p.type == TF_RTCP_PLI) {
            s->key_requested = true;
            continue;
        }
        assert_int_equal(p.type, TF_RTCP_NACK);
        assert_int_equal(p.nack.media_ssrc, SSRC);
        tf_send_stream_on_nack_rtcp(s->tx, s->now, &p.nack);
    }
    uint8_t out[1500];
    int n;
    while ((n = tf_send_stream_poll_retransmit(s->tx, s->now, out, sizeof(out))) > 0) {
        tf_rtp_packet_t r;
        assert_int_equal(tf_rtp_parse(&r, out, (size_t)n), 0);
        assert_int_equal(r.ssrc, RTX_SSRC);
        uint16_t osn = (uint16_t)(r.payload[0] << 8 | r.payload[1]);
        if (s->drop_all_rtx && s->drop_seq[osn])
            continue;
        if (!chance(&s->rng, s->loss_rtx))
            net_send(s, TO_RECEIVER, out, (size_t)n);
    }
}

static void receiver_poll(sim_t *s)
{
    tf_recv_frame_t f;
    while (tf_recv_stream_poll_frame(s->rx, &f) == 0) {
        int t = (int)(f.timestamp / 3000u);
        assert_true(t > s->last_out); /* in order, once */
        if (t != s->last_out + 1 && s->first_out_after_loss < 0)
            s->first_out_after_loss = t;
        const au_t *a = &s->sent[t];
        assert_int_equal(f.size, a->pkt.size);
        assert_memory_equal(f.data, a->data, f.size);
        assert_int_equal(f.keyframe, s->sent_key[t]);
        s->last_out = t;
        s->frames_out++;
    }
    tf_recv_feedback_t fb;
    while (tf_recv_stream_poll_feedback(s->rx, s->now, &fb) == 0) {
        uint8_t out[1500];
        size_t len = 0;
        if (fb.nack_count) {
            for (size_t i = 0; i < fb.nack_count; i++) {
                s->nacked[fb.nack[i]] = 1;
                if (s->first_gap_detect_us < 0)
                    s->first_gap_detect_us = s->now;
            }
            int n =
                tf_rtcp_nack_build_to(LOCAL_SSRC, SSRC, fb.nack, fb.nack_count, out, sizeof(out));
            assert_true(n > 0);
            len = (size_t)n;
        }
        if (fb.pli) {
            tf_rtcp_packet_t pli = {.type = TF_RTCP_PLI};
            pli.pli.sender_ssrc = LOCAL_SSRC;
            pli.pli.media_ssrc = SSRC;
            int n = tf_rtcp_marshal_to(&pli, out + len, sizeof(out) - len);
            assert_true(n > 0);
            len += (size_t)n;
            if (s->first_pli_us < 0)
                s->first_pli_us = s->now;
            s->plis++;
        }
        if (!chance(&s->rng, s->loss_rtcp))
            net_send(s, TO_SENDER, out, len);
    }
}

static void sim_init(sim_t *s, uint32_t seed, uint16_t first_seq, int64_t rtt_us)
{
    memset(s, 0, sizeof(*s));
    s->rng = seed;
    s->now = 1000000;
    s->one_way_us = rtt_us / 2;
    s->drop_frames_from = s->drop_frames_to = -1;
    s->first_out_after_loss = -1;
    s->last_out = -1;
    s->first_gap_detect_us = s->first_pli_us = -1;
    s->sent = calloc(MAX_FRAMES, sizeof(*s->sent));
    assert_non_null(s->sent);
    tf_send_stream_config_t tc;
    tf_send_stream_config_default(&tc, SSRC, PT, 90000);
    tc.rtx = true;
    tc.rtx_ssrc = RTX_SSRC;
    tc.rtx_payload_type = RTX_PT;
    tc.first_seq = first_seq;
    tc.first_rtx_seq = 777;
    assert_int_equal(tf_send_stream_create(&s->tx, &tc), 0);
    tf_send_stream_set_rtt(s->tx, rtt_us);
    tf_recv_stream_config_t rc;
    tf_recv_stream_config_default(&rc, TF_RECV_CODEC_H264, SSRC, PT);
    rc.rtx = true;
    rc.rtx_ssrc = RTX_SSRC;
    rc.rtx_payload_type = RTX_PT;
    assert_int_equal(tf_recv_stream_create(&s->rx, &rc), 0);
    tf_recv_stream_set_rtt(s->rx, rtt_us);
}

static void sim_free(sim_t *s)
{
    tf_send_stream_destroy(&s->tx);
    tf_recv_stream_destroy(&s->rx);
    free(s->q);
    free(s->sent);
}

/* Runs until every frame is sent and the network is quiet for a second. */
static void sim_run(sim_t *s, int frames)
{
    s->total_frames = frames;
    int64_t next_frame = s->now;
    int64_t end = INT64_MAX, limit = s->now + (int64_t)frames * FRAME_US + 5000000;
    while (s->now < end) {
        assert_true(s->now < limit);
        int64_t t = frames > s->frames_sent ? next_frame : INT64_MAX;
        for (size_t i = 0; i < s->nq; i++)
            if (s->q[i].at < t)
                t = s->q[i].at;
        int64_t rt = tf_recv_stream_poll_timeout(s->rx);
        if (rt < t)
            t = rt;
        if (t == INT64_MAX) {
            if (end == INT64_MAX)
                end = s->now + 1000000;
            t = end;
        }
        if (t > s->now)
            s->now = t;
        for (size_t i = 0; i < s->nq;) {
            if (s->q[i].at > s->now) {
                i++;
                continue;
            }
            msg_t m = s->q[i]; /* keep the order of what is left: no reordering */
            memmove(&s->q[i], &s->q[i + 1], (--s->nq - i) * sizeof(*s->q));
            if (m.dir == TO_RECEIVER)
                assert_int_equal(tf_recv_stream_push(s->rx, s->now, m.buf, m.len), 0);
            else
                sender_rtcp(s, m.buf, m.len);
        }
        if (s->frames_sent < frames && s->now >= next_frame) {
            send_frame(s);
            next_frame += FRAME_US;
        }
        tf_recv_stream_handle_timeout(s->rx, s->now);
        receiver_poll(s);
    }
}

/* ---- (1) 5 % random loss, repaired by RTX: exact NACKs, every frame, no PLI -------------- */

static void test_random_loss_repaired(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s, 0xC0FFEEu, 65000, 40000); /* wraps past 65535 after ~500 packets */
    s.loss_media = 5;
    s.loss_rtx = 5;
    s.loss_rtcp = 2;
    s.quiet_tail = 5;
    sim_run(&s, 600);
    int dropped = 0, nacked = 0, both = 0;
    for (int q = 0; q < 65536; q++) {
        dropped += s.dropped[q];
        nacked += s.nacked[q];
        both += s.dropped[q] && s.nacked[q];
    }
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(s.rx, &st);
    tf_send_stats_t ts;
    tf_send_stream_get_stats(s.tx, &ts);
    printf("  600 frames, %u packets, %d dropped (5 %%): %d NACKed (%llu NACK entries, %llu "
           "RTX sent), %llu recovered, %d frames out, %llu PLI\n",
           ts.packets, dropped, nacked, (unsigned long long)st.nack_seqs,
           (unsigned long long)ts.rtx_packets, (unsigned long long)st.recovered, s.frames_out,
           (unsigned long long)st.plis);
    assert_true(dropped > 80);
    assert_int_equal(nacked, dropped); /* exactly the missing sequence numbers */
    assert_int_equal(both, dropped);
    assert_int_equal(st.recovered, (uint64_t)dropped);
    assert_int_equal(s.frames_out, 600);
    assert_int_equal(st.plis, 0);
    assert_int_equal(st.given_up, 0);
    assert_int_equal(st.frames_dropped, 0);
    assert_true(st.rtx_packets >= (uint64_t)dropped);
    sim_free(&s);
}

/* ---- (2) unrecoverable loss: PLI within max(2 RTT, 200 ms), resume at the key frame ------ */

static void unrecoverable(int64_t rtt_us)
{
    sim_t s;
    sim_init(&s, 0xBADC0DEu, 65400, rtt_us);
    s.drop_frames_from = s.drop_frames_to = 60; /* a whole inter frame, and its RTX */
    s.drop_all_rtx = true;
    sim_run(&s, 150);
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(s.rx, &st);
    int64_t bound = 2 * rtt_us > 200000 ? 2 * rtt_us : 200000;
    /* The gap is found when frame 61 arrives; its first NACK goes out reorder_wait later. */
    int64_t found = s.first_gap_detect_us - 10000;
    int key = -1;
    for (int t = 61; t < 150 && key < 0; t++)
        if (s.sent_key[t])
            key = t;
    printf("  RTT %lld ms: gap found at +0, PLI at +%lld ms (bound %lld ms), key frame %d, "
           "resumed at %d, %llu frames held back\n",
           (long long)rtt_us / 1000, (long long)(s.first_pli_us - found) / 1000,
           (long long)bound / 1000, key, s.first_out_after_loss,
           (unsigned long long)st.frames_dropped);
    assert_true(s.first_pli_us >= 0);
    assert_true(s.first_pli_us - found <= bound);
    assert_true(s.first_pli_us - found >= bound - FRAME_US); /* it did wait for repair */
    assert_true(key > 61);
    assert_int_equal(s.first_out_after_loss, key);    /* frames resume at the key frame */
    assert_int_equal(s.frames_out, 60 + (150 - key)); /* everything before and after */
    assert_int_equal(st.frames_dropped, (uint64_t)(key - 61));
    assert_int_equal(st.plis, 1);
    assert_true(st.given_up > 0);
    assert_true(st.nack_seqs > st.given_up); /* it did retry */
    assert_false(st.waiting_keyframe);
    sim_free(&s);
}

static void test_unrecoverable_loss_pli(void **state)
{
    (void)state;
    unrecoverable(40000);
    unrecoverable(300000);
}

/* ---- (3) a burst beyond the NACK list: PLI at once --------------------------------------- */

static void test_nack_overflow(void **state)
{
    (void)state;
    sim_t s;
    sim_init(&s, 0x5EEDu, 100, 40000);
    s.drop_frames_from = 40;
    s.drop_frames_to = 140; /* some 300 packets */
    s.drop_all_rtx = true;
    sim_run(&s, 220);
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(s.rx, &st);
    int lost = 0;
    for (int q = 0; q < 65536; q++)
        lost += s.drop_seq[q];
    /* The gap is found reorder_wait before its first NACK; the PLI goes out at once. */
    int64_t found = s.first_gap_detect_us - 10000;
    printf("  burst of 101 frames (%d packets): %llu NACK overflow(s), PLI %lld ms after the "
           "gap was found, resumed at frame %d\n",
           lost, (unsigned long long)st.nack_overflows, (long long)(s.first_pli_us - found) / 1000,
           s.first_out_after_loss);
    assert_true(lost > 256);
    assert_true(st.nack_overflows >= 1);
    assert_true(s.first_pli_us >= 0);
    assert_int_equal(s.first_pli_us, found); /* right away, not after the repair timeout */
    assert_true(s.first_out_after_loss > 141);
    assert_true(s.sent_key[s.first_out_after_loss]);
    sim_free(&s);
}

/* ---- (4) NACK timers, by hand ---------------------------------------------------------- */

typedef struct hand {
    tf_recv_stream_t *rx;
    uint16_t seq;
} hand_t;

static void hand_push_key(hand_t *h, int64_t now, uint16_t seq, uint32_t ts, bool marker, bool key)
{
    const uint8_t payload[] = {key ? 0x65 : 0x41, 0x9a, 0x55};
    uint8_t buf[64];
    tf_rtp_packet_t p = {.version = 2,
                         .marker = marker,
                         .payload_type = PT,
                         .seq = seq,
                         .timestamp = ts,
                         .ssrc = SSRC,
                         .payload = payload,
                         .payload_len = sizeof(payload)};
    int n = tf_rtp_marshal_to(&p, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(tf_recv_stream_push(h->rx, now, buf, (size_t)n), 0);
}

static void hand_push(hand_t *h, int64_t now, uint16_t seq, uint32_t ts, bool marker)
{
    hand_push_key(h, now, seq, ts, marker, false);
}

static void nack_timers(int64_t rtt_us, int retries, const int64_t *want_ms, int n_want,
                        int64_t give_up_ms)
{
    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_H264, SSRC, PT);
    cfg.nack_max_retries = retries;
    hand_t h = {0};
    assert_int_equal(tf_recv_stream_create(&h.rx, &cfg), 0);
    tf_recv_stream_set_rtt(h.rx, rtt_us);
    int64_t t0 = 0;
    hand_push(&h, t0, 65534, 0, true);
    hand_push(&h, t0 + 1000, 0, 3000, true); /* 65535 is missing: found at 1 ms */
    int got = 0;
    int64_t now = t0 + 1000, pli_at = -1;
    for (int guard = 0; guard < 100; guard++) {
        int64_t due = tf_recv_stream_poll_timeout(h.rx);
        if (due == INT64_MAX)
            break;
        now = due > now ? due : now;
        tf_recv_feedback_t fb;
        while (tf_recv_stream_poll_feedback(h.rx, now, &fb) == 0) {
            if (fb.nack_count) {
                assert_int_equal(fb.nack_count, 1);
                assert_int_equal(fb.nack[0], 65535);
                assert_true(got < n_want);
                assert_int_equal(now - 1000, want_ms[got] * 1000);
                got++;
            }
            if (fb.pli && pli_at < 0)
                pli_at = now - 1000;
        }
        if (pli_at >= 0)
            break;
    }
    printf("  RTT %lld ms, %d retries: %d NACKs, given up with PLI at %lld ms\n",
           (long long)rtt_us / 1000, retries, got, (long long)pli_at / 1000);
    assert_int_equal(got, n_want);
    assert_int_equal(pli_at, give_up_ms * 1000);
    tf_recv_stream_destroy(&h.rx);
}

static void test_nack_timers(void **state)
{
    (void)state;
    /* First NACK after the 10 ms reorder wait, then every max(RTT, 20 ms), until the give-up at
     * max(2 RTT, 200 ms) or the retry bound. */
    const int64_t rtt100[] = {10, 110};
    nack_timers(100000, 10, rtt100, 2, 200);
    const int64_t rtt5[] = {10, 30, 50, 70, 90, 110, 130, 150, 170, 190};
    nack_timers(5000, 10, rtt5, 10, 200);
    const int64_t few[] = {10, 30, 50};
    nack_timers(5000, 3, few, 3, 200);
    const int64_t rtt300[] = {10, 310};
    nack_timers(300000, 10, rtt300, 2, 600);
}

/* Reordering within the wait is not NACKed; beyond it, it is NACKed and then recovered. */
static void test_reordering(void **state)
{
    (void)state;
    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_H264, SSRC, PT);
    hand_t h = {0};
    assert_int_equal(tf_recv_stream_create(&h.rx, &cfg), 0);
    tf_recv_feedback_t fb;
    tf_recv_frame_t f;
    int frames = 0;
    /* 200 packets, 1 ms apart, one frame each (the first a key frame). Every 10th packet is
     * 8 ms late; packet 105 is 15 ms late. Pushed in arrival order. */
    int order[200];
    int64_t arrival[200];
    for (int i = 0; i < 200; i++) {
        order[i] = i;
        arrival[i] = (int64_t)i * 1000 + (i == 105 ? 15500 : i % 10 == 5 ? 8500 : 0);
    }
    for (int i = 1; i < 200; i++)
        for (int j = i; j > 0 && arrival[order[j]] < arrival[order[j - 1]]; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }
    for (int k = 0; k < 200; k++) {
        int i = order[k];
        int64_t now = arrival[i];
        hand_push_key(&h, now, (uint16_t)(65436 + i), (uint32_t)i * 90u, true, i == 0);
        while (tf_recv_stream_poll_feedback(h.rx, now, &fb) == 0) {
            assert_int_equal(fb.nack_count, 1);
            assert_int_equal(fb.nack[0], (uint16_t)(65436 + 105));
            assert_int_equal(now, 116000);
        }
        while (tf_recv_stream_poll_frame(h.rx, &f) == 0)
            frames++;
    }
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(h.rx, &st);
    printf("  reordering: %d frames, %llu NACKed, %llu recovered\n", frames,
           (unsigned long long)st.nack_seqs, (unsigned long long)st.recovered);
    assert_int_equal(st.nack_seqs, 1);
    assert_int_equal(st.recovered, 20);
    assert_int_equal(frames, 200);
    assert_int_equal(st.plis, 0);
    tf_recv_stream_destroy(&h.rx);
}

/* ---- (5) RFC 3550 statistics ----------------------------------------------------------- */

static void rr_push(tf_recv_stream_t *rx, int64_t now, uint16_t seq, uint32_t ts)
{
    hand_t h = {.rx = rx};
    hand_push(&h, now, seq, ts, true);
}

static void test_receiver_report(void **state)
{
    (void)state;
    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_H264, SSRC, PT);
    tf_recv_stream_t *rx = NULL;
    assert_int_equal(tf_recv_stream_create(&rx, &cfg), 0);
    tf_rtcp_report_block_t rb;
    assert_int_equal(tf_recv_stream_report_block(rx, 0, &rb), -EAGAIN);

    /* Jitter (A.8): 10 ms apart in RTP time (900 ticks), arrivals late by k × 100 µs = 9k
     * ticks with k = 0, 2, 1, 5, 5, 0. |D| = 18, 9, 36, 0, 45 and J (×16) = 18, 26, 60, 56,
     * 97: the report says 97 >> 4 = 6. */
    const int k[] = {0, 2, 1, 5, 5, 0};
    for (int i = 0; i < 6; i++)
        rr_push(rx, 1000000 + 10000 * i + 100 * k[i], (uint16_t)(65530 + i), 900u * (uint32_t)i);
    assert_int_equal(tf_recv_stream_report_block(rx, 1100000, &rb), 0);
    assert_int_equal(rb.ssrc, SSRC);
    assert_int_equal(rb.jitter, 6);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.cumulative_lost, 0);
    assert_int_equal(rb.highest_seq, 65535);
    assert_int_equal(rb.lsr, 0);
    assert_int_equal(rb.dlsr, 0);

    /* Across the wrap: 20 more sequence numbers (0..19), 4 lost (2, 3, 9, 17): fraction
     * 4 × 256 / 20 = 51, cumulative 4, extended highest 65536 + 19. LSR is the middle of the
     * last SR's NTP time, DLSR the time since it came. */
    for (int i = 0; i < 20; i++) {
        if (i == 2 || i == 3 || i == 9 || i == 17)
            continue;
        rr_push(rx, 2000000 + 10000 * i, (uint16_t)i, 900u * (uint32_t)(6 + i));
    }
    tf_rtcp_sr_t sr = {.ssrc = SSRC, .ntp = 0x0123456789abcdefull};
    tf_recv_stream_on_sr(rx, 2500000, &sr);
    assert_int_equal(tf_recv_stream_report_block(rx, 3000000, &rb), 0);
    assert_int_equal(rb.fraction_lost, 51);
    assert_int_equal(rb.cumulative_lost, 4);
    assert_int_equal(rb.highest_seq, 65536 + 19);
    assert_int_equal(rb.lsr, 0x456789ab);
    assert_int_equal(rb.dlsr, 32768); /* 0.5 s in 1/65536 s */

    /* Next interval: 10 more (20..29), one lost (25): 256 / 10 = 25, cumulative 5. */
    for (int i = 20; i < 30; i++)
        if (i != 25)
            rr_push(rx, 3000000 + 10000 * (i - 20), (uint16_t)i, 900u * (uint32_t)(6 + i));
    assert_int_equal(tf_recv_stream_report_block(rx, 3500000, &rb), 0);
    assert_int_equal(rb.fraction_lost, 25);
    assert_int_equal(rb.cumulative_lost, 5);
    assert_int_equal(rb.highest_seq, 65536 + 29);

    /* Then 10 more and the late arrival of 25 (a plain retransmission): 11 received for 10
     * expected, fraction 0, cumulative 4. */
    for (int i = 30; i < 40; i++) {
        rr_push(rx, 3600000 + 10000 * (i - 30), (uint16_t)i, 900u * (uint32_t)(6 + i));
        if (i == 31)
            rr_push(rx, 3600000 + 10000, 25, 900u * 31);
    }
    assert_int_equal(tf_recv_stream_report_block(rx, 4000000, &rb), 0);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.cumulative_lost, 4);
    assert_int_equal(rb.highest_seq, 65536 + 39);
    tf_recv_stream_destroy(&rx);
}

/* ---- (6) edges: RTX padding, other SSRCs, restarts, skipping to a key frame ------------- */

static void test_edges(void **state)
{
    (void)state;
    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_H264, SSRC, PT);
    cfg.rtx = true;
    cfg.rtx_ssrc = RTX_SSRC;
    cfg.rtx_payload_type = RTX_PT;
    tf_recv_stream_t *rx = NULL;
    assert_int_equal(tf_recv_stream_create(&rx, &cfg), 0);
    uint8_t buf[64];
    tf_rtp_packet_t p = {
        .version = 2, .payload_type = RTX_PT, .seq = 5, .ssrc = RTX_SSRC, .padding_len = 20};
    int n = tf_rtp_marshal_to(&p, buf, sizeof(buf));
    assert_int_equal(tf_recv_stream_push(rx, 0, buf, (size_t)n), 0); /* a probe */
    p.ssrc = 0x999;
    n = tf_rtp_marshal_to(&p, buf, sizeof(buf));
    assert_int_equal(tf_recv_stream_push(rx, 0, buf, (size_t)n), -EINVAL);
    p.ssrc = SSRC; /* right SSRC, wrong PT */
    n = tf_rtp_marshal_to(&p, buf, sizeof(buf));
    assert_int_equal(tf_recv_stream_push(rx, 0, buf, (size_t)n), -EINVAL);
    assert_int_equal(tf_recv_stream_push(rx, 0, buf, 5), -EPROTO);
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(rx, &st);
    assert_int_equal(st.rtx_padding, 1);
    assert_int_equal(st.packets, 0);

    /* Key frame (STAP-A SPS/PPS + IDR), inter frame, then a gap in the next inter frame
     * followed by a complete key frame: while the gap still waits, a key frame request makes
     * the stream jump to the key frame at once. */
    hand_t h = {.rx = rx};
    const uint8_t stap[] = {0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    const uint8_t idr[] = {0x65, 0x88, 0x11};
    const uint8_t *pl[] = {stap, idr};
    const size_t pl_len[] = {sizeof(stap), sizeof(idr)};
    int64_t now = 1000000;
    tf_recv_frame_t f;
    for (int round = 0; round < 2; round++) {
        uint16_t base = (uint16_t)(round * 10);
        for (int i = 0; i < 2; i++) {
            uint8_t b[64];
            tf_rtp_packet_t k = {.version = 2,
                                 .marker = i == 1,
                                 .payload_type = PT,
                                 .seq = (uint16_t)(base + i),
                                 .timestamp = base * 1000u,
                                 .ssrc = SSRC,
                                 .payload = pl[i],
                                 .payload_len = pl_len[i]};
            n = tf_rtp_marshal_to(&k, b, sizeof(b));
            assert_int_equal(tf_recv_stream_push(rx, now, b, (size_t)n), 0);
        }
        now += 20000;
        if (round == 0) {
            hand_push(&h, now, 2, 2000, true); /* inter frame */
            hand_push(&h, now, 3, 3000, false);
            hand_push(&h, now, 5, 3000, true); /* 4 missing */
            assert_int_equal(tf_recv_stream_poll_frame(rx, &f), 0);
            assert_true(f.keyframe);
            assert_int_equal(tf_recv_stream_poll_frame(rx, &f), 0);
            assert_false(f.keyframe);
            assert_int_equal(tf_recv_stream_poll_frame(rx, &f), -EAGAIN);
            hand_push(&h, now, 6, 6000, true);
            hand_push(&h, now, 7, 7000, true);
            hand_push(&h, now, 8, 8000, true);
            hand_push(&h, now, 9, 9000, true);
            tf_recv_stream_request_keyframe(rx); /* say, the decoder failed */
        }
    }
    assert_int_equal(tf_recv_stream_poll_frame(rx, &f), 0);
    assert_true(f.keyframe);
    assert_int_equal(f.first_seq, 10);
    tf_recv_stream_get_stats(rx, &st);
    assert_int_equal(st.missing, 0);
    assert_false(st.waiting_keyframe);

    /* A sequence jump of 20000: one packet is not believed, two in a row restart. */
    hand_push(&h, now, 20010, 50000, true);
    hand_push(&h, now, 20011, 51000, true);
    tf_recv_stream_get_stats(rx, &st);
    assert_int_equal(st.restarts, 1);
    assert_true(st.waiting_keyframe);
    tf_recv_feedback_t fb;
    assert_int_equal(tf_recv_stream_poll_feedback(rx, now, &fb), 0);
    assert_true(fb.pli);
    assert_int_equal(fb.nack_count, 0);
    /* PLI repeats at most every 500 ms while no key frame comes. */
    assert_int_equal(tf_recv_stream_poll_feedback(rx, now + 499999, &fb), -EAGAIN);
    assert_int_equal(tf_recv_stream_poll_timeout(rx), now + 500000);
    assert_int_equal(tf_recv_stream_poll_feedback(rx, now + 500000, &fb), 0);
    assert_true(fb.pli);
    tf_recv_stream_destroy(&rx);
    assert_null(rx);

    /* With h264_key_needs_sps_pps an IDR alone does not end the wait; with SPS + PPS it does. */
    cfg.h264_key_needs_sps_pps = true;
    assert_int_equal(tf_recv_stream_create(&rx, &cfg), 0);
    h.rx = rx;
    hand_push_key(&h, 0, 100, 0, true, true);
    now = 20000;
    for (int i = 0; i < 2; i++) {
        uint8_t b[64];
        tf_rtp_packet_t k = {.version = 2,
                             .marker = i == 1,
                             .payload_type = PT,
                             .seq = (uint16_t)(101 + i),
                             .timestamp = 3000,
                             .ssrc = SSRC,
                             .payload = pl[i],
                             .payload_len = pl_len[i]};
        n = tf_rtp_marshal_to(&k, b, sizeof(b));
        assert_int_equal(tf_recv_stream_push(rx, now, b, (size_t)n), 0);
    }
    assert_int_equal(tf_recv_stream_poll_frame(rx, &f), 0);
    assert_int_equal(f.timestamp, 3000);
    assert_true(f.keyframe);
    tf_recv_stream_get_stats(rx, &st);
    assert_int_equal(st.frames_dropped, 1);
    tf_recv_stream_destroy(&rx);

    tf_recv_stream_config_t bad = cfg;
    bad.buffer_packets = 500;
    assert_int_equal(tf_recv_stream_create(&rx, &bad), -EINVAL);
    bad = cfg;
    bad.codec = 0;
    assert_int_equal(tf_recv_stream_create(&rx, &bad), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_loss_repaired),
        cmocka_unit_test(test_unrecoverable_loss_pli),
        cmocka_unit_test(test_nack_overflow),
        cmocka_unit_test(test_nack_timers),
        cmocka_unit_test(test_reordering),
        cmocka_unit_test(test_receiver_report),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
