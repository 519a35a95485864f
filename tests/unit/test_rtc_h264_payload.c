/* test_rtc_h264_payload.c — server/rtc/rtp_h264.c on real x264 output: packetize at a 1200-byte
 * MTU, depacketize (in order, through a receive stream with reordering and duplicates, and with
 * lost FU-A fragments), compare byte for byte and decode with libavcodec. Hand-made payloads
 * for the malformed cases. No network, no wall clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/log.h>

#include "codec/video.h"
#include "server/rtc/recv_stream.h"
#include "server/rtc/rtp.h"
#include "server/rtc/rtp_h264.h"
#include "tests/unit/payload_test.h"

#define MTU 1200
#define MAX_PAYLOAD (MTU - TF_RTP_HEADER_SIZE)
#define SSRC 0x1234abcdu
#define PT 102

/* ---- packetizing into RTP -------------------------------------------------------------- */

typedef struct pkt {
    uint8_t buf[MTU];
    size_t len;
    int frame;
    uint8_t type;      /* payload NAL type: 1..23, 24 STAP-A, 28 FU-A */
    uint8_t fu_header; /* FU-A only */
} pkt_t;

typedef struct stream {
    pkt_t *p;
    size_t n, cap;
    int single, stap_a, fu_a;
} stream_t;

static void packetize_clip(const clip_frame_t *aus, int n, uint16_t first_seq, stream_t *s)
{
    memset(s, 0, sizeof(*s));
    uint16_t seq = first_seq;
    for (int t = 0; t < n; t++) {
        tf_rtp_h264_packetizer_t pk;
        assert_int_equal(tf_rtp_h264_packetize_init(&pk, &aus[t].pkt, MAX_PAYLOAD), 0);
        uint8_t payload[MAX_PAYLOAD];
        bool marker = false;
        int len, count = 0;
        while ((len = tf_rtp_h264_packetize_next(&pk, payload, sizeof(payload), &marker)) > 0) {
            if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 256;
                s->p = realloc(s->p, s->cap * sizeof(*s->p));
                assert_non_null(s->p);
            }
            pkt_t *o = &s->p[s->n++];
            tf_rtp_packet_t r = {.version = 2,
                                 .marker = marker,
                                 .payload_type = PT,
                                 .seq = seq++,
                                 .timestamp = (uint32_t)(t * 6000),
                                 .ssrc = SSRC,
                                 .payload = payload,
                                 .payload_len = (size_t)len};
            int w = tf_rtp_marshal_to(&r, o->buf, sizeof(o->buf));
            assert_true(w > 0 && w <= MTU); /* every packet fits the MTU */
            o->len = (size_t)w;
            o->frame = t;
            o->type = payload[0] & 0x1f;
            o->fu_header = o->type == 28 ? payload[1] : 0;
            s->single += o->type < 24;
            s->stap_a += o->type == 24;
            s->fu_a += o->type == 28;
            count++;
        }
        assert_int_equal(len, -EAGAIN);
        assert_true(marker);
        assert_true(count > 0);
        /* A key frame opens with SPS + PPS (+ SEI) in one STAP-A. */
        if (aus[t].pkt.keyframe) {
            const pkt_t *first = &s->p[s->n - (size_t)count];
            assert_int_equal(first->type, 24);
            const uint8_t *pl = first->buf + TF_RTP_HEADER_SIZE;
            assert_int_equal(pl[3] & 0x1f, 7);
            size_t n0 = (size_t)pl[1] << 8 | pl[2];
            assert_int_equal(pl[3 + n0 + 2] & 0x1f, 8);
        }
    }
}

static void push_rtp(tf_rtp_h264_depacketizer_t *d, const pkt_t *p)
{
    tf_rtp_packet_t r;
    assert_int_equal(tf_rtp_parse(&r, p->buf, p->len), 0);
    assert_int_equal(
        tf_rtp_h264_depacketize_push(d, r.seq, r.timestamp, r.marker, r.payload, r.payload_len), 0);
}

/* ---- (1) in-order round trip, with and without a slice cap ----------------------------- */

