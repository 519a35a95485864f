/* bench_scale.c — Tafel's scaler (each CPU level) vs libswscale on grid-tile sizes: speed and
 * PSNR. Single-threaded; it measures, it does not assert (checkasm and test_scale do that).
 *
 * Usage: bench_scale [--quick]. Throughput is destination luma pixels per second (a 640x360 tile
 * is 0.2304 Mpixel, chroma included in the work but not in the count). Candidates run in short
 * alternating rounds and the median round is reported, because this machine is shared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavutil/opt.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

#include "codec/frame.h"
#include "mixer/cpu.h"
#include "mixer/scale.h"
#include "mixer/scale_internal.h"

enum { N_TAFEL = 3, N_SWS = 3, N_CAND = N_TAFEL + N_SWS, MAX_ROUNDS = 31 };

static const struct {
    const char *name;
    unsigned mask;
} tafel_levels[N_TAFEL] = {{"c", 0},
                           {"sse2", TF_CPU_SSE2},
                           {"avx2", TF_CPU_SSE2 | TF_CPU_SSSE3 | TF_CPU_SSE41 | TF_CPU_AVX2}};

static const struct {
    const char *name;
    int flags;
} sws_kinds[N_SWS] = {
    {"fast_bilinear", SWS_FAST_BILINEAR}, {"bilinear", SWS_BILINEAR}, {"area", SWS_AREA}};

static const int ref_flags = SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- a natural-ish test picture: gradients, hard edges, fractal texture, fine lines ---- */

static uint32_t hash2(int x, int y, uint32_t seed)
{
    uint32_t h = (uint32_t)x * 0x8da6b343u ^ (uint32_t)y * 0xd8163841u ^ seed * 0xcb1ab31fu;
    h ^= h >> 13;
    h *= 0x85ebca6bu;
    return h ^ (h >> 16);
}

/* Smoothly interpolated lattice noise in [-1, 1], period `cell` pixels. */
static double value_noise(double x, double y, double cell, uint32_t seed)
{
    double fx = x / cell, fy = y / cell;
    int ix = (int)floor(fx), iy = (int)floor(fy);
    double tx = fx - ix, ty = fy - iy;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    double v00 = hash2(ix, iy, seed) / 2147483648.0 - 1;
    double v10 = hash2(ix + 1, iy, seed) / 2147483648.0 - 1;
    double v01 = hash2(ix, iy + 1, seed) / 2147483648.0 - 1;
    double v11 = hash2(ix + 1, iy + 1, seed) / 2147483648.0 - 1;
    return (v00 * (1 - tx) + v10 * tx) * (1 - ty) + (v01 * (1 - tx) + v11 * tx) * ty;
}

static uint8_t clamp8(double v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v));
}

/* Coordinates are in a 1280x720 reference space so every source size shows the same scene. */
static void make_picture(tf_frame_t *f)
{
    const double sx = 1280.0 / f->width, sy = 720.0 / f->height;
    for (int y = 0; y < f->height; y++) {
        for (int x = 0; x < f->width; x++) {
            double u = (x + 0.5) * sx, v = (y + 0.5) * sy, l = 40 + 0.1 * u + 0.08 * v;
            double tex = 0, amp = 40;
            for (double cell = 64; cell >= 2; cell /= 2, amp *= 0.6)
                tex += amp * value_noise(u, v, cell, (uint32_t)cell);
            if (v > 380)
                l += tex; /* foliage-like texture in the lower half */
            else
                l += 0.25 * tex;
            double dx = u - 380, dy = v - 260;
            if (dx * dx + dy * dy < 140 * 140)
                l = 200 + 0.2 * tex; /* a bright disc with a hard edge */
            if (u > 800 && u < 1100 && v > 120 && v < 330)
                l = 30 + 0.1 * u * 0.2; /* a dark panel */
            if (u > 840 && u < 1060 && v > 150 && v < 300 && ((int)(v / 6) % 3 == 0))
                l = (int)(u / 3) % 2 ? 230 : 190; /* "text": thin lines on the panel */
            f->plane[0][(size_t)y * f->stride[0] + x] = clamp8(l);
        }
    }
    for (int y = 0; y < tf_frame_chroma_h(f); y++) {
        for (int x = 0; x < tf_frame_chroma_w(f); x++) {
            double u = (2 * x + 1) * sx, v = (2 * y + 1) * sy;
            double cu = 110 + 0.03 * u + 10 * value_noise(u, v, 48, 7);
            double cv = 150 - 0.04 * v + 10 * value_noise(u, v, 32, 9);
            double dx = u - 380, dy = v - 260;
            if (dx * dx + dy * dy < 140 * 140) {
                cu = 90;
                cv = 170;
            }
            f->plane[1][(size_t)y * f->stride[1] + x] = clamp8(cu);
            f->plane[2][(size_t)y * f->stride[2] + x] = clamp8(cv);
        }
    }
}

