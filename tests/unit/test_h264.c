/* test_h264.c — H.264 encoder (libx264) and decoder (libavcodec) behind tf_venc / tf_vdec.
 *
 * Synthetic moving content only (no media files); no network, no wall clock in the assertions.
 * Every test prints what it measured so a reader can see the margins. */
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

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>

#include "codec/video.h"

#define FPS 15
#define FRAME_US (1000000 / FPS)

#include "media_pattern.h"

/* ---- helpers --------------------------------------------------------------------------- */

static int nal_type(const tf_venc_packet_t *p, int i)
{
    return p->data[p->nal[i].offset] & 0x1f;
}

static int has_nal(const tf_venc_packet_t *p, int type)
{
    for (int i = 0; i < p->n_nal; i++)
        if (nal_type(p, i) == type)
            return 1;
    return 0;
}

/* The NAL table must tile the access unit exactly: start code, NAL, start code, NAL... */
static void check_nal_table(const tf_venc_packet_t *p)
{
    size_t pos = 0;
    assert_true(p->n_nal > 0 && p->n_nal <= TF_VENC_MAX_NALS);
    for (int i = 0; i < p->n_nal; i++) {
        size_t off = p->nal[i].offset;
        assert_true(off == pos + 3 || off == pos + 4);
        assert_int_equal(p->data[off - 1], 1);
        assert_int_equal(p->data[off - 2], 0);
        assert_int_equal(p->data[off - 3], 0);
        assert_true(p->nal[i].size > 0);
        assert_int_equal(p->data[off] & 0x80, 0); /* forbidden_zero_bit */
        pos = off + p->nal[i].size;
    }
    assert_int_equal(pos, p->size);
}

typedef struct run {
    int frames;
    uint64_t bytes;   /* all access units */
    size_t max_bytes; /* largest access unit after the first */
    int idr_after_first;
    double psnr_sum;
    int psnr_n;
    size_t max_nal;
} run_t;

/* Encodes frames [t0, t0 + n) and, if dec is given, decodes them and accumulates Y-PSNR. */
static void encode_span(tf_venc_t *enc, tf_vdec_t *dec, tf_frame_t *src, tf_frame_t *ref, int t0,
                        int n, run_t *r)
{
    for (int t = t0; t < t0 + n; t++) {
        pattern_draw(src, t);
        tf_venc_packet_t pkt;
        assert_int_equal(tf_venc_encode(enc, src, 0, &pkt), 0);
        assert_true(pkt.size > 0);
        check_nal_table(&pkt);
        assert_true(pkt.pts_us == src->pts_us);
        r->bytes += pkt.size;
        if (r->frames > 0) {
            if (pkt.size > r->max_bytes)
                r->max_bytes = pkt.size;
            if (pkt.keyframe)
                r->idr_after_first++;
        }
        for (int i = 0; i < pkt.n_nal; i++)
            if (pkt.nal[i].size > r->max_nal)
                r->max_nal = pkt.nal[i].size;
        r->frames++;
        if (dec) {
            tf_frame_t *out = NULL;
            assert_int_equal(tf_vdec_decode(dec, pkt.data, pkt.size, pkt.pts_us, &out), 0);
            assert_non_null(out);
            assert_true(out->pts_us == src->pts_us);
            pattern_draw(ref, t);
            r->psnr_sum += psnr_y(ref, out);
            r->psnr_n++;
            tf_frame_unref(&out);
        }
    }
}

static double run_kbps(const run_t *r, int frames)
{
    return (double)r->bytes * 8.0 / ((double)frames / FPS) / 1000.0;
}

static double run_psnr(const run_t *r)
{
    return r->psnr_n ? r->psnr_sum / r->psnr_n : 0.0;
}

/* ---- (1) round trip PSNR --------------------------------------------------------------- */