static void roundtrip(int w, int h, int kbps, int max_slice, bool expect_fu)
{
    enum { N = 30 };
    const int keys[] = {17};
    clip_frame_t *aus = encode_clip(TF_VCODEC_H264, w, h, kbps, max_slice, N, keys, 1);
    stream_t s;
    packetize_clip(aus, N, 65500, &s); /* crosses the sequence wrap */
    printf("  %dx%d @ %d kbit/s, slices %d: %zu packets (%d single, %d STAP-A, %d FU-A)\n", w, h,
           kbps, max_slice, s.n, s.single, s.stap_a, s.fu_a);
    assert_true(s.stap_a >= 2);
    if (expect_fu)
        assert_true(s.fu_a > 0);

    static uint8_t buf[1 << 20];
    tf_rtp_h264_depacketizer_t d;
    tf_rtp_h264_depacketize_init(&d, buf, sizeof(buf));
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    int next = 0;
    for (size_t i = 0; i < s.n; i++) {
        push_rtp(&d, &s.p[i]);
        tf_rtp_h264_frame_t f;
        if (tf_rtp_h264_depacketize_poll(&d, &f) != 0)
            continue;
        assert_int_equal(s.p[i].frame, next);
        assert_int_equal(f.size, aus[next].pkt.size);
        assert_memory_equal(f.data, aus[next].pkt.data, f.size); /* byte-identical */
        assert_int_equal(f.nal_count, aus[next].pkt.n_nal);
        assert_int_equal(f.keyframe, aus[next].pkt.keyframe);
        assert_int_equal(f.has_sps_pps, aus[next].pkt.keyframe);
        assert_false(f.after_loss);
        assert_int_equal(f.timestamp, (uint32_t)(next * 6000));
        decode_ok(dec, f.data, f.size, next);
        next++;
    }
    assert_int_equal(next, N);
    assert_int_equal(d.incomplete, 0);
    tf_vdec_stats_t vs;
    tf_vdec_get_stats(dec, &vs);
    assert_int_equal(vs.errors, 0);
    assert_int_equal(vs.frames, N);
    tf_vdec_destroy(&dec);
    free(s.p);
    free_clip(aus, N);
}

static void test_roundtrip_fu_a(void **state)
{
    (void)state;
    roundtrip(640, 360, 600, 0, true);
}

static void test_roundtrip_sliced(void **state)
{
    (void)state;
    roundtrip(640, 360, 600, 1100, false);
    roundtrip(320, 180, 150, 1100, false);
}

/* ---- (2) through a receive stream: reordering and duplicates --------------------------- */

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void test_reorder_and_duplicates(void **state)
{
    (void)state;
    enum { N = 40, WINDOW = 6 };
    const int keys[] = {25};
    clip_frame_t *aus = encode_clip(TF_VCODEC_H264, 640, 360, 500, 0, N, keys, 1);
    stream_t s;
    packetize_clip(aus, N, 1000, &s);

    /* Shuffle inside windows of 6 packets and repeat every 15th packet later. */
    uint32_t rng = 0x9e3779b9u;
    size_t order_n = 0, *order = malloc((s.n + s.n / 10 + 1) * sizeof(*order));
    assert_non_null(order);
    for (size_t base = 0; base < s.n; base += WINDOW) {
        size_t n = s.n - base < WINDOW ? s.n - base : WINDOW, idx[WINDOW];
        for (size_t i = 0; i < n; i++)
            idx[i] = base + i;
        for (size_t i = n; i > 1; i--) {
            size_t j = rng_next(&rng) % i, tmp = idx[i - 1];
            idx[i - 1] = idx[j];
            idx[j] = tmp;
        }
        for (size_t i = 0; i < n; i++) {
            order[order_n++] = idx[i];
            if (idx[i] % 15 == 0 && idx[i] > 0)
                order[order_n++] = idx[i] - 1;
        }
    }

    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_H264, SSRC, PT);
    tf_recv_stream_t *rs = NULL;
    assert_int_equal(tf_recv_stream_create(&rs, &cfg), 0);
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    int next = 0;
    int64_t now = 1000000;
    for (size_t i = 0; i < order_n; i++, now += 1000) {
        assert_int_equal(tf_recv_stream_push(rs, now, s.p[order[i]].buf, s.p[order[i]].len), 0);
        tf_recv_feedback_t fb;
        assert_int_equal(tf_recv_stream_poll_feedback(rs, now, &fb), -EAGAIN); /* no NACK */
        tf_recv_frame_t f;
        while (tf_recv_stream_poll_frame(rs, &f) == 0) {
            assert_true(next < N);
            assert_int_equal(f.size, aus[next].pkt.size);
            assert_memory_equal(f.data, aus[next].pkt.data, f.size);
            assert_int_equal(f.keyframe, aus[next].pkt.keyframe);
            decode_ok(dec, f.data, f.size, next);
            next++;
        }
    }
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(rs, &st);
    printf("  %zu packets in %zu deliveries: %llu duplicates + %llu late copies, %d frames in "
           "order\n",
           s.n, order_n, (unsigned long long)st.duplicates, (unsigned long long)st.late, next);
    assert_int_equal(next, N);
    assert_true(st.duplicates + st.late > 0);
    assert_int_equal(st.duplicates + st.late, order_n - s.n);
    assert_int_equal(st.nack_seqs, 0);
    assert_int_equal(st.plis, 0);
    tf_vdec_destroy(&dec);
    tf_recv_stream_destroy(&rs);
    assert_null(rs);
    free(order);
    free(s.p);
    free_clip(aus, N);
}

