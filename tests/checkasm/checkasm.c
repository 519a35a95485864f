/* checkasm.c — every scaler kernel at every CPU level vs C, bit-exact, with guard bands; no
 * quality checks (tests/unit/test_scale.c) and no swscale comparison (bench/bench_scale.c).
 *
 * Usage: checkasm [--seed N] [--iters N] [--bench]. The seed is printed on the first line; rerun
 * with --seed to reproduce a failure. Exit status is non-zero on any mismatch. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mixer/cpu.h"
#include "mixer/scale.h"
#include "mixer/scale_internal.h"

#define GUARD 64 /* guard bytes on each side of every destination */
#define GUARD_BYTE 0xa5
#define SRC_SLACK 64 /* what scale.h promises kernels may read past a source row */

typedef struct level {
    const char *name;
    unsigned mask;
} level_t;

typedef struct ctx {
    uint64_t rng;
    int passed, failed, printed;
    level_t levels[3];
    int nlevels;
} ctx_t;

/* xorshift64*: deterministic for a given seed, which is all a reproducer needs. */
static uint32_t rnd(ctx_t *c)
{
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (uint32_t)((c->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static int rnd_range(ctx_t *c, int lo, int hi) /* inclusive */
{
    return lo + (int)(rnd(c) % (uint32_t)(hi - lo + 1));
}

/* Mostly small sizes, sometimes vector-sized +-1, sometimes large. */
static int rnd_width(ctx_t *c, int max)
{
    int v;
    switch (rnd(c) % 4) {
    case 0:
        v = rnd_range(c, 1, 8);
        break;
    case 1:
        v = 16 * rnd_range(c, 1, 8) + rnd_range(c, -1, 1);
        break;
    case 2:
        v = rnd_range(c, 1, 100);
        break;
    default:
        v = rnd_range(c, 1, max);
        break;
    }
    return v < 1 ? 1 : v > max ? max : v;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "checkasm: out of memory\n");
        exit(2);
    }
    return p;
}

/* n non-negative int16 weights summing to exactly `total`, some of them zero. */
static void rnd_weights(ctx_t *c, int16_t *w, int n, int total)
{
    int left = total;
    for (int i = 0; i < n; i++)
        w[i] = 0;
    while (left > 0) {
        int i = rnd_range(c, 0, n - 1);
        int v = rnd_range(c, 1, left > 4096 ? 4096 : left);
        w[i] = (int16_t)(w[i] + v);
        left -= v;
    }
}

/* Zeroed and 64-byte aligned, as the scaler allocates its tables. */
static void *zalloc64(size_t n)
{
    n = (n + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, n ? n : 64);
    if (!p) {
        fprintf(stderr, "checkasm: out of memory\n");
        exit(2);
    }
    memset(p, 0, n ? n : 64);
    return p;
}

static int check_guard(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != GUARD_BYTE)
            return (int)i;
    return -1;
}