static void roundtrip(int w, int h, int kbps, int frames, double min_psnr)
{
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, w, h, kbps);
    tf_venc_t *enc = NULL;
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    tf_frame_t *src = tf_frame_alloc(w, h), *ref = tf_frame_alloc(w, h);
    run_t r = {0};
    encode_span(enc, dec, src, ref, 0, frames, &r);
    tf_vdec_stats_t st;
    tf_vdec_get_stats(dec, &st);
    printf("  h264 %dx%d @ %d kbit/s (intra refresh %s): %.1f kbit/s, Y-PSNR %.2f dB over %d "
           "frames (threshold %.1f)\n",
           w, h, kbps, cfg.intra_refresh ? "on" : "off", run_kbps(&r, frames), run_psnr(&r), frames,
           min_psnr);
    assert_int_equal(st.frames, (uint64_t)frames);
    assert_int_equal(st.errors, 0);
    assert_true(run_psnr(&r) >= min_psnr);
    tf_frame_unref(&src);
    tf_frame_unref(&ref);
    tf_vdec_destroy(&dec);
    tf_venc_destroy(&enc);
    assert_null(dec);
    assert_null(enc);
}

static void test_roundtrip_psnr(void **state)
{
    (void)state;
    roundtrip(320, 180, 150, 75, 26.0);
    roundtrip(320, 180, 400, 75, 31.0);
    roundtrip(640, 360, 400, 75, 27.0);
}

/* ---- (2) constrained baseline, level 3.1 ----------------------------------------------- */

static void test_profile_constrained_baseline(void **state)
{
    (void)state;
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 640, 360, 400);
    tf_venc_t *enc = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);

    /* SPS bytes: profile_idc 66, constraint_set1 (constrained), level_idc 31 → 42x01f. */
    size_t hsize = 0;
    const uint8_t *hdr = tf_venc_headers(enc, &hsize);
    assert_non_null(hdr);
    assert_true(hsize > 8);
    assert_memory_equal(hdr, "\0\0\0\1", 4);
    assert_int_equal(hdr[4] & 0x1f, 7);
    printf("  SPS profile-level-id %02x%02x%02x\n", hdr[5], hdr[6], hdr[7]);
    assert_int_equal(hdr[5], 0x42);
    assert_true(hdr[6] & 0x40);
    assert_int_equal(hdr[7], 31);
    int have_pps = 0;
    for (size_t i = 5; i + 4 < hsize; i++)
        if (!memcmp(hdr + i, "\0\0\1", 3) && (hdr[i + 3] & 0x1f) == 8)
            have_pps = 1;
    assert_true(have_pps);

    /* And libavcodec agrees after decoding real frames. */
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    assert_non_null(ctx);
    ctx->thread_count = 1;
    assert_int_equal(avcodec_open2(ctx, codec, NULL), 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    tf_frame_t *src = tf_frame_alloc(640, 360);
    int decoded = 0;
    for (int t = 0; t < 5; t++) {
        pattern_draw(src, t);
        tf_venc_packet_t p;
        assert_int_equal(tf_venc_encode(enc, src, 0, &p), 0);
        assert_int_equal(av_new_packet(pkt, (int)p.size), 0);
        memcpy(pkt->data, p.data, p.size);
        assert_int_equal(avcodec_send_packet(ctx, pkt), 0);
        av_packet_unref(pkt);
        while (avcodec_receive_frame(ctx, frame) == 0) {
            decoded++;
            av_frame_unref(frame);
        }
    }
    printf("  libavcodec: profile %d (constrained baseline = %d), level %d, %d frames\n",
           ctx->profile, FF_PROFILE_H264_CONSTRAINED_BASELINE, ctx->level, decoded);
    assert_true(decoded > 0);
    assert_int_equal(ctx->profile, FF_PROFILE_H264_CONSTRAINED_BASELINE);
    assert_int_equal(ctx->level, 31);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&ctx);
    tf_frame_unref(&src);
    tf_venc_destroy(&enc);

    /* 1280x720 is exactly level 3.1's 3600 macroblocks: still 42e01f-compatible. */
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 1280, 720, 1200);
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    hdr = tf_venc_headers(enc, &hsize);
    assert_int_equal(hdr[5], 0x42);
    assert_int_equal(hdr[7], 31);
    tf_venc_destroy(&enc);
}

/* ---- (3) rate accuracy per tier ------------------------------------------------------- */