/* ---- (3) a lost FU-A fragment: that frame is not delivered, the next key frame recovers -- */

static void lose_fragment(int which) /* 0: start, 1: middle, 2: end */
{
    enum { N = 24, KEY = 14 };
    const int keys[] = {KEY};
    clip_frame_t *aus = encode_clip(TF_VCODEC_H264, 640, 360, 600, 0, N, keys, 1);
    stream_t s;
    packetize_clip(aus, N, 40000, &s);
    /* The victim: a FU-A fragment of an inter frame before the key frame. */
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < s.n && victim == SIZE_MAX; i++) {
        const pkt_t *p = &s.p[i];
        if (p->type != 28 || p->frame < 3 || p->frame >= KEY - 2)
            continue;
        bool start = p->fu_header & 0x80, end = p->fu_header & 0x40;
        if ((which == 0 && start) || (which == 1 && !start && !end) || (which == 2 && end))
            victim = i;
    }
    assert_true(victim != SIZE_MAX);
    int lost_frame = s.p[victim].frame;

    static uint8_t buf[1 << 20];
    tf_rtp_h264_depacketizer_t d;
    tf_rtp_h264_depacketize_init(&d, buf, sizeof(buf));
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    bool waiting = false;
    int delivered = 0, decoded = 0, dropped = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (i == victim)
            continue;
        push_rtp(&d, &s.p[i]);
        tf_rtp_h264_frame_t f;
        if (tf_rtp_h264_depacketize_poll(&d, &f) != 0)
            continue;
        int t = s.p[i].frame;
        assert_true(t != lost_frame); /* the broken frame never comes out */
        assert_int_equal(f.size, aus[t].pkt.size);
        assert_memory_equal(f.data, aus[t].pkt.data, f.size);
        assert_int_equal(f.after_loss, t == lost_frame + 1);
        delivered++;
        /* What a receiver does: after a loss, wait for a key frame. */
        if (f.after_loss)
            waiting = true;
        if (waiting && !f.keyframe) {
            dropped++;
            continue;
        }
        waiting = false;
        decode_ok(dec, f.data, f.size, t);
        decoded++;
    }
    printf("  lost %s fragment of frame %d: %d delivered, %d held back, %d decoded\n",
           which == 0   ? "first"
           : which == 1 ? "a middle"
                        : "the last",
           lost_frame, delivered, dropped, decoded);
    assert_int_equal(d.incomplete, 1);
    assert_int_equal(delivered, N - 1);
    assert_int_equal(dropped, KEY - lost_frame - 1);
    assert_int_equal(decoded, N - (KEY - lost_frame));
    tf_vdec_stats_t vs;
    tf_vdec_get_stats(dec, &vs);
    assert_int_equal(vs.errors, 0);
    tf_vdec_destroy(&dec);
    free(s.p);
    free_clip(aus, N);
}

static void test_lost_fragment(void **state)
{
    (void)state;
    lose_fragment(0);
    lose_fragment(1);
    lose_fragment(2);
}

/* ---- (4) the packetizer on a hand-made access unit ------------------------------------- */

