/* test_rtc_vp8_payload.c — server/rtc/rtp_vp8.c: payload descriptor vectors (RFC 7741 §4.2),
 * real libvpx frames packetized at a 1200-byte MTU and depacketized (in order, with losses, and
 * through a receive stream with reordering and duplicates), compared byte for byte and decoded.
 * No network, no wall clock. */
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
#include "server/rtc/rtp_vp8.h"
#include "tests/unit/payload_test.h"

#define MTU 1200
#define MAX_PAYLOAD (MTU - TF_RTP_HEADER_SIZE)
#define SSRC 0x55667788u
#define PT 96
#define PICTURE_ID0 32760 /* the 15-bit picture id wraps inside the clip */

/* ---- descriptor vectors ---------------------------------------------------------------- */

typedef struct vec {
    uint8_t bytes[8];
    size_t desc_len;
    tf_rtp_vp8_desc_t d;
} vec_t;

static const vec_t vectors[] = {
    /* S, PID 0, no extension. */
    {{0x10, 0xaa}, 1, {.start = true}},
    /* PID 3, N. */
    {{0x23, 0xaa}, 1, {.non_reference = true, .partition = 3}},
    /* X, I with M: 15-bit picture id 0x0123. */
    {{0x90, 0x80, 0x81, 0x23, 0xaa},
     4,
     {.start = true, .has_picture_id = true, .long_picture_id = true, .picture_id = 0x123}},
    /* X, I (7-bit 0x12), L (TL0PICIDX 0x34), T (TID 2, Y 0). */
    {{0x80, 0xe0, 0x12, 0x34, 0x80, 0xaa},
     5,
     {.has_picture_id = true,
      .picture_id = 0x12,
      .has_tl0picidx = true,
      .tl0picidx = 0x34,
      .has_tid = true,
      .tid = 2}},
    /* Everything: N, S, PID 4, picture id 0x7fff, TL0 5, TID 1 + Y, KEYIDX 31. */
    {{0xb4, 0xf0, 0xff, 0xff, 0x05, 0x7f, 0xaa},
     6,
     {.non_reference = true,
      .start = true,
      .partition = 4,
      .has_picture_id = true,
      .long_picture_id = true,
      .picture_id = 0x7fff,
      .has_tl0picidx = true,
      .tl0picidx = 5,
      .has_tid = true,
      .tid = 1,
      .layer_sync = true,
      .has_keyidx = true,
      .keyidx = 31}},
    /* K without T: the T/K byte carries KEYIDX only. */
    {{0x90, 0x10, 0x0b, 0xaa}, 3, {.start = true, .has_keyidx = true, .keyidx = 11}},
};

static void assert_desc_equal(const tf_rtp_vp8_desc_t *a, const tf_rtp_vp8_desc_t *b)
{
    assert_int_equal(a->non_reference, b->non_reference);
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->partition, b->partition);
    assert_int_equal(a->has_picture_id, b->has_picture_id);
    assert_int_equal(a->long_picture_id, b->long_picture_id);
    assert_int_equal(a->picture_id, b->picture_id);
    assert_int_equal(a->has_tl0picidx, b->has_tl0picidx);
    assert_int_equal(a->tl0picidx, b->tl0picidx);
    assert_int_equal(a->has_tid, b->has_tid);
    assert_int_equal(a->tid, b->tid);
    assert_int_equal(a->layer_sync, b->layer_sync);
    assert_int_equal(a->has_keyidx, b->has_keyidx);
    assert_int_equal(a->keyidx, b->keyidx);
}