static void rate_tier(int w, int h, int kbps, const char *preset)
{
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, w, h, kbps);
    if (preset)
        cfg.preset = preset;
    tf_venc_t *enc = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    tf_frame_t *src = tf_frame_alloc(w, h);
    run_t r = {0};
    encode_span(enc, NULL, src, NULL, 0, 10 * FPS, &r);
    double got = run_kbps(&r, 10 * FPS);
    printf("  h264 %dx%d target %d kbit/s (%s): %.1f kbit/s over 10 s (%+.1f %%), largest "
           "frame %zu B\n",
           w, h, kbps, cfg.preset, got, 100.0 * (got - kbps) / kbps, r.max_bytes);
    assert_true(got >= kbps * 0.85 && got <= kbps * 1.15);
    tf_frame_unref(&src);
    tf_venc_destroy(&enc);
}

static void test_rate_accuracy(void **state)
{
    (void)state;
    rate_tier(320, 180, 150, NULL);
    rate_tier(640, 360, 400, NULL);
    rate_tier(1280, 720, 1200, NULL);
}

/* ---- (4) run-time bit rate and frame rate changes ------------------------------------- */

static void test_reconfig_bitrate(void **state)
{
    (void)state;
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 640, 360, 400);
    tf_venc_t *enc = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    tf_frame_t *src = tf_frame_alloc(640, 360);
    run_t a = {0}, b = {0};
    encode_span(enc, NULL, src, NULL, 0, 5 * FPS, &a);
    assert_int_equal(tf_venc_set_bitrate(enc, 150), 0);
    encode_span(enc, NULL, src, NULL, 5 * FPS, 5 * FPS, &b);
    double before = run_kbps(&a, 5 * FPS), after = run_kbps(&b, 5 * FPS);
    printf("  h264 640x360: 400 kbit/s → %.1f, reconfig to 150 → next 5 s %.1f kbit/s (%+.1f %%)"
           ", no IDR in between: %s\n",
           before, after, 100.0 * (after - 150) / 150, b.idr_after_first ? "no" : "yes");
    assert_true(after >= 150 * 0.8 && after <= 150 * 1.2);
    assert_int_equal(b.idr_after_first, 0); /* reconfig, not a reopen */
    assert_int_equal(tf_venc_set_bitrate(enc, 0), -EINVAL);
    tf_frame_unref(&src);
    tf_venc_destroy(&enc);
}

/* Feeds 7.5 fps for 10 s; bits are counted against the pts span. mode 0: encoder opened at
 * 15 fps and told set_fps(15/2); 1: opened at 7.5 fps; 2: opened at 15 fps and not told. */
static double half_rate_kbps(int mode)
{
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 150);
    if (mode == 1) {
        cfg.fps_num = 15;
        cfg.fps_den = 2;
    }
    tf_venc_t *enc = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    if (mode == 0)
        assert_int_equal(tf_venc_set_fps(enc, 15, 2), 0);
    tf_frame_t *src = tf_frame_alloc(320, 180);
    uint64_t bytes = 0;
    for (int t = 0; t < 10 * FPS; t += 2) {
        pattern_draw(src, t);
        tf_venc_packet_t p;
        assert_int_equal(tf_venc_encode(enc, src, 0, &p), 0);
        bytes += p.size;
    }
    tf_frame_unref(&src);
    tf_venc_destroy(&enc);
    return (double)bytes * 8.0 / 10.0 / 1000.0;
}

static void test_set_fps(void **state)
{
    (void)state;
    double told = half_rate_kbps(0), native = half_rate_kbps(1), untold = half_rate_kbps(2);
    printf("  h264 320x180 @ 150 kbit/s fed 7.5 fps: %.1f kbit/s after set_fps(15/2), %.1f "
           "opened at 7.5 fps, %.1f not told\n",
           told, native, untold);
    /* x264 cannot change its fps in place; the folded rate must behave like a native open. A
     * 0.4 s VBV is only 3 frames deep at 7.5 fps, which is why both land ~10 % under. */
    assert_true(fabs(told - native) <= 0.05 * native);
    assert_true(told >= 150 * 0.85 && told <= 150 * 1.15);
    assert_true(untold < 150 * 0.75); /* shows that set_fps does something */
}

/* ---- (5) forced IDR carries SPS + PPS ------------------------------------------------- */