static void test_packetizer_layout(void **state)
{
    (void)state;
    static uint8_t data[4000];
    tf_venc_packet_t au;
    memset(&au, 0, sizeof(au));
    /* SPS (10 bytes, NRI 3), PPS (4, NRI 3), SEI (20, NRI 0), IDR (3001, NRI 3), slice (30). */
    const uint32_t sizes[] = {10, 4, 20, 3001, 30};
    const uint8_t hdrs[] = {0x67, 0x68, 0x06, 0x65, 0x41};
    uint32_t off = 0;
    for (int i = 0; i < 5; i++) {
        memcpy(data + off, "\0\0\0\1", 4);
        off += 4;
        au.nal[i].offset = off;
        au.nal[i].size = sizes[i];
        data[off] = hdrs[i];
        for (uint32_t j = 1; j < sizes[i]; j++)
            data[off + j] = (uint8_t)(1 + (i * 7 + j) % 250);
        off += sizes[i];
    }
    au.data = data;
    au.size = off;
    au.n_nal = 5;

    tf_rtp_h264_packetizer_t pk;
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 1000), 0);
    uint8_t out[1100];
    bool m;
    /* 1: STAP-A of SPS, PPS, SEI: 1 + (2+10) + (2+4) + (2+20) = 41 bytes, NRI the max (3). */
    assert_int_equal(tf_rtp_h264_packetize_next(&pk, out, 40, &m), -ENOBUFS);
    assert_int_equal(tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m), 41);
    assert_int_equal(out[0], 0x78);
    assert_false(m);
    /* 2..5: the IDR's 3000 body bytes in 4 FU-A fragments of 750 (998 would be the room). */
    int sizes_seen[4];
    for (int k = 0; k < 4; k++) {
        int n = tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m);
        sizes_seen[k] = n - 2;
        assert_int_equal(out[0], 0x7c); /* NRI 3, type 28 */
        assert_int_equal(out[1] & 0x1f, 5);
        assert_int_equal(!!(out[1] & 0x80), k == 0);
        assert_int_equal(!!(out[1] & 0x40), k == 3);
        assert_false(m);
    }
    for (int k = 0; k < 4; k++)
        assert_int_equal(sizes_seen[k], 750);
    /* 6: the last slice alone, with the marker. */
    assert_int_equal(tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m), 30);
    assert_int_equal(out[0], 0x41);
    assert_true(m);
    assert_int_equal(tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m), -EAGAIN);

    /* The IDR alone: a 3-byte budget gives 3000 one-byte fragments; a 1002-byte budget (room
     * 1000) exactly three of 1000; a 1001-byte one (room 999) four of 750. */
    au.nal[0] = au.nal[3];
    au.n_nal = 1;
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 3), 0);
    int frags = 0;
    while (tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m) == 3)
        frags++;
    assert_int_equal(frags, 3000);
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 1002), 0);
    for (int k = 0; k < 3; k++)
        assert_int_equal(tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m), 1002);
    assert_true(m);
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 1001), 0);
    assert_int_equal(tf_rtp_h264_packetize_next(&pk, out, sizeof(out), &m), 752);
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 2), -EINVAL);
    au.nal[0].size = 0;
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 1000), -EINVAL);
    au.nal[0].size = 4000;
    assert_int_equal(tf_rtp_h264_packetize_init(&pk, &au, 1000), -EINVAL);
}

static void test_annexb_split(void **state)
{
    (void)state;
    const int keys[] = {3};
    clip_frame_t *aus = encode_clip(TF_VCODEC_H264, 320, 180, 300, 600, 5, keys, 1);
    for (int t = 0; t < 5; t++) {
        tf_venc_packet_t p;
        assert_int_equal(tf_rtp_h264_annexb_split(aus[t].data, aus[t].pkt.size, &p),
                         aus[t].pkt.n_nal);
        assert_int_equal(p.keyframe, aus[t].pkt.keyframe);
        for (int i = 0; i < p.n_nal; i++) {
            assert_int_equal(p.nal[i].offset, aus[t].pkt.nal[i].offset);
            assert_int_equal(p.nal[i].size, aus[t].pkt.nal[i].size);
        }
    }
    free_clip(aus, 5);
    tf_venc_packet_t p;
    const uint8_t bad1[] = {0, 0, 2, 0x65};
    const uint8_t bad2[] = {0, 0, 1, 0, 0, 1, 0x65};
    const uint8_t ok[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce};
    assert_int_equal(tf_rtp_h264_annexb_split(bad1, sizeof(bad1), &p), -EPROTO);
    assert_int_equal(tf_rtp_h264_annexb_split(bad2, sizeof(bad2), &p), -EPROTO);
    assert_int_equal(tf_rtp_h264_annexb_split(ok, sizeof(ok), &p), 2);
    assert_int_equal(p.nal[0].offset, 4);
    assert_int_equal(p.nal[0].size, 2);
    assert_int_equal(p.nal[1].offset, 9);
    assert_int_equal(p.nal[1].size, 2);
}

/* ---- (5) malformed and broken payloads ------------------------------------------------- */

typedef struct dp {
    tf_rtp_h264_depacketizer_t d;
    uint8_t buf[256];
    uint16_t seq;
} dp_t;