/* A failure message on stderr; after the first 30 only the count goes on. */
__attribute__((format(printf, 2, 3))) static void failf(ctx_t *c, const char *fmt, ...)
{
    if (c->printed++ >= 30) {
        if (c->printed == 31)
            fprintf(stderr, "checkasm: further failures not shown\n");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

static void report(ctx_t *c, int ok)
{
    if (ok)
        c->passed++;
    else
        c->failed++;
}

/* ---- vfilter ---- */

static void test_vfilter(ctx_t *c, int iters)
{
    for (int it = 0; it < iters; it++) {
        const int w = rnd_width(c, 2100);
        const int ntaps = rnd_range(c, 1, rnd(c) % 4 ? 12 : TF__SCALE_MAX_VTAPS);
        const int nsrc = rnd_range(c, 1, ntaps);
        uint8_t **srows = xmalloc(sizeof(*srows) * (size_t)nsrc);
        const uint8_t **rows = xmalloc(sizeof(*rows) * (size_t)ntaps);
        int16_t *coef = xmalloc(sizeof(*coef) * (size_t)ntaps);
        /* Exactly SRC_SLACK bytes after each row, so ASan sees any read further out. */
        for (int r = 0; r < nsrc; r++) {
            srows[r] = xmalloc((size_t)w + SRC_SLACK);
            int mode = rnd_range(c, 0, 3);
            for (int i = 0; i < w + SRC_SLACK; i++)
                srows[r][i] = mode == 0 ? 255 : mode == 1 ? 0 : (uint8_t)rnd(c);
        }
        for (int k = 0; k < ntaps; k++)
            rows[k] = srows[rnd_range(c, 0, nsrc - 1)];
        rnd_weights(c, coef, ntaps, rnd(c) % 4 ? 1 << 14 : rnd_range(c, 1, 1 << 14));

        const size_t n = (size_t)w + TF__SCALE_VOUT_PAD;
        int16_t *ref = xmalloc(sizeof(int16_t) * n);
        uint8_t *buf = xmalloc(sizeof(int16_t) * n + 2 * GUARD);
        tf__scale_vfilter_c(ref, rows, coef, ntaps, w);
        for (int l = 0; l < c->nlevels; l++) {
            tf__scale_dsp_t dsp;
            tf__scale_dsp_init(&dsp, c->levels[l].mask);
            memset(buf, GUARD_BYTE, sizeof(int16_t) * n + 2 * GUARD);
            int16_t *out = (int16_t *)(void *)(buf + GUARD);
            dsp.vfilter(out, rows, coef, ntaps, w);
            int ok = 1, g;
            for (int i = 0; i < w && ok; i++) {
                if (out[i] != ref[i]) {
                    failf(c, "FAIL vfilter level %s w %d ntaps %d: column %d got %d want %d\n",
                          c->levels[l].name, w, ntaps, i, out[i], ref[i]);
                    ok = 0;
                }
            }
            if (ok && ((g = check_guard(buf, GUARD)) >= 0 ||
                       (g = check_guard(buf + GUARD + sizeof(int16_t) * n, GUARD)) >= 0)) {
                failf(c, "FAIL vfilter level %s w %d ntaps %d: guard byte %d written\n",
                      c->levels[l].name, w, ntaps, g);
                ok = 0;
            }
            report(c, ok);
        }
        for (int r = 0; r < nsrc; r++)
            free(srows[r]);
        free(srows);
        free(rows);
        free(coef);
        free(ref);
        free(buf);
    }
}

/* ---- hfilter ---- */

enum { H_GENERIC, H_PAIRS, H_FOUR };

/* One of the three horizontal kernels on random tables that meet that kernel's contract. */
static void test_hfilter(ctx_t *c, int iters, int kind)
{
    static const char *const names[] = {"hfilter", "hfilter_pairs", "hfilter4"};
    const char *name = names[kind];
    for (int it = 0; it < iters; it++) {
        const int w = rnd_width(c, 2100);
        const int taps = kind == H_FOUR ? 4
                         : kind == H_PAIRS
                             ? 8
                             : TF__SCALE_HTAP_ALIGN * rnd_range(c, 1, rnd(c) % 4 ? 2 : 6);
        /* hfilter4 also runs two rows per call; both rows and the gap between them are checked. */
        const int rows = kind == H_FOUR ? rnd_range(c, 1, 2) : 1;
        const int nout =
            (w + TF__SCALE_HOUT_ALIGN - 1) / TF__SCALE_HOUT_ALIGN * TF__SCALE_HOUT_ALIGN;
        const int window = taps < 8 ? 8 : taps; /* what SIMD may read from an offset on */
        const int srcn = rnd_range(c, 1, 3 * w) + window + 4;
        const int sstride = srcn + rnd_range(c, 0, 40), dstride = w + rnd_range(c, 0, 40);
        const size_t dsize = (size_t)dstride * (size_t)(rows - 1) + (size_t)w + 2 * GUARD;
        int16_t *src = xmalloc(sizeof(*src) * (size_t)sstride * (size_t)rows);
        int32_t *off = calloc((size_t)nout, sizeof(*off));
        int16_t *coef = calloc((size_t)nout * (size_t)taps, sizeof(*coef));
        uint8_t *shuf = calloc((size_t)nout, 8);
        if (!off || !coef || !shuf)
            exit(2);
        int mode = rnd_range(c, 0, 2);
        for (int i = 0; i < sstride * rows; i++)
            src[i] = (int16_t)(mode == 0 ? 32764 : rnd_range(c, 0, 32764));
        int pos = 0;
        for (int x = 0; x < w; x++) {
            /* Monotonic like real tables most of the time, arbitrary otherwise. */
            if (rnd(c) % 8 == 0)
                pos = rnd_range(c, 0, srcn - window - 4);
            else if (pos + 3 <= srcn - window - 4)
                pos += rnd_range(c, 0, 3);
            off[x] = pos;
            if (kind == H_PAIRS && (x & 1))
                off[x] = off[x - 1];
            if (kind == H_FOUR && (x & 1))
                off[x] = off[x - 1] + rnd_range(c, 0, 4);
            int len = rnd_range(c, 1, taps);
            rnd_weights(c, coef + (size_t)x * taps, len,
                        rnd(c) % 4 ? 1 << 14 : rnd_range(c, 1, 1 << 14));
        }
        if (kind != H_GENERIC && (w & 1))
            off[w] = off[w - 1]; /* as the scaler pads an odd last pair */
        tf__scale_hfilter4_shuffle(shuf, off, w);
        uint8_t *ref = xmalloc((size_t)w * (size_t)rows);
        uint8_t *buf = xmalloc(dsize);
        for (int r = 0; r < rows; r++)
            tf__scale_hfilter_c(ref + (size_t)r * w, src + (size_t)r * sstride, off, coef, taps, w);
        for (int l = 0; l < c->nlevels; l++) {
            tf__scale_dsp_t dsp;
            tf__scale_dsp_init(&dsp, c->levels[l].mask);
            memset(buf, GUARD_BYTE, dsize);
            uint8_t *dst = buf + GUARD;
            if (kind == H_FOUR)
                dsp.hfilter4(dst, dstride, src, sstride, rows, off, coef, shuf, w);
            else if (kind == H_PAIRS)
                dsp.hfilter_pairs(dst, src, off, coef, w);
            else
                dsp.hfilter(dst, src, off, coef, taps, w);
            int ok = 1;
            for (size_t i = 0; i < dsize && ok; i++) {
                const ptrdiff_t rel = (ptrdiff_t)i - GUARD;
                const int r = rel < 0 ? -1 : (int)(rel / dstride), x = (int)(rel - r * dstride);
                const int inside = rel >= 0 && r < rows && x < w;
                const uint8_t want = inside ? ref[(size_t)r * w + x] : GUARD_BYTE;
                if (buf[i] == want)
                    continue;
                if (inside)
                    failf(c, "FAIL %s level %s w %d taps %d: row %d output %d got %d want %d\n",
                          name, c->levels[l].name, w, taps, r, x, buf[i], want);
                else
                    failf(c, "FAIL %s level %s w %d taps %d: wrote byte %td outside row(s)\n", name,
                          c->levels[l].name, w, taps, rel);
                ok = 0;
            }
            report(c, ok);
        }
        free(src);
        free(off);
        free(coef);
        free(shuf);
        free(ref);
        free(buf);
    }
}

static void test_hfilter_any(ctx_t *c, int iters)
{
    test_hfilter(c, iters, H_GENERIC);
}
static void test_hfilter_pairs(ctx_t *c, int iters)
{
    test_hfilter(c, iters, H_PAIRS);
}
static void test_hfilter4(ctx_t *c, int iters)
{
    test_hfilter(c, iters, H_FOUR);
}

/* ---- the whole scaler: geometry, tails, clipping, odd chroma ---- */

typedef struct planes {
    uint8_t *mem[3];
    uint8_t *p[3];
    int stride[3], w[3], h[3];
} planes_t;

/* A source picture whose rows are followed by exactly SRC_SLACK readable bytes. */
static void src_alloc(ctx_t *c, planes_t *s, int w, int h)
{
    for (int i = 0; i < 3; i++) {
        s->w[i] = i ? (w + 1) / 2 : w;
        s->h[i] = i ? (h + 1) / 2 : h;
        s->stride[i] = s->w[i] + SRC_SLACK + rnd_range(c, 0, 40);
        size_t n = (size_t)s->stride[i] * (size_t)(s->h[i] - 1) + (size_t)s->w[i] + SRC_SLACK;
        s->mem[i] = s->p[i] = xmalloc(n);
        int mode = rnd_range(c, 0, 4);
        for (size_t j = 0; j < n; j++)
            s->p[i][j] = mode == 0 ? 255 : mode == 1 ? (uint8_t)(j * 7) : (uint8_t)rnd(c);
    }
}

static void planes_free(planes_t *s)
{
    for (int i = 0; i < 3; i++)
        free(s->mem[i]);
}

typedef struct geom {
    int sw, sh, dw, dh;
    tf_rect_t vis;
} geom_t;

static void rnd_geom(ctx_t *c, geom_t *g)
{
    switch (rnd(c) % 7) {
    case 5: /* same size: rows are copied */
        g->dw = 2 * rnd_range(c, 1, 200);
        g->dh = 2 * rnd_range(c, 1, 120);
        g->sw = g->dw;
        g->sh = g->dh;
        break;
    case 0: /* tiny */
        g->sw = rnd_range(c, 1, 6);
        g->sh = rnd_range(c, 1, 6);
        g->dw = 2 * rnd_range(c, 1, 3);
        g->dh = 2 * rnd_range(c, 1, 3);
        break;
    case 1: /* large downscale */
        g->sw = rnd_range(c, 640, 1920);
        g->sh = rnd_range(c, 360, 1080);
        g->dw = 2 * rnd_range(c, 1, 160);
        g->dh = 2 * rnd_range(c, 1, 90);
        break;
    case 2: /* large upscale */
        g->sw = rnd_range(c, 2, 200);
        g->sh = rnd_range(c, 2, 120);
        g->dw = 2 * rnd_range(c, 100, 640);
        g->dh = 2 * rnd_range(c, 60, 360);
        break;
    case 3: /* grid tiles */
        g->sw = rnd(c) % 2 ? 1280 : 640;
        g->sh = g->sw * 9 / 16;
        g->dw = 2 * rnd_range(c, 64, 320);
        g->dh = 2 * rnd_range(c, 36, 180);
        break;
    default:
        g->sw = rnd_range(c, 1, 700);
        g->sh = rnd_range(c, 1, 500);
        g->dw = 2 * rnd_range(c, 1, 350);
        g->dh = 2 * rnd_range(c, 1, 250);
        break;
    }
    g->vis = (tf_rect_t){0, 0, g->dw, g->dh};
    if (rnd(c) % 2) {
        /* Clipped at a canvas edge (either side), or an arbitrary even sub-rectangle. */
        int kind = rnd_range(c, 0, 2);
        g->vis.w = 2 * rnd_range(c, 1, g->dw / 2);
        g->vis.h = 2 * rnd_range(c, 1, g->dh / 2);
        if (kind == 0) {
            g->vis.x = g->dw - g->vis.w;
            g->vis.y = g->dh - g->vis.h;
        } else if (kind == 2) {
            g->vis.x = 2 * rnd_range(c, 0, (g->dw - g->vis.w) / 2);
            g->vis.y = 2 * rnd_range(c, 0, (g->dh - g->vis.h) / 2);
        }
    }
}

static int run_level(ctx_t *c, const geom_t *g, const planes_t *src, unsigned mask, planes_t *out,
                     int *bx, int *by)
{
    tf_scaler_t *s = NULL;
    int err = tf_scaler_create(&s, g->sw, g->sh, g->dw, g->dh, &g->vis, mask);
    if (err < 0)
        return err;
    uint8_t *dst[3];
    for (int i = 0; i < 3; i++) {
        int sh = i ? 1 : 0;
        /* The visible rect sits inside a larger canvas whose rest must stay untouched. */
        out->w[i] = (g->vis.w >> sh) + 2 * GUARD;
        out->h[i] = (g->vis.h >> sh) + 2 * 4;
        out->stride[i] = out->w[i];
        size_t n = (size_t)out->stride[i] * (size_t)out->h[i];
        out->mem[i] = out->p[i] = xmalloc(n);
        memset(out->p[i], GUARD_BYTE, n);
        dst[i] = out->p[i] + 4 * out->stride[i] + GUARD;
    }
    *bx = GUARD;
    *by = 4;
    tf_scaler_run(s, (const uint8_t *const *)src->p, src->stride, dst, out->stride);
    tf_scaler_destroy(&s);
    return 0;
}

static void test_scaler(ctx_t *c, int iters)
{
    for (int it = 0; it < iters; it++) {
        geom_t g;
        rnd_geom(c, &g);
        planes_t src, ref;
        int bx, by;
        src_alloc(c, &src, g.sw, g.sh);
        if (run_level(c, &g, &src, 0, &ref, &bx, &by) < 0) {
            failf(c, "FAIL scaler create %dx%d -> %dx%d visible (%d,%d %dx%d)\n", g.sw, g.sh, g.dw,
                  g.dh, g.vis.x, g.vis.y, g.vis.w, g.vis.h);
            c->failed++;
            planes_free(&src);
            continue;
        }
        for (int l = 0; l < c->nlevels; l++) {
            planes_t out;
            int ok = 1;
            run_level(c, &g, &src, c->levels[l].mask, &out, &bx, &by);
            for (int i = 0; i < 3 && ok; i++) {
                int vw = g.vis.w >> (i ? 1 : 0), vh = g.vis.h >> (i ? 1 : 0);
                for (int y = 0; y < out.h[i] && ok; y++) {
                    for (int x = 0; x < out.w[i] && ok; x++) {
                        uint8_t got = out.p[i][(size_t)y * out.stride[i] + x];
                        int inside = x >= bx && x < bx + vw && y >= by && y < by + vh;
                        uint8_t want =
                            inside ? ref.p[i][(size_t)y * ref.stride[i] + x] : GUARD_BYTE;
                        if (got == want)
                            continue;
                        failf(c,
                              "FAIL scaler level %s %dx%d -> %dx%d visible (%d,%d %dx%d) "
                              "plane %d %s (%d,%d): got %d want %d\n",
                              c->levels[l].name, g.sw, g.sh, g.dw, g.dh, g.vis.x, g.vis.y, g.vis.w,
                              g.vis.h, i, inside ? "pixel" : "guard byte", x - bx, y - by, got,
                              want);
                        ok = 0;
                    }
                }
            }
            report(c, ok);
            planes_free(&out);
        }
        planes_free(&ref);
        planes_free(&src);
    }
}

/* ---- --bench ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Times each kernel at each level on grid-tile-like rows, levels interleaved, best of 7. */
static void bench_kernels(ctx_t *c)
{
    enum { W = 1280, OUT = 426, ROUNDS = 7, REPS = 2000 };
    uint8_t *src[TF__SCALE_MAX_VTAPS];
    int16_t coef[TF__SCALE_MAX_VTAPS];
    int16_t *mid = zalloc64(sizeof(int16_t) * (W + TF__SCALE_VOUT_PAD));
    uint8_t *out = xmalloc(W);
    for (int k = 0; k < TF__SCALE_MAX_VTAPS; k++) {
        src[k] = xmalloc(W + SRC_SLACK);
        for (int i = 0; i < W + SRC_SLACK; i++)
            src[k][i] = (uint8_t)rnd(c);
    }
    static const int vtaps[] = {2, 3, 4, 5, 9};
    for (size_t n = 0; n < sizeof(vtaps) / sizeof(vtaps[0]); n++) {
        double best[3] = {1e9, 1e9, 1e9};
        rnd_weights(c, coef, vtaps[n], 1 << 14);
        for (int round = 0; round < ROUNDS; round++) {
            for (int l = 0; l < c->nlevels; l++) {
                tf__scale_dsp_t dsp;
                tf__scale_dsp_init(&dsp, c->levels[l].mask);
                double t0 = now_s();
                for (int r = 0; r < REPS; r++)
                    dsp.vfilter(mid, (const uint8_t *const *)src, coef, vtaps[n], 640);
                double t = (now_s() - t0) / REPS;
                best[l] = t < best[l] ? t : best[l];
            }
        }
        printf("  vfilter        ntaps %2d  w  640:", vtaps[n]);
        for (int l = 0; l < c->nlevels; l++)
            printf("  %s %6.0f ns", c->levels[l].name, best[l] * 1e9);
        printf("\n");
    }
    /* Horizontal: 640 -> 426 (pairs, 8 taps) and 1280 -> 426 / 256 (8 and 16 taps). */
    static const struct {
        int kind, taps, srcw, rows;
    } hcases[] = {{H_FOUR, 4, 640, 1},
                  {H_FOUR, 4, 640, 2},
                  {H_PAIRS, 8, 640, 1},
                  {H_GENERIC, 8, 1280, 1},
                  {H_GENERIC, 16, 1280, 1}};
    static const char *const names[] = {"hfilter", "hfilter_pairs", "hfilter4"};
    uint8_t *shuf = zalloc64((OUT + TF__SCALE_HOUT_ALIGN) * 8);
    int32_t *off = zalloc64((OUT + TF__SCALE_HOUT_ALIGN) * sizeof(*off));
    int16_t *hc = zalloc64((OUT + TF__SCALE_HOUT_ALIGN) * 16 * sizeof(*hc));
    for (int i = 0; i < W + TF__SCALE_VOUT_PAD; i++)
        mid[i] = (int16_t)rnd_range(c, 0, 32640);
    for (size_t n = 0; n < sizeof(hcases) / sizeof(hcases[0]); n++) {
        const int taps = hcases[n].taps;
        double best[3] = {1e9, 1e9, 1e9};
        for (int x = 0; x < OUT; x++) {
            off[x] = x * (hcases[n].srcw - 8) / OUT;
            if (hcases[n].kind == H_PAIRS && (x & 1))
                off[x] = off[x - 1];
            rnd_weights(c, hc + (size_t)x * taps, taps, 1 << 14);
        }
        tf__scale_hfilter4_shuffle(shuf, off, OUT);
        for (int round = 0; round < ROUNDS; round++) {
            for (int l = 0; l < c->nlevels; l++) {
                tf__scale_dsp_t dsp;
                tf__scale_dsp_init(&dsp, c->levels[l].mask);
                double t0 = now_s();
                for (int r = 0; r < REPS; r++) {
                    if (hcases[n].kind == H_FOUR)
                        dsp.hfilter4(out, 0, mid, 0, hcases[n].rows, off, hc, shuf, OUT);
                    else if (hcases[n].kind == H_PAIRS)
                        dsp.hfilter_pairs(out, mid, off, hc, OUT);
                    else
                        dsp.hfilter(out, mid, off, hc, taps, OUT);
                }
                double t = (now_s() - t0) / REPS / hcases[n].rows;
                best[l] = t < best[l] ? t : best[l];
            }
        }
        printf("  %-14s taps  %2d  w  %d%s:", names[hcases[n].kind], taps, OUT,
               hcases[n].rows == 2 ? " (2 rows/call)" : "");
        for (int l = 0; l < c->nlevels; l++)
            printf("  %s %6.0f ns", c->levels[l].name, best[l] * 1e9);
        printf("\n");
    }
    for (int k = 0; k < TF__SCALE_MAX_VTAPS; k++)
        free(src[k]);
    free(mid);
    free(out);
    free(off);
    free(hc);
    free(shuf);
}

static void bench(ctx_t *c)
{
    printf("bench: kernels, ns per row (best of 7 rounds, levels interleaved)\n");
    bench_kernels(c);
    static const struct {
        int sw, sh, dw, dh;
    } cases[] = {{1280, 720, 640, 360}, {1280, 720, 426, 240}, {1280, 720, 256, 144},
                 {640, 360, 426, 240},  {640, 360, 256, 144},  {320, 180, 1280, 720}};
    printf("bench: whole scaler, ns per I420 frame (best of 5 rounds), dst luma Mpixel/s\n");
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        geom_t g = {
            cases[k].sw, cases[k].sh, cases[k].dw, cases[k].dh, {0, 0, cases[k].dw, cases[k].dh}};
        planes_t src;
        src_alloc(c, &src, g.sw, g.sh);
        tf_scaler_t *s[3] = {NULL, NULL, NULL};
        planes_t out[3];
        double best[3] = {1e9, 1e9, 1e9};
        for (int l = 0; l < c->nlevels; l++) {
            int bx, by;
            run_level(c, &g, &src, c->levels[l].mask, &out[l], &bx, &by);
            tf_scaler_create(&s[l], g.sw, g.sh, g.dw, g.dh, NULL, c->levels[l].mask);
        }
        const int reps = 20;
        for (int round = 0; round < 5; round++) {
            for (int l = 0; l < c->nlevels; l++) {
                double t0 = now_s();
                for (int r = 0; r < reps; r++)
                    tf_scaler_run(s[l], (const uint8_t *const *)src.p, src.stride, out[l].p,
                                  out[l].stride);
                double t = (now_s() - t0) / reps;
                if (t < best[l])
                    best[l] = t;
            }
        }
        printf("  %4dx%-4d -> %4dx%-4d", g.sw, g.sh, g.dw, g.dh);
        for (int l = 0; l < c->nlevels; l++) {
            printf("  %s %8.0f ns %7.1f Mpx/s", c->levels[l].name, best[l] * 1e9,
                   g.dw * g.dh / best[l] * 1e-6);
            tf_scaler_destroy(&s[l]);
            planes_free(&out[l]);
        }
        printf("\n");
        planes_free(&src);
    }
}

int main(int argc, char **argv)
{
    ctx_t c = {0};
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    int do_bench = 0, iters = 300;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
            iters = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--bench")) {
            do_bench = 1;
        } else {
            fprintf(stderr, "usage: %s [--seed N] [--iters N] [--bench]\n", argv[0]);
            return 2;
        }
    }
    seed &= 0xffffffffu; /* short enough to type back in */
    printf("checkasm: seed %" PRIu64 "\n", seed);
    c.rng = seed * 2654435761u + 0x9E3779B97F4A7C15ULL;

    const unsigned have = tf_cpu_flags();
    const level_t all[] = {{"c", 0},
                           {"sse2", TF_CPU_SSE2},
                           {"avx2", TF_CPU_SSE2 | TF_CPU_SSSE3 | TF_CPU_SSE41 | TF_CPU_AVX2}};
    for (int i = 0; i < 3; i++) {
        tf__scale_dsp_t dsp;
        tf__scale_dsp_init(&dsp, have & all[i].mask);
        /* Only levels this CPU really reaches (and this build really has). */
        if (!strcmp(dsp.level, all[i].name))
            c.levels[c.nlevels++] = (level_t){all[i].name, have & all[i].mask};
    }
    printf("checkasm: levels");
    for (int i = 0; i < c.nlevels; i++)
        printf(" %s", c.levels[i].name);
    printf("\n");

    if (do_bench) {
        bench(&c);
        return 0;
    }
    struct {
        const char *name;
        void (*fn)(ctx_t *, int);
        int iters;
    } tests[] = {{"vfilter", test_vfilter, iters},
                 {"hfilter", test_hfilter_any, iters},
                 {"hfilter_pairs", test_hfilter_pairs, iters},
                 {"hfilter4", test_hfilter4, iters},
                 {"scaler", test_scaler, iters / 3 > 0 ? iters / 3 : 1}};
    for (size_t t = 0; t < sizeof(tests) / sizeof(tests[0]); t++) {
        int before = c.failed;
        tests[t].fn(&c, tests[t].iters);
        printf("  %-14s %s\n", tests[t].name, c.failed == before ? "ok" : "FAILED");
    }
    if (c.failed)
        fprintf(stderr, "checkasm: reproduce with --seed %" PRIu64 " --iters %d\n", seed, iters);
    printf("checkasm: %d passed, %d failed\n", c.passed, c.failed);
    return c.failed ? 1 : 0;
}