static void forced_idr(int intra_refresh)
{
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 200);
    cfg.intra_refresh = intra_refresh;
    tf_venc_t *enc = NULL;
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    tf_frame_t *src = tf_frame_alloc(320, 180);
    for (int t = 0; t < 40; t++) {
        pattern_draw(src, t);
        int force = t == 25 || t == 26;
        tf_venc_packet_t p;
        assert_int_equal(tf_venc_encode(enc, src, force, &p), 0);
        check_nal_table(&p);
        int want_key = t == 0 || force;
        assert_int_equal(p.keyframe, want_key);
        assert_int_equal(has_nal(&p, 5), want_key);
        assert_int_equal(has_nal(&p, 7), want_key);
        assert_int_equal(has_nal(&p, 8), want_key);
        if (want_key) {
            int sps = -1, pps = -1, idr = -1;
            for (int i = 0; i < p.n_nal; i++) {
                int ty = nal_type(&p, i);
                if (ty == 7 && sps < 0)
                    sps = i;
                if (ty == 8 && pps < 0)
                    pps = i;
                if (ty == 5 && idr < 0)
                    idr = i;
            }
            assert_true(sps < pps && pps < idr);
        }
        tf_frame_t *out = NULL;
        assert_int_equal(tf_vdec_decode(dec, p.data, p.size, p.pts_us, &out), 0);
        assert_non_null(out);
        tf_frame_unref(&out);
        if (t == 25)
            printf("  forced IDR (intra refresh %s): %d NALs, %zu bytes, types",
                   intra_refresh ? "on" : "off", p.n_nal, p.size);
        if (t == 25) {
            for (int i = 0; i < p.n_nal; i++)
                printf(" %d", nal_type(&p, i));
            printf("\n");
        }
    }
    tf_frame_unref(&src);
    tf_vdec_destroy(&dec);
    tf_venc_destroy(&enc);
}

static void test_forced_idr(void **state)
{
    (void)state;
    forced_idr(0);
    forced_idr(1);
}

/* ---- (6) intra refresh keeps frames small --------------------------------------------- */

static void test_intra_refresh(void **state)
{
    (void)state;
    run_t ir = {0}, idr = {0};
    for (int mode = 0; mode < 2; mode++) {
        tf_venc_config_t cfg;
        tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 400);
        cfg.intra_refresh = mode == 0;
        cfg.keyint_max = mode == 0 ? 0 : 2 * FPS; /* IDR-only: one IDR every 2 s */
        tf_venc_t *enc = NULL;
        tf_vdec_t *dec = NULL;
        assert_int_equal(tf_venc_create(&enc, &cfg), 0);
        assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
        tf_frame_t *src = tf_frame_alloc(320, 180), *ref = tf_frame_alloc(320, 180);
        encode_span(enc, dec, src, ref, 0, 10 * FPS, mode == 0 ? &ir : &idr);
        tf_frame_unref(&src);
        tf_frame_unref(&ref);
        tf_vdec_destroy(&dec);
        tf_venc_destroy(&enc);
    }
    double avg_ir = (double)ir.bytes / ir.frames, avg_idr = (double)idr.bytes / idr.frames;
    double ratio = (double)ir.max_bytes / (double)idr.max_bytes;
    printf("  320x180 @ 400 kbit/s, 10 s: intra refresh largest %zu B (%.1fx avg %.0f B), "
           "%d IDR after the first, PSNR %.2f dB\n",
           ir.max_bytes, ir.max_bytes / avg_ir, avg_ir, ir.idr_after_first, run_psnr(&ir));
    printf("  IDR every 2 s: largest %zu B (%.1fx avg %.0f B), %d IDR after the first, PSNR "
           "%.2f dB; largest-frame ratio IR/IDR %.2f\n",
           idr.max_bytes, idr.max_bytes / avg_idr, avg_idr, idr.idr_after_first, run_psnr(&idr),
           ratio);
    assert_int_equal(ir.idr_after_first, 0);
    assert_true(idr.idr_after_first >= 4);
    assert_true(ratio < 0.75); /* measured 0.61 on this content */
}

/* ---- (7) slices fit one RTP packet ---------------------------------------------------- */

