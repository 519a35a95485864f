/* test_scale.c — the scaler's behaviour: crop-to-fill geometry, flat colours, clipping, quality
 * against libswscale, argument checks. Bit-exactness across CPU levels is checkasm's job. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libswscale/swscale.h>

#include "codec/frame.h"
#include "mixer/cpu.h"
#include "mixer/scale.h"

/* Every level this machine has: C, then SSE2, then everything. */
static const unsigned masks[] = {0, TF_CPU_SSE2, ~0u};
#define N_MASKS (sizeof(masks) / sizeof(masks[0]))

static tf_frame_t *frame_new(int w, int h)
{
    tf_frame_t *f = tf_frame_alloc(w, h);
    assert_non_null(f);
    return f;
}

static uint8_t *px(const tf_frame_t *f, int plane, int x, int y)
{
    return f->plane[plane] + (size_t)y * f->stride[plane] + x;
}

static void scale(const tf_frame_t *src, tf_frame_t *dst, unsigned mask)
{
    tf_scaler_t *s = NULL;
    assert_int_equal(
        tf_scaler_create(&s, src->width, src->height, dst->width, dst->height, NULL, mask), 0);
    tf_scaler_run(s, (const uint8_t *const *)src->plane, src->stride, dst->plane, dst->stride);
    tf_scaler_destroy(&s);
    assert_null(s);
}

/* ---- crop-to-fill ---- */

/* 640x480 (4:3) in eight 60-row bands of distinct luma, into a 16:9 tile: the 16:9 crop is rows
 * 60..419, so the first and last bands must vanish and the others keep their proportions. */
static void test_crop_4x3_into_16x9(void **state)
{
    (void)state;
    static const uint8_t band_y[8] = {20, 50, 80, 110, 140, 170, 200, 230};
    tf_frame_t *src = frame_new(640, 480);
    tf_frame_fill(src, 0, 128, 128);
    for (int y = 0; y < 480; y++)
        memset(px(src, 0, 0, y), band_y[y / 60], 640);
    /* Markers in the 8 leftmost and rightmost chroma columns: nothing may be cut sideways. */
    for (int y = 0; y < 240; y++) {
        memset(px(src, 1, 0, y), 30, 8);
        memset(px(src, 1, 312, y), 220, 8);
    }
    for (size_t m = 0; m < N_MASKS; m++) {
        tf_frame_t *dst = frame_new(320, 180); /* 16:9, half size: each band is 30 rows */
        scale(src, dst, masks[m]);
        for (int y = 0; y < 180; y++) {
            for (int x = 0; x < 320; x++) {
                uint8_t v = *px(dst, 0, x, y);
                assert_true(v > band_y[0] && v < band_y[7]); /* bands 0 and 7 cropped away */
            }
        }
        /* Away from the band edges every row is exactly its band: bands 1..6, 30 rows each. */
        for (int band = 1; band <= 6; band++) {
            for (int y = (band - 1) * 30 + 2; y < band * 30 - 2; y++)
                assert_int_equal(*px(dst, 0, 160, y), band_y[band]);
        }
        for (int y = 0; y < 90; y++) {
            assert_int_equal(*px(dst, 1, 0, y), 30);
            assert_int_equal(*px(dst, 1, 1, y), 30);
            assert_int_equal(*px(dst, 1, 158, y), 220);
            assert_int_equal(*px(dst, 1, 159, y), 220);
        }
        tf_frame_unref(&dst);
    }
    tf_frame_unref(&src);
}

/* The transpose: 16:9 in vertical bands into a 4:3 tile loses the outer bands left and right. */
static void test_crop_16x9_into_4x3(void **state)
{
    (void)state;
    tf_frame_t *src = frame_new(1280, 720);
    tf_frame_fill(src, 0, 128, 128);
    /* Bands 160 wide: the 4:3 crop of 1280x720 is 960 wide at x = 160, exactly bands 1..6. */
    for (int y = 0; y < 720; y++)
        for (int x = 0; x < 1280; x++)
            *px(src, 0, x, y) = (uint8_t)(20 + 30 * (x / 160));
    tf_frame_t *dst = frame_new(480, 360);
    scale(src, dst, ~0u);
    for (int y = 0; y < 360; y++) {
        assert_true(*px(dst, 0, 0, y) > 20 && *px(dst, 0, 479, y) < 230);
        for (int band = 1; band <= 6; band++)
            assert_int_equal(*px(dst, 0, (band - 1) * 80 + 40, y), 20 + 30 * band);
    }
    tf_frame_unref(&dst);
    tf_frame_unref(&src);
}

/* ---- flat colours stay exactly flat ---- */