static int push(dp_t *x, uint32_t ts, bool marker, const uint8_t *p, size_t n)
{
    return tf_rtp_h264_depacketize_push(&x->d, x->seq++, ts, marker, p, n);
}

static void test_depacketizer_malformed(void **state)
{
    (void)state;
    dp_t x;
    tf_rtp_h264_frame_t f;
    tf_rtp_h264_depacketize_init(&x.d, x.buf, sizeof(x.buf));
    x.seq = 7;

    /* A good STAP-A + FU-A frame first. */
    const uint8_t stap[] = {0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    const uint8_t fu1[] = {0x7c, 0x85, 0x88, 0x80};
    const uint8_t fu2[] = {0x7c, 0x45, 0x21};
    assert_int_equal(push(&x, 100, false, stap, sizeof(stap)), 0);
    assert_int_equal(push(&x, 100, false, fu1, sizeof(fu1)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), -EAGAIN);
    assert_int_equal(push(&x, 100, true, fu2, sizeof(fu2)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), 0);
    const uint8_t want[] = {0,    0,    0, 1, 0x67, 0x42, 0,    0,    0,   1,
                            0x68, 0xce, 0, 0, 1,    0x65, 0x88, 0x80, 0x21};
    assert_int_equal(f.size, sizeof(want));
    assert_memory_equal(f.data, want, sizeof(want));
    assert_true(f.keyframe && f.has_sps_pps);
    assert_int_equal(f.first_seq, 7);
    assert_int_equal(f.last_seq, 9);

    /* Malformed payloads: each one's frame is dropped. */
    const uint8_t stap_short[] = {0x78, 0, 5, 0x67, 0x42};
    const uint8_t stap_zero[] = {0x78, 0, 0, 0, 1, 0x41};
    const uint8_t stap_nested[] = {0x78, 0, 2, 0x78, 0x41};
    const uint8_t fu_se[] = {0x7c, 0xc5, 0x88};
    const uint8_t fu_short[] = {0x7c, 0x85};
    const uint8_t fbit[] = {0xc1, 0x9a};
    const uint8_t stap_b[] = {0x19, 0, 0, 0, 2, 0x41, 0x9a};
    const uint8_t type0[] = {0x00, 0x9a};
    const uint8_t *bad[] = {stap_short, stap_zero, stap_nested, fu_se,
                            fu_short,   fbit,      stap_b,      type0};
    const size_t bad_len[] = {sizeof(stap_short), sizeof(stap_zero), sizeof(stap_nested),
                              sizeof(fu_se),      sizeof(fu_short),  sizeof(fbit),
                              sizeof(stap_b),     sizeof(type0)};
    uint32_t ts = 200;
    const uint8_t slice[] = {0x41, 0x9a, 0x22};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++, ts += 100) {
        assert_int_equal(push(&x, ts, false, slice, sizeof(slice)), 0);
        assert_int_equal(push(&x, ts, true, bad[i], bad_len[i]), -EPROTO);
        assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), -EAGAIN);
    }
    assert_int_equal(x.d.malformed, sizeof(bad) / sizeof(bad[0]));

    /* Broken FU-A sequences: continuation without a start, a new start before the end, a
     * type change, a frame that ends inside a FU-A. */
    const uint8_t fu_mid[] = {0x5c, 0x01, 0x11};
    const uint8_t fu_start1[] = {0x5c, 0x81, 0x9a};
    const uint8_t fu_end5[] = {0x5c, 0x45, 0x11};
    uint64_t incomplete = x.d.incomplete;
    assert_int_equal(push(&x, ts, true, fu_mid, sizeof(fu_mid)), 0);
    ts += 100;
    assert_int_equal(push(&x, ts, false, fu_start1, sizeof(fu_start1)), 0);
    assert_int_equal(push(&x, ts, true, fu_start1, sizeof(fu_start1)), 0);
    ts += 100;
    assert_int_equal(push(&x, ts, false, fu_start1, sizeof(fu_start1)), 0);
    assert_int_equal(push(&x, ts, true, fu_end5, sizeof(fu_end5)), 0);
    ts += 100;
    assert_int_equal(push(&x, ts, true, fu_start1, sizeof(fu_start1)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), -EAGAIN);
    assert_int_equal(x.d.incomplete - incomplete, 4);

    /* Start code emulation inside a NAL: not delivered. Trailing zeros: trimmed. */
    const uint8_t emul[] = {0x41, 0x9a, 0, 0, 1, 0x55};
    ts += 100;
    assert_int_equal(push(&x, ts, true, emul, sizeof(emul)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), -EAGAIN);
    const uint8_t trail[] = {0x78, 0, 4, 0x41, 0x9a, 0, 0, 0, 2, 0x41, 0x80};
    ts += 100;
    assert_int_equal(push(&x, ts, true, trail, sizeof(trail)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), 0);
    const uint8_t trimmed[] = {0, 0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x41, 0x80};
    assert_int_equal(f.size, sizeof(trimmed));
    assert_memory_equal(f.data, trimmed, sizeof(trimmed));
    assert_false(f.keyframe);

    /* A frame bigger than the buffer is dropped; the next one is fine. */
    uint8_t big[300];
    memset(big, 0x55, sizeof(big));
    big[0] = 0x41;
    ts += 100;
    assert_int_equal(push(&x, ts, true, big, sizeof(big)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), -EAGAIN);
    ts += 100;
    assert_int_equal(push(&x, ts, true, slice, sizeof(slice)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), 0);

    /* Padding keeps the boundary; a missing marker is noticed at the next timestamp. */
    assert_int_equal(push(&x, ts, false, NULL, 0), 0);
    ts += 100;
    assert_int_equal(push(&x, ts, true, slice, sizeof(slice)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), 0);
    assert_false(f.after_loss);
    ts += 100;
    assert_int_equal(push(&x, ts, false, slice, sizeof(slice)), 0);
    ts += 100;
    assert_int_equal(push(&x, ts, true, slice, sizeof(slice)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), 0);
    assert_true(f.after_loss);
    assert_int_equal(f.timestamp, ts);

    /* After a gap, a frame must open with a NAL that can start an access unit. */
    const uint8_t slice_mid[] = {0x41, 0x1a, 0x22}; /* first_mb_in_slice != 0 */
    x.seq += 5;
    ts += 100;
    assert_int_equal(push(&x, ts, true, slice_mid, sizeof(slice_mid)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), -EAGAIN);
    x.seq += 5;
    ts += 100;
    assert_int_equal(push(&x, ts, true, slice, sizeof(slice)), 0);
    assert_int_equal(tf_rtp_h264_depacketize_poll(&x.d, &f), 0);
    assert_true(f.after_loss);
}