static void test_max_slice_bytes(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        tf_venc_config_t cfg;
        tf_venc_config_default(&cfg, TF_VCODEC_H264, 640, 360, 400);
        cfg.max_slice_bytes = 1100;
        cfg.intra_refresh = mode;
        tf_venc_t *enc = NULL;
        tf_vdec_t *dec = NULL;
        assert_int_equal(tf_venc_create(&enc, &cfg), 0);
        assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
        tf_frame_t *src = tf_frame_alloc(640, 360), *ref = tf_frame_alloc(640, 360);
        size_t max_nal = 0;
        int max_nals = 0;
        double psnr = 0;
        for (int t = 0; t < 45; t++) {
            pattern_draw(src, t);
            tf_venc_packet_t p;
            assert_int_equal(tf_venc_encode(enc, src, t % 15 == 0, &p), 0);
            check_nal_table(&p);
            for (int i = 0; i < p.n_nal; i++)
                if (p.nal[i].size > max_nal)
                    max_nal = p.nal[i].size;
            if (p.n_nal > max_nals)
                max_nals = p.n_nal;
            tf_frame_t *out = NULL;
            assert_int_equal(tf_vdec_decode(dec, p.data, p.size, p.pts_us, &out), 0);
            assert_non_null(out);
            pattern_draw(ref, t);
            psnr += psnr_y(ref, out);
            tf_frame_unref(&out);
        }
        printf("  640x360 @ 400, max_slice_bytes 1100, intra refresh %s: largest NAL %zu B, up "
               "to %d NALs per AU, PSNR %.2f dB\n",
               mode ? "on" : "off", max_nal, max_nals, psnr / 45);
        /* x264 counts its own NAL overhead estimate into i_slice_max_size; allow a few bytes
         * of emulation-prevention slack on top. */
        assert_true(max_nal <= 1100 + 8);
        assert_true(max_nals > 3); /* IDRs really were split */
        tf_frame_unref(&src);
        tf_frame_unref(&ref);
        tf_vdec_destroy(&dec);
        tf_venc_destroy(&enc);
    }
}

/* ---- (8) corrupt and truncated access units -------------------------------------------- */

typedef struct au {
    uint8_t *data;
    size_t size;
    int key;
    int64_t pts;
    size_t last_nal_offset; /* start code of the last NAL */
} au_t;

static au_t *encode_stream(int n, int idr_at, int max_slice)
{
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 300);
    cfg.intra_refresh = 0;
    cfg.max_slice_bytes = max_slice;
    tf_venc_t *enc = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    tf_frame_t *src = tf_frame_alloc(320, 180);
    au_t *aus = calloc((size_t)n, sizeof(*aus));
    assert_non_null(aus);
    for (int t = 0; t < n; t++) {
        pattern_draw(src, t);
        tf_venc_packet_t p;
        assert_int_equal(tf_venc_encode(enc, src, t == idr_at, &p), 0);
        aus[t].data = malloc(p.size);
        assert_non_null(aus[t].data);
        memcpy(aus[t].data, p.data, p.size);
        aus[t].size = p.size;
        aus[t].key = p.keyframe;
        aus[t].pts = p.pts_us;
        uint32_t last = p.nal[p.n_nal - 1].offset;
        aus[t].last_nal_offset = last - (last >= 4 && p.data[last - 4] == 0 ? 4 : 3);
    }
    tf_frame_unref(&src);
    tf_venc_destroy(&enc);
    return aus;
}

static void free_stream(au_t *aus, int n)
{
    for (int i = 0; i < n; i++)
        free(aus[i].data);
    free(aus);
}