static void test_solid_stays_solid(void **state)
{
    (void)state;
    static const struct {
        int sw, sh, dw, dh;
    } sizes[] = {{1280, 720, 426, 240}, {1280, 720, 256, 144}, {640, 360, 640, 360},
                 {641, 359, 426, 240},  {320, 180, 1280, 720}, {1, 1, 2, 2},
                 {3, 5, 64, 36},        {1920, 1080, 2, 2},    {4000, 3000, 66, 38},
                 {16384, 16, 4, 2}};
    static const uint8_t colours[][3] = {
        {0, 0, 0}, {255, 255, 255}, {16, 128, 128}, {235, 16, 240}, {97, 201, 3}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        tf_frame_t *src = frame_new(sizes[i].sw, sizes[i].sh);
        tf_frame_t *dst = frame_new(sizes[i].dw, sizes[i].dh);
        for (size_t c = 0; c < sizeof(colours) / sizeof(colours[0]); c++) {
            tf_frame_fill(src, colours[c][0], colours[c][1], colours[c][2]);
            for (size_t m = 0; m < N_MASKS; m++) {
                tf_frame_fill(dst, 1, 2, 3);
                scale(src, dst, masks[m]);
                for (int p = 0; p < 3; p++) {
                    int w = p ? dst->width / 2 : dst->width, h = p ? dst->height / 2 : dst->height;
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            if (*px(dst, p, x, y) != colours[c][p])
                                fail_msg("%dx%d -> %dx%d mask %x plane %d (%d,%d): %d != %d",
                                         sizes[i].sw, sizes[i].sh, sizes[i].dw, sizes[i].dh,
                                         masks[m], p, x, y, *px(dst, p, x, y), colours[c][p]);
                }
            }
        }
        tf_frame_unref(&src);
        tf_frame_unref(&dst);
    }
}

/* ---- a natural-ish test picture: gradients, hard edges, fractal texture, fine lines ---- */

static uint32_t hash2(int x, int y, uint32_t seed)
{
    uint32_t h = (uint32_t)x * 0x8da6b343u ^ (uint32_t)y * 0xd8163841u ^ seed * 0xcb1ab31fu;
    h ^= h >> 13;
    h *= 0x85ebca6bu;
    return h ^ (h >> 16);
}

static double lattice(int x, int y, uint32_t seed)
{
    return hash2(x, y, seed) / 2147483648.0 - 1;
}

static double value_noise(double x, double y, double cell, uint32_t seed)
{
    double fx = x / cell, fy = y / cell;
    int ix = (int)floor(fx), iy = (int)floor(fy);
    double tx = fx - ix, ty = fy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    return (lattice(ix, iy, seed) * (1 - tx) + lattice(ix + 1, iy, seed) * tx) * (1 - ty) +
           (lattice(ix, iy + 1, seed) * (1 - tx) + lattice(ix + 1, iy + 1, seed) * tx) * ty;
}

static uint8_t clamp8(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
}

static void make_picture(tf_frame_t *f)
{
    const double sx = 1280.0 / f->width, sy = 720.0 / f->height;
    for (int y = 0; y < f->height; y++) {
        for (int x = 0; x < f->width; x++) {
            double u = (x + 0.5) * sx, v = (y + 0.5) * sy, l = 40 + 0.1 * u + 0.08 * v;
            double tex = 0, amp = 40;
            for (double cell = 64; cell >= 2; cell /= 2, amp *= 0.6)
                tex += amp * value_noise(u, v, cell, (uint32_t)cell);
            l += v > 380 ? tex : 0.25 * tex;
            double dx = u - 380, dy = v - 260;
            if (dx * dx + dy * dy < 140 * 140)
                l = 200 + 0.2 * tex;
            if (u > 800 && u < 1100 && v > 120 && v < 330)
                l = 30 + 0.02 * u;
            if (u > 840 && u < 1060 && v > 150 && v < 300 && ((int)(v / 6) % 3 == 0))
                l = (int)(u / 3) % 2 ? 230 : 190;
            *px(f, 0, x, y) = clamp8(l);
        }
    }
    for (int y = 0; y < tf_frame_chroma_h(f); y++) {
        for (int x = 0; x < tf_frame_chroma_w(f); x++) {
            double u = (2 * x + 1) * sx, v = (2 * y + 1) * sy;
            double dx = u - 380, dy = v - 260;
            int disc = dx * dx + dy * dy < 140 * 140;
            *px(f, 1, x, y) = clamp8(disc ? 90 : 110 + 0.03 * u + 10 * value_noise(u, v, 48, 7));
            *px(f, 2, x, y) = clamp8(disc ? 170 : 150 - 0.04 * v + 10 * value_noise(u, v, 32, 9));
        }
    }
}