static void test_descriptor_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const vec_t *v = &vectors[i];
        tf_rtp_vp8_desc_t d;
        size_t n = 0;
        assert_int_equal(tf_rtp_vp8_desc_parse(&d, v->bytes, v->desc_len + 1, &n), 0);
        assert_int_equal(n, v->desc_len);
        assert_desc_equal(&d, &v->d);
        uint8_t out[TF_RTP_VP8_MAX_DESC];
        assert_int_equal(tf_rtp_vp8_desc_size(&v->d), v->desc_len);
        assert_int_equal(tf_rtp_vp8_desc_build(&v->d, out, sizeof(out)), (int)v->desc_len);
        assert_memory_equal(out, v->bytes, v->desc_len);
        assert_int_equal(tf_rtp_vp8_desc_build(&v->d, out, v->desc_len - 1), -ENOBUFS);
        /* Every truncation, including "descriptor but no VP8 byte", is -EPROTO. */
        for (size_t len = 0; len <= v->desc_len; len++)
            assert_int_equal(tf_rtp_vp8_desc_parse(&d, v->bytes, len, &n), -EPROTO);
    }
    tf_rtp_vp8_desc_t bad = {.has_picture_id = true, .picture_id = 0x80};
    uint8_t out[8];
    assert_int_equal(tf_rtp_vp8_desc_build(&bad, out, sizeof(out)), -EINVAL);
    bad = (tf_rtp_vp8_desc_t){.partition = 8};
    assert_int_equal(tf_rtp_vp8_desc_build(&bad, out, sizeof(out)), -EINVAL);

    /* Key frame from the payload header: S, PID 0 and P clear. */
    const uint8_t key[] = {0x10, 0x50, 0x02, 0x00};
    const uint8_t inter[] = {0x10, 0x51, 0x02, 0x00};
    const uint8_t cont[] = {0x00, 0x50, 0x02, 0x00};
    const uint8_t part1[] = {0x11, 0x50, 0x02, 0x00};
    assert_true(tf_rtp_vp8_payload_is_keyframe(key, sizeof(key)));
    assert_false(tf_rtp_vp8_payload_is_keyframe(inter, sizeof(inter)));
    assert_false(tf_rtp_vp8_payload_is_keyframe(cont, sizeof(cont)));
    assert_false(tf_rtp_vp8_payload_is_keyframe(part1, sizeof(part1)));
    assert_false(tf_rtp_vp8_payload_is_keyframe(key, 1));
}

/* ---- real frames ----------------------------------------------------------------------- */

/* A VP8 clip: key frames at t = 0 and key_at, every frame's tag well-formed. */
static clip_frame_t *encode_vp8(int w, int h, int kbps, int n, int key_at)
{
    clip_frame_t *v = encode_clip(TF_VCODEC_VP8, w, h, kbps, 0, n, &key_at, 1);
    for (int t = 0; t < n; t++) {
        bool key = false;
        assert_true(tf_rtp_vp8_frame_well_formed(v[t].data, v[t].pkt.size, &key));
        assert_int_equal(key, v[t].pkt.keyframe);
    }
    return v;
}

typedef struct pkt {
    uint8_t buf[MTU];
    size_t len;
    int frame;
    bool first, last;
} pkt_t;

static pkt_t *packetize_clip(const clip_frame_t *v, int n, uint16_t seq, size_t *count)
{
    size_t cap = 1024, k = 0;
    pkt_t *p = malloc(cap * sizeof(*p));
    assert_non_null(p);
    for (int t = 0; t < n; t++) {
        tf_rtp_vp8_desc_t tmpl = {.has_picture_id = true,
                                  .long_picture_id = true,
                                  .picture_id = (uint16_t)((PICTURE_ID0 + t) & 0x7fff)};
        tf_rtp_vp8_packetizer_t pk;
        assert_int_equal(
            tf_rtp_vp8_packetize_init(&pk, v[t].data, v[t].pkt.size, &tmpl, MAX_PAYLOAD), 0);
        uint8_t payload[MAX_PAYLOAD];
        bool marker;
        int len, in_frame = 0;
        size_t smallest = SIZE_MAX, largest = 0;
        while ((len = tf_rtp_vp8_packetize_next(&pk, payload, sizeof(payload), &marker)) > 0) {
            if (k == cap) {
                cap *= 2;
                p = realloc(p, cap * sizeof(*p));
                assert_non_null(p);
            }
            tf_rtp_packet_t r = {.version = 2,
                                 .marker = marker,
                                 .payload_type = PT,
                                 .seq = seq++,
                                 .timestamp = (uint32_t)t * 6000u,
                                 .ssrc = SSRC,
                                 .payload = payload,
                                 .payload_len = (size_t)len};
            int w = tf_rtp_marshal_to(&r, p[k].buf, sizeof(p[k].buf));
            assert_true(w > 0 && w <= MTU);
            p[k].len = (size_t)w;
            p[k].frame = t;
            p[k].first = in_frame == 0;
            p[k].last = marker;
            /* S only on the first packet; the key frame flag readable from it. */
            tf_rtp_vp8_desc_t d;
            size_t dl;
            assert_int_equal(tf_rtp_vp8_desc_parse(&d, payload, (size_t)len, &dl), 0);
            assert_int_equal(d.start, in_frame == 0);
            assert_int_equal(d.picture_id, tmpl.picture_id);
            if (in_frame == 0)
                assert_int_equal(tf_rtp_vp8_payload_is_keyframe(payload, (size_t)len),
                                 v[t].pkt.keyframe);
            smallest = (size_t)len < smallest ? (size_t)len : smallest;
            largest = (size_t)len > largest ? (size_t)len : largest;
            in_frame++;
            k++;
        }
        assert_int_equal(len, -EAGAIN);
        assert_true(largest - smallest <= 1); /* near-equal packets */
    }
    *count = k;
    return p;
}

