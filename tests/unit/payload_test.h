/* payload_test.h — what the RTP payload tests of real encoder output (test_rtc_h264_payload.c,
 * test_rtc_vp8_payload.c) share: a moving test picture, a clip encoded with tf_venc and kept in
 * memory, and a decode that must succeed. Include after <cmocka.h>; header-only. */
#ifndef TF_TESTS_PAYLOAD_TEST_H
#define TF_TESTS_PAYLOAD_TEST_H

#include <stdlib.h>
#include <string.h>

#include "codec/video.h"

static void pattern_draw(tf_frame_t *f, int t)
{
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            f->plane[0][(size_t)y * f->stride[0] + x] =
                (uint8_t)((x * 3 + y * 2 + t * 5) ^ ((x / 8 + t) * (y / 8) * 37));
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < tf_frame_chroma_h(f); y++)
            for (int x = 0; x < tf_frame_chroma_w(f); x++)
                f->plane[p][(size_t)y * f->stride[p] + x] = (uint8_t)(128 + ((x + y * p + t) & 31));
    f->pts_us = (int64_t)t * 66666;
}

typedef struct clip_frame {
    uint8_t *data;
    tf_venc_packet_t pkt; /* pkt.data points at data; pkt.size, pkt.keyframe, H.264's NALs */
} clip_frame_t;

/* Encodes n frames of pattern_draw(), a key frame at t = 0 and at every t in keys[]; max_slice
 * is H.264's slice cap in bytes (0: none). */
static clip_frame_t *encode_clip(tf_vcodec_t codec, int w, int h, int kbps, int max_slice, int n,
                                 const int *keys, int nkeys)
{
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, codec, w, h, kbps);
    cfg.max_slice_bytes = max_slice;
    tf_venc_t *enc = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    tf_frame_t *src = tf_frame_alloc(w, h);
    assert_non_null(src);
    clip_frame_t *v = calloc((size_t)n, sizeof(*v));
    assert_non_null(v);
    for (int t = 0; t < n; t++) {
        int force = 0;
        for (int k = 0; k < nkeys; k++)
            force |= keys[k] == t;
        pattern_draw(src, t);
        tf_venc_packet_t p;
        assert_int_equal(tf_venc_encode(enc, src, force, &p), 0);
        assert_true(p.size > 0);
        v[t].data = malloc(p.size);
        assert_non_null(v[t].data);
        memcpy(v[t].data, p.data, p.size);
        v[t].pkt = p;
        v[t].pkt.data = v[t].data;
        assert_int_equal(p.keyframe, t == 0 || force);
    }
    tf_frame_unref(&src);
    tf_venc_destroy(&enc);
    return v;
}

static void free_clip(clip_frame_t *v, int n)
{
    for (int t = 0; t < n; t++)
        free(v[t].data);
    free(v);
}

static void decode_ok(tf_vdec_t *dec, const uint8_t *data, size_t size, int t)
{
    tf_frame_t *out = NULL;
    assert_int_equal(tf_vdec_decode(dec, data, size, (int64_t)t * 66666, &out), 0);
    assert_non_null(out);
    tf_frame_unref(&out);
}

#endif