/* swscale from the same crop Tafel uses: derived from scale.h's rule (centred, even origin). */
static void sws_crop_scale(const tf_frame_t *src, tf_frame_t *dst, int flags)
{
    int64_t wide = (int64_t)src->width * dst->height, tall = (int64_t)src->height * dst->width;
    int cx = 0, cy = 0, cw = src->width, ch = src->height;
    if (wide > tall) {
        cw = (int)(((int64_t)src->height * dst->width + dst->height) / (2 * dst->height)) * 2;
        cx = ((src->width - cw) / 2) & ~1;
    } else if (tall > wide) {
        ch = (int)(((int64_t)src->width * dst->height + dst->width) / (2 * dst->width)) * 2;
        cy = ((src->height - ch) / 2) & ~1;
    }
    const uint8_t *in[3] = {px(src, 0, cx, cy), px(src, 1, cx / 2, cy / 2),
                            px(src, 2, cx / 2, cy / 2)};
    struct SwsContext *c = sws_getContext(cw, ch, AV_PIX_FMT_YUV420P, dst->width, dst->height,
                                          AV_PIX_FMT_YUV420P, flags, NULL, NULL, NULL);
    assert_non_null(c);
    sws_scale(c, in, src->stride, 0, ch, dst->plane, dst->stride);
    sws_freeContext(c);
}

static double psnr_y(const tf_frame_t *a, const tf_frame_t *b)
{
    double sse = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            int d = *px(a, 0, x, y) - *px(b, 0, x, y);
            sse += d * d;
        }
    return sse > 0 ? 10 * log10(255.0 * 255.0 * a->width * a->height / sse) : 99.0;
}

/* Tafel's downscale must not be more than 0.1 dB worse than SWS_BILINEAR, both measured
 * against SWS_LANCZOS | SWS_ACCURATE_RND of the same crop. */
static void test_quality_vs_swscale(void **state)
{
    (void)state;
    static const struct {
        int sw, sh, dw, dh;
    } cases[] = {{1280, 720, 640, 360}, {1280, 720, 426, 240}, {1280, 720, 256, 144},
                 {640, 360, 426, 240},  {640, 360, 256, 144},  {1280, 720, 480, 360},
                 {1920, 1080, 426, 240}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tf_frame_t *src = frame_new(cases[i].sw, cases[i].sh);
        tf_frame_t *ref = frame_new(cases[i].dw, cases[i].dh);
        tf_frame_t *bil = frame_new(cases[i].dw, cases[i].dh);
        tf_frame_t *out = frame_new(cases[i].dw, cases[i].dh);
        make_picture(src);
        sws_crop_scale(src, ref, SWS_LANCZOS | SWS_ACCURATE_RND);
        sws_crop_scale(src, bil, SWS_BILINEAR);
        scale(src, out, ~0u);
        double p_tafel = psnr_y(out, ref), p_bil = psnr_y(bil, ref);
        print_message("%dx%d -> %dx%d: PSNR-Y tafel %.2f dB, SWS_BILINEAR %.2f dB\n", cases[i].sw,
                      cases[i].sh, cases[i].dw, cases[i].dh, p_tafel, p_bil);
        assert_true(p_tafel >= p_bil - 0.1);
        assert_true(p_tafel > 30.0);
        tf_frame_unref(&src);
        tf_frame_unref(&ref);
        tf_frame_unref(&bil);
        tf_frame_unref(&out);
    }
}

/* ---- clipping: a visible sub-rectangle is exactly that part of the full tile ---- */

static void test_visible_is_a_window(void **state)
{
    (void)state;
    static const tf_rect_t rects[] = {{0, 0, 426, 240}, {0, 0, 200, 100}, {226, 140, 200, 100},
                                      {2, 2, 2, 2},     {424, 238, 2, 2}, {100, 0, 326, 240}};
    tf_frame_t *src = frame_new(1280, 720);
    make_picture(src);
    for (size_t m = 0; m < N_MASKS; m++) {
        tf_frame_t *full = frame_new(426, 240);
        scale(src, full, masks[m]);
        for (size_t r = 0; r < sizeof(rects) / sizeof(rects[0]); r++) {
            const tf_rect_t *v = &rects[r];
            tf_frame_t *canvas = frame_new(426, 240);
            tf_frame_fill(canvas, 7, 7, 7);
            tf_scaler_t *s = NULL;
            assert_int_equal(tf_scaler_create(&s, 1280, 720, 426, 240, v, masks[m]), 0);
            uint8_t *dst[3] = {px(canvas, 0, v->x, v->y), px(canvas, 1, v->x / 2, v->y / 2),
                               px(canvas, 2, v->x / 2, v->y / 2)};
            tf_scaler_run(s, (const uint8_t *const *)src->plane, src->stride, dst, canvas->stride);
            tf_scaler_destroy(&s);
            for (int p = 0; p < 3; p++) {
                int sh = p ? 1 : 0;
                for (int y = 0; y < 240 >> sh; y++) {
                    for (int x = 0; x < 426 >> sh; x++) {
                        int inside = x >= v->x >> sh && x < (v->x + v->w) >> sh &&
                                     y >= v->y >> sh && y < (v->y + v->h) >> sh;
                        assert_int_equal(*px(canvas, p, x, y), inside ? *px(full, p, x, y) : 7);
                    }
                }
            }
            tf_frame_unref(&canvas);
        }
        tf_frame_unref(&full);
    }
    tf_frame_unref(&src);
}