static void push_rtp(tf_rtp_vp8_depacketizer_t *d, const pkt_t *p)
{
    tf_rtp_packet_t r;
    assert_int_equal(tf_rtp_parse(&r, p->buf, p->len), 0);
    assert_int_equal(
        tf_rtp_vp8_depacketize_push(d, r.seq, r.timestamp, r.marker, r.payload, r.payload_len), 0);
}

static void test_roundtrip(void **state)
{
    (void)state;
    enum { N = 30, KEY = 17 };
    clip_frame_t *v = encode_vp8(640, 360, 600, N, KEY);
    size_t n;
    pkt_t *p = packetize_clip(v, N, 65530, &n);
    static uint8_t buf[1 << 20];
    tf_rtp_vp8_depacketizer_t d;
    tf_rtp_vp8_depacketize_init(&d, buf, sizeof(buf));
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_VP8), 0);
    int next = 0;
    for (size_t i = 0; i < n; i++) {
        push_rtp(&d, &p[i]);
        tf_rtp_vp8_frame_t f;
        if (tf_rtp_vp8_depacketize_poll(&d, &f) != 0)
            continue;
        assert_int_equal(p[i].frame, next);
        assert_int_equal(f.size, v[next].pkt.size);
        assert_memory_equal(f.data, v[next].data, f.size);
        assert_int_equal(f.keyframe, v[next].pkt.keyframe);
        assert_true(f.has_picture_id);
        assert_int_equal(f.picture_id, (PICTURE_ID0 + next) & 0x7fff);
        assert_int_equal(f.timestamp, (uint32_t)next * 6000u);
        assert_false(f.after_loss);
        decode_ok(dec, f.data, f.size, next);
        next++;
    }
    printf("  640x360 VP8: %d frames in %zu packets, all byte-identical and decoded\n", next, n);
    assert_int_equal(next, N);
    tf_vdec_stats_t vs;
    tf_vdec_get_stats(dec, &vs);
    assert_int_equal(vs.errors, 0);
    tf_vdec_destroy(&dec);
    free(p);
    free_clip(v, N);
}

/* One packet of an inter frame lost (the first with S, a middle one, the last with the
 * marker): that frame never comes out, and decoding resumes at the next key frame. */
static void lose_packet(int which)
{
    enum { N = 24, KEY = 14 };
    clip_frame_t *v = encode_vp8(640, 360, 1200, N, KEY);
    size_t n;
    pkt_t *p = packetize_clip(v, N, 100, &n);
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < n && victim == SIZE_MAX; i++) {
        if (p[i].frame < 3 || p[i].frame >= KEY - 2 || (p[i].first && p[i].last))
            continue;
        if ((which == 0 && p[i].first) || (which == 1 && !p[i].first && !p[i].last) ||
            (which == 2 && p[i].last))
            victim = i;
    }
    assert_true(victim != SIZE_MAX);
    int lost = p[victim].frame;
    static uint8_t buf[1 << 20];
    tf_rtp_vp8_depacketizer_t d;
    tf_rtp_vp8_depacketize_init(&d, buf, sizeof(buf));
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_VP8), 0);
    bool waiting = false;
    int delivered = 0, decoded = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == victim)
            continue;
        push_rtp(&d, &p[i]);
        tf_rtp_vp8_frame_t f;
        if (tf_rtp_vp8_depacketize_poll(&d, &f) != 0)
            continue;
        int t = p[i].frame;
        assert_true(t != lost);
        assert_memory_equal(f.data, v[t].data, v[t].pkt.size);
        assert_int_equal(f.after_loss, t == lost + 1);
        delivered++;
        waiting = waiting || f.after_loss;
        if (waiting && !f.keyframe)
            continue;
        waiting = false;
        decode_ok(dec, f.data, f.size, t);
        decoded++;
    }
    printf("  lost the %s packet of frame %d: %d delivered, %d decoded\n",
           which == 0   ? "first"
           : which == 1 ? "middle"
                        : "last",
           lost, delivered, decoded);
    assert_int_equal(d.incomplete, 1);
    assert_int_equal(delivered, N - 1);
    assert_int_equal(decoded, N - (KEY - lost));
    tf_vdec_destroy(&dec);
    free(p);
    free_clip(v, N);
}