/* ---- plumbing ---- */

typedef struct pic {
    uint8_t *p[3];
    int stride[3];
    tf_frame_t *f;
} pic_t;

static int pic_alloc(pic_t *p, int w, int h)
{
    p->f = tf_frame_alloc(w, h);
    if (!p->f)
        return -1;
    for (int i = 0; i < 3; i++) {
        p->p[i] = p->f->plane[i];
        p->stride[i] = p->f->stride[i];
    }
    return 0;
}

static struct SwsContext *sws_make(int sw, int sh, int dw, int dh, int flags)
{
    struct SwsContext *c = sws_alloc_context();
    if (!c)
        return NULL;
    av_opt_set_int(c, "srcw", sw, 0);
    av_opt_set_int(c, "srch", sh, 0);
    av_opt_set_int(c, "src_format", AV_PIX_FMT_YUV420P, 0);
    av_opt_set_int(c, "dstw", dw, 0);
    av_opt_set_int(c, "dsth", dh, 0);
    av_opt_set_int(c, "dst_format", AV_PIX_FMT_YUV420P, 0);
    av_opt_set_int(c, "sws_flags", flags, 0);
    av_opt_set_int(c, "threads", 1, 0);
    if (sws_init_context(c, NULL, NULL) < 0) {
        sws_freeContext(c);
        return NULL;
    }
    return c;
}

static double psnr_plane(const uint8_t *a, int as, const uint8_t *b, int bs, int w, int h,
                         double *sse_out)
{
    double sse = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int d = a[(size_t)y * as + x] - b[(size_t)y * bs + x];
            sse += d * d;
        }
    *sse_out += sse;
    return sse > 0 ? 10 * log10(255.0 * 255.0 * w * h / sse) : 99.0;
}