/* ---- upscaling is plain bilinear: a ramp stays a monotonic ramp ---- */

static void test_upscale_ramp(void **state)
{
    (void)state;
    tf_frame_t *src = frame_new(32, 18), *dst = frame_new(320, 180);
    tf_frame_fill(src, 0, 128, 128);
    for (int y = 0; y < 18; y++)
        for (int x = 0; x < 32; x++)
            *px(src, 0, x, y) = (uint8_t)(x * 8);
    scale(src, dst, ~0u);
    for (int y = 0; y < 180; y++) {
        assert_int_equal(*px(dst, 0, 0, y), 0);
        assert_int_equal(*px(dst, 0, 319, y), 248);
        for (int x = 1; x < 320; x++) {
            int d = *px(dst, 0, x, y) - *px(dst, 0, x - 1, y);
            assert_true(d >= 0 && d <= 1);
        }
    }
    tf_frame_unref(&src);
    tf_frame_unref(&dst);
}

/* ---- arguments ---- */

static void test_invalid_args(void **state)
{
    (void)state;
    static int dummy;
    tf_scaler_t *s = (tf_scaler_t *)(void *)&dummy; /* must be reset to NULL on failure */
    assert_int_equal(tf_scaler_create(NULL, 640, 360, 320, 180, NULL, 0), -EINVAL);
    assert_int_equal(tf_scaler_create(&s, 0, 360, 320, 180, NULL, 0), -EINVAL);
    assert_null(s);
    assert_int_equal(tf_scaler_create(&s, 640, -1, 320, 180, NULL, 0), -EINVAL);
    assert_int_equal(tf_scaler_create(&s, 16385, 360, 320, 180, NULL, 0), -EINVAL);
    assert_int_equal(tf_scaler_create(&s, 640, 360, 321, 180, NULL, 0), -EINVAL);
    assert_int_equal(tf_scaler_create(&s, 640, 360, 320, 181, NULL, 0), -EINVAL);
    assert_int_equal(tf_scaler_create(&s, 640, 360, 0, 180, NULL, 0), -EINVAL);
    assert_int_equal(tf_scaler_create(&s, 640, 360, 320, 16386, NULL, 0), -EINVAL);
    static const tf_rect_t bad[] = {{1, 0, 100, 100}, {0, 1, 100, 100},   {0, 0, 101, 100},
                                    {0, 0, 100, 99},  {-2, 0, 100, 100},  {0, 0, 0, 100},
                                    {0, 0, 100, 0},   {222, 0, 100, 100}, {0, 82, 100, 100},
                                    {0, 0, 322, 180}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tf_scaler_create(&s, 640, 360, 320, 180, &bad[i], ~0u), -EINVAL);
        assert_null(s);
    }
    const tf_rect_t edge = {220, 80, 100, 100};
    assert_int_equal(tf_scaler_create(&s, 640, 360, 320, 180, &edge, ~0u), 0);
    assert_non_null(s);
    tf_scaler_destroy(&s);
    assert_null(s);
    tf_scaler_destroy(&s);
    tf_scaler_destroy(NULL);
    tf_scaler_run(NULL, NULL, NULL, NULL, NULL);
    assert_string_equal(tf_scaler_level(NULL), "c");
}

static void test_level_names(void **state)
{
    (void)state;
    tf_scaler_t *s = NULL;
    assert_int_equal(tf_scaler_create(&s, 64, 36, 32, 18, NULL, 0), 0);
    assert_string_equal(tf_scaler_level(s), "c");
    tf_scaler_destroy(&s);
    assert_int_equal(tf_scaler_create(&s, 64, 36, 32, 18, NULL, ~0u), 0);
    assert_string_equal(tf_scaler_level(s), tf_cpu_level_name(tf_cpu_flags()));
    tf_scaler_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop_4x3_into_16x9),  cmocka_unit_test(test_crop_16x9_into_4x3),
        cmocka_unit_test(test_solid_stays_solid),   cmocka_unit_test(test_quality_vs_swscale),
        cmocka_unit_test(test_visible_is_a_window), cmocka_unit_test(test_upscale_ramp),
        cmocka_unit_test(test_invalid_args),        cmocka_unit_test(test_level_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