static void test_lost_packet(void **state)
{
    (void)state;
    lose_packet(0);
    lose_packet(1);
    lose_packet(2);
}

static void test_reorder_and_duplicates(void **state)
{
    (void)state;
    enum { N = 30, KEY = 20 };
    clip_frame_t *v = encode_vp8(640, 360, 800, N, KEY);
    size_t n;
    pkt_t *p = packetize_clip(v, N, 65000, &n);
    tf_recv_stream_config_t cfg;
    tf_recv_stream_config_default(&cfg, TF_RECV_CODEC_VP8, SSRC, PT);
    tf_recv_stream_t *rs = NULL;
    assert_int_equal(tf_recv_stream_create(&rs, &cfg), 0);
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_VP8), 0);
    /* Swap neighbours pairwise from the start, send every 7th packet twice. */
    int next = 0;
    int64_t now = 5000000;
    for (size_t i = 0; i < n; i++, now += 1000) {
        size_t j = (i % 2 == 0 && i + 1 < n) ? i + 1 : (i % 2 ? i - 1 : i);
        for (int copy = 0; copy < (j % 7 == 0 ? 2 : 1); copy++)
            assert_int_equal(tf_recv_stream_push(rs, now, p[j].buf, p[j].len), 0);
        tf_recv_feedback_t fb;
        assert_int_equal(tf_recv_stream_poll_feedback(rs, now, &fb), -EAGAIN);
        tf_recv_frame_t f;
        while (tf_recv_stream_poll_frame(rs, &f) == 0) {
            assert_int_equal(f.size, v[next].pkt.size);
            assert_memory_equal(f.data, v[next].data, f.size);
            assert_int_equal(f.keyframe, v[next].pkt.keyframe);
            decode_ok(dec, f.data, f.size, next);
            next++;
        }
    }
    tf_recv_stats_t st;
    tf_recv_stream_get_stats(rs, &st);
    assert_int_equal(next, N);
    assert_true(st.duplicates > 0);
    assert_int_equal(st.nack_seqs, 0);
    tf_vdec_destroy(&dec);
    tf_recv_stream_destroy(&rs);
    free(p);
    free_clip(v, N);
}

/* ---- hand-made broken sequences -------------------------------------------------------- */