static void test_payload_info(void **state)
{
    (void)state;
    tf_rtp_h264_payload_info_t i;
    const uint8_t sps_stap[] = {0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    const uint8_t idr[] = {0x65, 0x88};
    const uint8_t idr_mid[] = {0x65, 0x08};
    const uint8_t fu_idr[] = {0x7c, 0x85, 0x88};
    const uint8_t fu_idr_cont[] = {0x7c, 0x05, 0x88};
    const uint8_t p_slice[] = {0x41, 0x9a};
    const uint8_t aud_stap[] = {0x18, 0, 2, 0x09, 0xf0, 0, 2, 0x67, 0x42};
    tf_rtp_h264_payload_info(sps_stap, sizeof(sps_stap), &i);
    assert_true(i.au_start && i.key_start);
    tf_rtp_h264_payload_info(idr, sizeof(idr), &i);
    assert_true(i.au_start && i.key_start);
    tf_rtp_h264_payload_info(idr_mid, sizeof(idr_mid), &i);
    assert_false(i.au_start || i.key_start);
    tf_rtp_h264_payload_info(fu_idr, sizeof(fu_idr), &i);
    assert_true(i.au_start && i.key_start);
    tf_rtp_h264_payload_info(fu_idr_cont, sizeof(fu_idr_cont), &i);
    assert_false(i.au_start || i.key_start);
    tf_rtp_h264_payload_info(p_slice, sizeof(p_slice), &i);
    assert_true(i.au_start && !i.key_start);
    tf_rtp_h264_payload_info(aud_stap, sizeof(aud_stap), &i);
    assert_true(i.au_start && i.key_start);
    tf_rtp_h264_payload_info(NULL, 0, &i);
    assert_false(i.au_start || i.key_start);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_fu_a),         cmocka_unit_test(test_roundtrip_sliced),
        cmocka_unit_test(test_reorder_and_duplicates), cmocka_unit_test(test_lost_fragment),
        cmocka_unit_test(test_packetizer_layout),      cmocka_unit_test(test_annexb_split),
        cmocka_unit_test(test_depacketizer_malformed), cmocka_unit_test(test_payload_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