/* Decodes a stream in which AU `bad` is replaced by (data, size); checks error → skip → IDR. */
static void corrupt_case(const char *what, au_t *aus, int n, int idr_at, int bad,
                         const uint8_t *data, size_t size)
{
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    tf_frame_t *ref = tf_frame_alloc(320, 180);
    int err_ret = 0, skipped = 0;
    double psnr_after = 0;
    for (int t = 0; t < n; t++) {
        tf_frame_t *out = NULL;
        int ret = t == bad ? tf_vdec_decode(dec, data, size, aus[t].pts, &out)
                           : tf_vdec_decode(dec, aus[t].data, aus[t].size, aus[t].pts, &out);
        if (t < bad) {
            assert_int_equal(ret, 0);
            assert_non_null(out);
        } else if (t == bad) {
            err_ret = ret;
            assert_true(ret == -EINVAL || ret == -EPROTO);
            assert_null(out);
        } else if (t < idr_at) {
            assert_int_equal(ret, -EAGAIN);
            assert_null(out);
            skipped++;
        } else {
            assert_int_equal(ret, 0);
            assert_non_null(out);
            pattern_draw(ref, t);
            double p = psnr_y(ref, out);
            if (t == idr_at)
                psnr_after = p;
            assert_true(p > 25.0);
        }
        tf_frame_unref(&out);
    }
    tf_vdec_stats_t st;
    tf_vdec_get_stats(dec, &st);
    printf("  %-34s → %s, %d AUs skipped, IDR decodes again (PSNR %.1f dB); stats: frames %llu "
           "errors %llu skipped %llu\n",
           what, err_ret == -EPROTO ? "-EPROTO" : "-EINVAL", skipped, psnr_after,
           (unsigned long long)st.frames, (unsigned long long)st.errors,
           (unsigned long long)st.skipped_until_key);
    assert_int_equal(st.errors, 1);
    assert_int_equal(st.skipped_until_key, (uint64_t)skipped);
    assert_int_equal(st.frames, (uint64_t)(n - 1 - skipped));
    tf_frame_unref(&ref);
    tf_vdec_destroy(&dec);
}

static void test_corrupt_recovery(void **state)
{
    (void)state;
    enum { N = 40, IDR = 30, BAD = 10 };
    au_t *aus = encode_stream(N, IDR, 0);
    assert_true(aus[IDR].key);
    uint8_t *buf = malloc(aus[BAD].size);
    assert_non_null(buf);

    /* Truncated in the middle of its only slice. */
    corrupt_case("P slice truncated to 40 %", aus, N, IDR, BAD, aus[BAD].data,
                 aus[BAD].size * 2 / 5);

    /* The slice data overwritten with pseudo-random bytes (fixed seed). */
    memcpy(buf, aus[BAD].data, aus[BAD].size);
    uint32_t seed = 12345;
    for (size_t i = 8; i < aus[BAD].size; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    corrupt_case("P slice data garbled", aus, N, IDR, BAD, buf, aus[BAD].size);
    free_stream(aus, N);

    /* Multi-slice stream: the access unit loses its last slice (a lost RTP packet). */
    aus = encode_stream(N, IDR, 500);
    assert_true(aus[BAD].last_nal_offset > 0);
    corrupt_case("P frame missing its last slice", aus, N, IDR, BAD, aus[BAD].data,
                 aus[BAD].last_nal_offset);
    free_stream(aus, N);
    free(buf);
}

static void test_garbage_no_crash(void **state)
{
    (void)state;
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    uint8_t buf[4096];
    uint32_t seed = 99;
    int errors = 0;
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)(round * 37 % (int)sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u;
            buf[i] = (uint8_t)(seed >> 24);
        }
        /* Sprinkle start codes with IDR / SPS headers so the decoder really parses. */
        if (n > 16) {
            memcpy(buf, "\0\0\0\1\x67\x42\xc0\x1f", 8);
            memcpy(buf + n / 2, "\0\0\1\x65", 4);
        }
        tf_frame_t *out = NULL;
        int ret = tf_vdec_decode(dec, buf, n, round, &out);
        assert_true(ret == 0 || ret == -EINVAL || ret == -EPROTO || ret == -EAGAIN);
        if (ret < 0 && ret != -EAGAIN)
            errors++;
        tf_frame_unref(&out);
    }
    printf("  200 garbage units: %d reported as errors, no crash\n", errors);
    assert_true(errors > 0);
    tf_frame_t *out = NULL;
    assert_int_equal(tf_vdec_decode(dec, NULL, 10, 0, &out), -EINVAL);
    assert_int_equal(tf_vdec_decode(dec, buf, 0, 0, &out), -EINVAL);
    tf_vdec_destroy(&dec);
}

/* ---- decoded frames honour frame.h and outlive their decoder -------------------------- */