static void test_depacketizer_rules(void **state)
{
    (void)state;
    uint8_t buf[64];
    tf_rtp_vp8_depacketizer_t d;
    tf_rtp_vp8_frame_t f;
    tf_rtp_vp8_depacketize_init(&d, buf, sizeof(buf));
    /* A minimal inter frame (tag: P=1, version 0, show, first partition 2 bytes) in two parts. */
    const uint8_t a[] = {0x90, 0x80, 0x80, 0x07, 0x51, 0x00, 0x00};
    const uint8_t b[] = {0x80, 0x80, 0x80, 0x07, 0x11, 0x22, 0x33};
    const uint8_t b_other_pid[] = {0x80, 0x80, 0x80, 0x08, 0x11, 0x22, 0x33};
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 1, 90, false, a, sizeof(a)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 2, 90, true, b, sizeof(b)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), 0);
    assert_int_equal(f.size, 6);
    assert_false(f.keyframe);
    assert_int_equal(f.picture_id, 7);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), -EAGAIN);

    /* No S on the first packet. */
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 3, 180, true, b, sizeof(b)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), -EAGAIN);
    /* A gap inside the frame. */
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 4, 270, false, a, sizeof(a)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 6, 270, true, b, sizeof(b)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), -EAGAIN);
    /* The picture id changes inside the frame. */
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 7, 360, false, a, sizeof(a)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 8, 360, true, b_other_pid, sizeof(b)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), -EAGAIN);
    /* The timestamp changes without a marker: the open frame is dropped, the new one is fine. */
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 9, 450, false, a, sizeof(a)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 10, 540, false, a, sizeof(a)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 11, 540, true, b, sizeof(b)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), 0);
    assert_true(f.after_loss);
    assert_int_equal(f.first_seq, 10);
    assert_int_equal(d.incomplete, 4);
    /* First partition longer than the frame: the tag does not check out. */
    const uint8_t cut[] = {0x10, 0xf1, 0x00, 0x00, 0x01};
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 12, 630, true, cut, sizeof(cut)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), -EAGAIN);
    /* A malformed descriptor. */
    const uint8_t trunc[] = {0x90, 0x80};
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 13, 720, true, trunc, sizeof(trunc)), -EPROTO);
    assert_int_equal(d.malformed, 1);
    /* Padding between frames keeps the sequence. */
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 14, 720, false, NULL, 0), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 15, 810, false, a, sizeof(a)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 16, 810, true, b, sizeof(b)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), 0);
    /* Bigger than the buffer. */
    uint8_t big[80] = {0x10, 0x51, 0x00, 0x00};
    assert_int_equal(tf_rtp_vp8_depacketize_push(&d, 17, 900, true, big, sizeof(big)), 0);
    assert_int_equal(tf_rtp_vp8_depacketize_poll(&d, &f), -EAGAIN);

    /* Key frame tags. */
    /* First partition 2 bytes, 320x240. */
    const uint8_t key[] = {0x50, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0xaa, 0xbb};
    const uint8_t key_bad_code[] = {0x50, 0, 0, 0x9d, 0x01, 0x2b, 0x40, 0x01, 0xf0, 0, 0xaa, 0xbb};
    const uint8_t key_zero_size[] = {0x50, 0, 0, 0x9d, 0x01, 0x2a, 0, 0, 0xf0, 0, 0xaa, 0xbb};
    bool k = false;
    assert_true(tf_rtp_vp8_frame_well_formed(key, sizeof(key), &k));
    assert_true(k);
    assert_false(tf_rtp_vp8_frame_well_formed(key_bad_code, sizeof(key_bad_code), &k));
    assert_false(tf_rtp_vp8_frame_well_formed(key_zero_size, sizeof(key_zero_size), &k));
    assert_false(tf_rtp_vp8_frame_well_formed(key, 9, &k));
}

static void test_packetizer_sizes(void **state)
{
    (void)state;
    uint8_t frame[2500], out[1200];
    memset(frame, 0x5a, sizeof(frame));
    tf_rtp_vp8_packetizer_t pk;
    bool m;
    /* One-byte descriptor, 1000-byte budget: 2500 bytes in three packets of 834/833/833. */
    assert_int_equal(tf_rtp_vp8_packetize_init(&pk, frame, sizeof(frame), NULL, 1000), 0);
    assert_int_equal(tf_rtp_vp8_packetize_next(&pk, out, 834, &m), -ENOBUFS);
    assert_int_equal(tf_rtp_vp8_packetize_next(&pk, out, sizeof(out), &m), 835);
    assert_int_equal(out[0], 0x10);
    assert_int_equal(tf_rtp_vp8_packetize_next(&pk, out, sizeof(out), &m), 834);
    assert_int_equal(out[0], 0x00);
    assert_false(m);
    assert_int_equal(tf_rtp_vp8_packetize_next(&pk, out, sizeof(out), &m), 834);
    assert_true(m);
    assert_int_equal(tf_rtp_vp8_packetize_next(&pk, out, sizeof(out), &m), -EAGAIN);
    tf_rtp_vp8_desc_t tmpl = {.has_picture_id = true, .long_picture_id = true, .picture_id = 1};
    assert_int_equal(tf_rtp_vp8_packetize_init(&pk, frame, 10, &tmpl, 4), -EINVAL);
    assert_int_equal(tf_rtp_vp8_packetize_init(&pk, frame, 10, &tmpl, 5), 0);
    int count = 0;
    while (tf_rtp_vp8_packetize_next(&pk, out, sizeof(out), &m) == 5)
        count++;
    assert_int_equal(count, 10);
    assert_int_equal(tf_rtp_vp8_packetize_init(&pk, frame, 0, NULL, 100), -EINVAL);
    tmpl.picture_id = 0x8000;
    assert_int_equal(tf_rtp_vp8_packetize_init(&pk, frame, 10, &tmpl, 100), -EINVAL);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_vectors), cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_lost_packet),        cmocka_unit_test(test_reorder_and_duplicates),
        cmocka_unit_test(test_depacketizer_rules), cmocka_unit_test(test_packetizer_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