/* Y PSNR, and PSNR over all Y, U and V samples in *yuv. */
static double psnr(const pic_t *a, const pic_t *b, int w, int h, double *yuv)
{
    double sse_y = 0, sse = 0;
    double py = psnr_plane(a->p[0], a->stride[0], b->p[0], b->stride[0], w, h, &sse_y);
    sse += sse_y;
    for (int i = 1; i < 3; i++)
        psnr_plane(a->p[i], a->stride[i], b->p[i], b->stride[i], w / 2, h / 2, &sse);
    double n = w * h * 1.5;
    *yuv = sse > 0 ? 10 * log10(255.0 * 255.0 * n / sse) : 99.0;
    return py;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct row {
    int sw, sh, dw, dh;
    double mpx[N_CAND];  /* 0 = level not available */
    double psnr[N_CAND]; /* Y */
    double psnr_yuv[N_CAND];
} row_t;

static const char *verdict(int ok, double ratio, const row_t *r)
{
    if (ok)
        return "met";
    if (r->sw == r->dw && r->sh == r->dh)
        return "MISSED (speed; both only copy rows here)";
    return ratio < 2.0 ? "MISSED (speed)" : "MISSED (PSNR)";
}

static int bench_row(row_t *r, int rounds, double round_s)
{
    const unsigned have = tf_cpu_flags();
    tf_rect_t crop;
    pic_t src, cropped, ref, out[N_CAND];
    tf_scaler_t *sc[N_TAFEL] = {NULL};
    struct SwsContext *sws[N_SWS] = {NULL}, *sref = NULL;
    const uint8_t *crop_p[3];
    int ret = -1;

    memset(&src, 0, sizeof(src));
    memset(&cropped, 0, sizeof(cropped));
    memset(&ref, 0, sizeof(ref));
    memset(out, 0, sizeof(out));
    tf__scale_crop(r->sw, r->sh, r->dw, r->dh, &crop);
    if (pic_alloc(&src, r->sw, r->sh) < 0 || pic_alloc(&cropped, crop.w, crop.h) < 0 ||
        pic_alloc(&ref, r->dw, r->dh) < 0)
        goto done;
    make_picture(src.f);
    /* swscale gets an aligned copy of the crop (its best case; the copy is not timed). */
    for (int i = 0; i < 3; i++) {
        int sh = i ? 1 : 0, cw = i ? (crop.w + 1) / 2 : crop.w, ch = i ? (crop.h + 1) / 2 : crop.h;
        for (int y = 0; y < ch; y++)
            memcpy(cropped.p[i] + (size_t)y * cropped.stride[i],
                   src.p[i] + (size_t)((crop.y >> sh) + y) * src.stride[i] + (crop.x >> sh),
                   (size_t)cw);
        crop_p[i] = cropped.p[i];
    }
    for (int k = 0; k < N_CAND; k++)
        if (pic_alloc(&out[k], r->dw, r->dh) < 0)
            goto done;
    for (int l = 0; l < N_TAFEL; l++) {
        if ((have & tafel_levels[l].mask) != tafel_levels[l].mask)
            continue;
        if (tf_scaler_create(&sc[l], r->sw, r->sh, r->dw, r->dh, NULL, tafel_levels[l].mask) < 0)
            goto done;
    }
    for (int k = 0; k < N_SWS; k++)
        if (!(sws[k] = sws_make(crop.w, crop.h, r->dw, r->dh, sws_kinds[k].flags)))
            goto done;
    if (!(sref = sws_make(crop.w, crop.h, r->dw, r->dh, ref_flags)))
        goto done;
    sws_scale(sref, crop_p, cropped.stride, 0, crop.h, ref.p, ref.stride);

    /* Calibrate: how many frames make one round of about round_s seconds per candidate. */
    int iters[N_CAND];
    for (int k = 0; k < N_CAND; k++) {
        if (k < N_TAFEL && !sc[k]) {
            iters[k] = 0;
            continue;
        }
        double t0 = now_s(), t;
        int n = 0;
        do {
            if (k < N_TAFEL)
                tf_scaler_run(sc[k], (const uint8_t *const *)src.p, src.stride, out[k].p,
                              out[k].stride);
            else
                sws_scale(sws[k - N_TAFEL], crop_p, cropped.stride, 0, crop.h, out[k].p,
                          out[k].stride);
            n++;
        } while ((t = now_s() - t0) < round_s / 4);
        iters[k] = (int)(n * round_s / t) + 1;
    }
    double times[N_CAND][MAX_ROUNDS];
    for (int round = 0; round < rounds; round++) {
        for (int j = 0; j < N_CAND; j++) {
            int k = (j + round) % N_CAND; /* rotate the order so no candidate always goes first */
            if (!iters[k])
                continue;
            double t0 = now_s();
            for (int it = 0; it < iters[k]; it++) {
                if (k < N_TAFEL)
                    tf_scaler_run(sc[k], (const uint8_t *const *)src.p, src.stride, out[k].p,
                                  out[k].stride);
                else
                    sws_scale(sws[k - N_TAFEL], crop_p, cropped.stride, 0, crop.h, out[k].p,
                              out[k].stride);
            }
            times[k][round] = (now_s() - t0) / iters[k];
        }
    }
    for (int k = 0; k < N_CAND; k++) {
        r->mpx[k] = 0;
        if (!iters[k])
            continue;
        qsort(times[k], (size_t)rounds, sizeof(double), cmp_double);
        r->mpx[k] = r->dw * r->dh / times[k][rounds / 2] * 1e-6;
        r->psnr[k] = psnr(&out[k], &ref, r->dw, r->dh, &r->psnr_yuv[k]);
    }
    ret = 0;
done:
    for (int l = 0; l < N_TAFEL; l++)
        tf_scaler_destroy(&sc[l]);
    for (int k = 0; k < N_SWS; k++)
        sws_freeContext(sws[k]);
    sws_freeContext(sref);
    tf_frame_unref(&src.f);
    tf_frame_unref(&cropped.f);
    tf_frame_unref(&ref.f);
    for (int k = 0; k < N_CAND; k++)
        tf_frame_unref(&out[k].f);
    return ret;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    if (argc > 1 && !quick) {
        fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
        return 2;
    }
    const int rounds = quick ? 3 : 15;
    const double round_s = quick ? 0.01 : 0.05;
    static const int srcs[][2] = {{640, 360}, {1280, 720}};
    static const int dsts[][2] = {{640, 360}, {426, 240}, {256, 144}}; /* 2x2, 3x3, 5x5 grid */
    row_t rows[6];
    int n = 0, misses = 0;

    printf("bench_scale: %s, %d alternating rounds of ~%.0f ms per candidate, median round; "
           "single-threaded.\n",
           quick ? "quick" : "full", rounds, round_s * 1e3);
    printf("Mpx/s = destination luma Mpixel per second (I420, all three planes scaled). PSNR in "
           "dB vs swscale LANCZOS|ACCURATE_RND|FULL_CHR_H_INT of the same crop; Tafel's levels "
           "are bit-exact so share one PSNR.\nTafel reads the whole source frame; swscale gets an "
           "aligned copy of the crop (made once, not timed).\n\n");
    for (size_t s = 0; s < 2; s++) {
        for (size_t d = 0; d < 3; d++) {
            row_t *r = &rows[n];
            *r = (row_t){srcs[s][0], srcs[s][1], dsts[d][0], dsts[d][1], {0}, {0}, {0}};
            if (bench_row(r, rounds, round_s) < 0) {
                fprintf(stderr, "bench_scale: setup failed for %dx%d -> %dx%d\n", r->sw, r->sh,
                        r->dw, r->dh);
                return 1;
            }
            n++;
        }
    }

    printf("| source | tile | tafel c | tafel sse2 | tafel avx2 | sws fast_bilinear | "
           "sws bilinear | sws area | best / bilinear | PSNR-Y tafel | fast_bil | bilinear | "
           "area | target |\n");
    printf("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    for (int i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        double best = 0;
        int tafel = -1;
        for (int k = 0; k < N_TAFEL; k++) {
            if (r->mpx[k] > best)
                best = r->mpx[k];
            if (r->mpx[k] > 0)
                tafel = k;
        }
        double ratio = best / r->mpx[N_TAFEL + 1];
        double dpsnr = r->psnr[tafel] - r->psnr[N_TAFEL + 1];
        int ok = ratio >= 2.0 && dpsnr >= -0.1;
        misses += !ok;
        printf("| %dx%d | %dx%d |", r->sw, r->sh, r->dw, r->dh);
        for (int k = 0; k < N_CAND; k++) {
            if (r->mpx[k] > 0)
                printf(" %.0f |", r->mpx[k]);
            else
                printf(" n/a |");
        }
        printf(" %.2fx | %.2f | %.2f | %.2f | %.2f | %s |\n", ratio, r->psnr[tafel],
               r->psnr[N_TAFEL], r->psnr[N_TAFEL + 1], r->psnr[N_TAFEL + 2], verdict(ok, ratio, r));
    }
    printf("\nPSNR over all Y, U and V samples (dB):\n\n");
    printf("| source | tile | tafel | sws fast_bilinear | sws bilinear | sws area |\n");
    printf("|---|---|--:|--:|--:|--:|\n");
    for (int i = 0; i < n; i++) {
        const row_t *r = &rows[i];
        printf("| %dx%d | %dx%d | %.2f | %.2f | %.2f | %.2f |\n", r->sw, r->sh, r->dw, r->dh,
               r->psnr_yuv[0], r->psnr_yuv[N_TAFEL], r->psnr_yuv[N_TAFEL + 1],
               r->psnr_yuv[N_TAFEL + 2]);
    }
    printf("\nTarget (>= 2x SWS_BILINEAR at PSNR-Y within 0.1 dB): %d of %d rows met.\n",
           n - misses, n);
    return 0;
}