static void test_decoded_frame_layout(void **state)
{
    (void)state;
    tf_venc_config_t cfg;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 300);
    tf_venc_t *enc = NULL;
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    assert_int_equal(tf_vdec_create(&dec, TF_VCODEC_H264), 0);
    tf_frame_t *src = tf_frame_alloc(320, 180);
    tf_frame_t *kept[3] = {0};
    for (int t = 0; t < 3; t++) {
        pattern_draw(src, t);
        tf_venc_packet_t p;
        assert_int_equal(tf_venc_encode(enc, src, 0, &p), 0);
        assert_int_equal(tf_vdec_decode(dec, p.data, p.size, 1000 + t, &kept[t]), 0);
        assert_non_null(kept[t]);
    }
    tf_vdec_destroy(&dec); /* frames keep their buffers alive */
    tf_venc_destroy(&enc);
    for (int t = 0; t < 3; t++) {
        tf_frame_t *f = kept[t];
        assert_int_equal(f->width, 320);
        assert_int_equal(f->height, 180);
        assert_true(f->pts_us == 1000 + t);
        unsigned sum = 0;
        for (int p = 0; p < 3; p++) {
            int w = p ? tf_frame_chroma_w(f) : f->width;
            int h = p ? tf_frame_chroma_h(f) : f->height;
            assert_int_equal((uintptr_t)f->plane[p] % TF_FRAME_ALIGN, 0);
            assert_true(f->stride[p] >= w + TF_FRAME_PAD);
            /* Read the promised slack: TF_FRAME_PAD past every row, and one spare row
             * (ASan flags it if the buffer is shorter). */
            for (int y = 0; y <= h; y++) {
                const volatile uint8_t *row = f->plane[p] + (size_t)y * f->stride[p];
                for (int x = 0; x < w + TF_FRAME_PAD; x++)
                    sum += row[x];
            }
        }
        (void)sum;
        pattern_draw(src, t);
        assert_true(psnr_y(src, f) > 28.0);
        tf_frame_unref(&kept[t]);
    }
    tf_frame_unref(&src);
}

/* ---- argument checks ------------------------------------------------------------------- */

static void test_bad_arguments(void **state)
{
    (void)state;
    tf_venc_config_t cfg;
    tf_venc_t *enc = (tf_venc_t *)1;
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 321, 180, 150);
    assert_int_equal(tf_venc_create(&enc, &cfg), -EINVAL);
    assert_null(enc);
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 0);
    assert_int_equal(tf_venc_create(&enc, &cfg), -EINVAL);
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 150);
    cfg.preset = "no-such-preset";
    assert_int_equal(tf_venc_create(&enc, &cfg), -EINVAL);
    cfg.preset = NULL; /* NULL means veryfast */
    cfg.fps_num = cfg.fps_den = 0;
    assert_int_equal(tf_venc_create(&enc, &cfg), 0);
    tf_frame_t *wrong = tf_frame_alloc(160, 90);
    tf_venc_packet_t p;
    assert_int_equal(tf_venc_encode(enc, wrong, 0, &p), -EINVAL);
    assert_int_equal(tf_venc_set_fps(enc, 0, 1), -EINVAL);
    tf_frame_unref(&wrong);
    tf_venc_destroy(&enc);
    tf_venc_destroy(&enc); /* NULL is fine */
    tf_vdec_t *dec = NULL;
    assert_int_equal(tf_vdec_create(&dec, (tf_vcodec_t)7), -EINVAL);
    tf_vdec_destroy(&dec);

    tf_venc_config_default(&cfg, TF_VCODEC_H264, 320, 180, 150);
    assert_int_equal(cfg.fps_num, 15);
    assert_int_equal(cfg.intra_refresh, 1);
    tf_venc_config_default(&cfg, TF_VCODEC_H264, 640, 360, 400);
    assert_int_equal(cfg.intra_refresh, 0);
    assert_string_equal(cfg.preset, "veryfast");
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_profile_constrained_baseline),
        cmocka_unit_test(test_roundtrip_psnr),
        cmocka_unit_test(test_rate_accuracy),
        cmocka_unit_test(test_reconfig_bitrate),
        cmocka_unit_test(test_set_fps),
        cmocka_unit_test(test_forced_idr),
        cmocka_unit_test(test_intra_refresh),
        cmocka_unit_test(test_max_slice_bytes),
        cmocka_unit_test(test_corrupt_recovery),
        cmocka_unit_test(test_garbage_no_crash),
        cmocka_unit_test(test_decoded_frame_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
