/* scale.c — I420 crop-to-fill scaler: filter tables, C reference kernels, dispatch. No SIMD here.
 *
 * Each plane is scaled vertical pass first, then horizontal, one destination row at a time:
 *   1. vfilter: the source rows under the output row are combined over the source columns the
 *      visible outputs need, and kept with 7 fractional bits as int16;
 *   2. hfilter: each visible output pixel is a dot product of that int16 row with its taps.
 * Vertical-first means the expensive pass runs on whole contiguous rows (ideal for SIMD) and the
 * gather-like horizontal pass only runs dst_h times. The filter is a triangle whose radius is
 * max(1, scale ratio) (bilinear when upscaling, area-like when downscaling), as swscale's
 * SWS_BILINEAR; taps past the crop edge fold onto the edge pixel. The horizontal table takes one
 * of three layouts, the cheapest that fits: 4 taps with pairs of outputs in one 8-tap window
 * (hfilter4), 8 taps with pairs sharing a window (hfilter_pairs), or any multiple of 8. */
#include "mixer/scale.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mixer/cpu.h"
#include "mixer/scale_internal.h"

#define MAX_DIM 16384

enum { H_GENERIC, H_PAIRS, H_FOUR };

/* Zeroed, 64-byte aligned (so 32-byte table loads never straddle a cache line); free() it. */
static void *zalloc64(size_t n, size_t size)
{
    size_t bytes = (n * size + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p)
        memset(p, 0, bytes ? bytes : 64);
    return p;
}

typedef struct scale_plane {
    int src_x, src_y; /* crop origin in this plane's source samples */
    int vis_x, vis_y; /* visible origin in this plane's destination samples */
    int vis_w, vis_h;
    int identity;      /* crop size == destination size: rows are copied */
    int col_lo, col_n; /* crop columns the visible outputs read (relative to src_x) */
    int hmode;         /* H_GENERIC, H_PAIRS or H_FOUR */
    int htaps;         /* 4 (H_FOUR) or a multiple of TF__SCALE_HTAP_ALIGN */
    int32_t *hoff;     /* per visible output: first tap, relative to col_lo */
    int16_t *hcoef;    /* per visible output: htaps coefficients */
    uint8_t *hshuf;    /* H_FOUR: tf__scale_hfilter4_shuffle() table */
    int vtaps;         /* row stride of vrow / vcoef */
    int *vn;           /* per visible row: taps used */
    int32_t *vrow;     /* per visible row: source rows relative to src_y */
    int16_t *vcoef;
} scale_plane_t;

struct tf_scaler {
    tf__scale_dsp_t dsp;
    scale_plane_t plane[3];
    int16_t *mid; /* two vertically filtered rows, mid_stride apart */
    ptrdiff_t mid_stride;
    const uint8_t **rows; /* vtaps row pointers */
};

/* ---- C reference kernels: these define the result bit for bit. ---- */

void tf__scale_vfilter_c(int16_t *dst, const uint8_t *const *rows, const int16_t *coef, int ntaps,
                         int w)
{
    for (int i = 0; i < w; i++) {
        int32_t sum = 64 + (ntaps >> 1);
        for (int k = 0; k < ntaps; k++)
            sum += (rows[k][i] * coef[k]) >> TF__SCALE_MID_BITS;
        dst[i] = (int16_t)sum;
    }
}

void tf__scale_hfilter_c(uint8_t *dst, const int16_t *src, const int32_t *off, const int16_t *coef,
                         int taps, int w)
{
    for (int x = 0; x < w; x++) {
        const int16_t *s = src + off[x], *c = coef + (size_t)x * taps;
        int32_t sum = 0;
        for (int t = 0; t < taps; t++)
            sum += s[t] * c[t];
        sum >>= TF__SCALE_COEF_BITS + TF__SCALE_MID_BITS;
        dst[x] = (uint8_t)(sum < 0 ? 0 : sum > 255 ? 255 : sum);
    }
}

void tf__scale_hfilter_pairs_c(uint8_t *dst, const int16_t *src, const int32_t *off,
                               const int16_t *coef, int w)
{
    tf__scale_hfilter_c(dst, src, off, coef, 8, w);
}

void tf__scale_hfilter4_c(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                          ptrdiff_t src_stride, int rows, const int32_t *off, const int16_t *coef,
                          const uint8_t *shuf, int w)
{
    (void)shuf;
    for (int r = 0; r < rows; r++)
        tf__scale_hfilter_c(dst + r * dst_stride, src + r * src_stride, off, coef, 4, w);
}

void tf__scale_hfilter4_shuffle(uint8_t *shuf, const int32_t *off, int w)
{
    const int n = (w + TF__SCALE_HOUT_ALIGN - 1) / TF__SCALE_HOUT_ALIGN * TF__SCALE_HOUT_ALIGN;
    for (int m = 0; m < n / 2; m++, shuf += 16) {
        /* Bytes 0-7: the first output's taps at the window start; 8-15: the second's, d on. */
        const int d = off[2 * m + 1] - off[2 * m];
        for (int b = 0; b < 8; b++) {
            shuf[b] = (uint8_t)b;
            shuf[8 + b] = (uint8_t)(2 * d + b);
        }
    }
}

void tf__scale_dsp_init(tf__scale_dsp_t *dsp, unsigned flags)
{
    dsp->vfilter = tf__scale_vfilter_c;
    dsp->hfilter = tf__scale_hfilter_c;
    dsp->hfilter_pairs = tf__scale_hfilter_pairs_c;
    dsp->hfilter4 = tf__scale_hfilter4_c;
    dsp->level = "c";
#if defined(__x86_64__) || defined(__i386__)
    if (!(flags & TF_CPU_SSE2))
        return;
    dsp->vfilter = tf__scale_vfilter_sse2;
    dsp->hfilter = tf__scale_hfilter_sse2;
    dsp->hfilter_pairs = tf__scale_hfilter_pairs_sse2;
    dsp->hfilter4 = tf__scale_hfilter4_sse2;
    dsp->level = "sse2";
    if (!(flags & TF_CPU_AVX2))
        return;
    dsp->vfilter = tf__scale_vfilter_avx2;
    dsp->hfilter = tf__scale_hfilter_avx2;
    dsp->hfilter_pairs = tf__scale_hfilter_pairs_avx2;
    dsp->hfilter4 = tf__scale_hfilter4_avx2;
    dsp->level = "avx2";
#else
    (void)flags;
#endif
}

/* ---- Geometry ---- */

void tf__scale_crop(int src_w, int src_h, int dst_w, int dst_h, tf_rect_t *crop)
{
    int64_t wide = (int64_t)src_w * dst_h, tall = (int64_t)src_h * dst_w;
    *crop = (tf_rect_t){0, 0, src_w, src_h};
    if (wide > tall) {
        /* Source is wider: keep all rows, take the nearest even width of the same aspect. */
        int w = (int)(((int64_t)src_h * dst_w + dst_h) / (2 * (int64_t)dst_h)) * 2;
        if (w < 2)
            w = 2;
        if (w < src_w) {
            crop->w = w;
            crop->x = ((src_w - w) / 2) & ~1;
        }
    } else if (tall > wide) {
        int h = (int)(((int64_t)src_w * dst_h + dst_w) / (2 * (int64_t)dst_w)) * 2;
        if (h < 2)
            h = 2;
        if (h < src_h) {
            crop->h = h;
            crop->y = ((src_h - h) / 2) & ~1;
        }
    }
}

/* The taps of outputs out0 .. out0+nout-1 when src_n samples are resampled to dst_n: for each
 * output its first source index, its tap count and `stride` 14-bit coefficients summing to
 * exactly 1 << 14. */
typedef struct taps1d {
    int stride, maxlen;
    int32_t *first;
    int *len;
    int16_t *coef;
} taps1d_t;

static void taps1d_free(taps1d_t *t)
{
    free(t->first);
    free(t->len);
    free(t->coef);
    memset(t, 0, sizeof(*t));
}

static int taps1d_build(taps1d_t *t, int src_n, int dst_n, int out0, int nout)
{
    /* The radius cap bounds the tap count (TF__SCALE_MAX_VTAPS); only downscales by more than
     * 60x (16K to 256) reach it, and get a slightly narrower filter than ideal. */
    const double ratio = (double)src_n / dst_n, max_radius = TF__SCALE_MAX_VTAPS / 2;
    const double radius = ratio < 1.0 ? 1.0 : ratio > max_radius ? max_radius : ratio;
    const int one = 1 << TF__SCALE_COEF_BITS;
    memset(t, 0, sizeof(*t));
    t->stride = (int)ceil(2.0 * radius) + 2;
    t->first = malloc(sizeof(*t->first) * (size_t)nout);
    t->len = malloc(sizeof(*t->len) * (size_t)nout);
    t->coef = calloc((size_t)nout * (size_t)t->stride, sizeof(*t->coef));
    double *w = malloc(sizeof(*w) * (size_t)t->stride);
    if (!t->first || !t->len || !t->coef || !w) {
        free(w);
        taps1d_free(t);
        return -ENOMEM;
    }
    for (int i = 0; i < nout; i++) {
        const double centre = (out0 + i + 0.5) * ratio - 0.5;
        int lo = (int)ceil(centre - radius), hi = (int)floor(centre + radius);
        int base = lo < 0 ? 0 : lo > src_n - 1 ? src_n - 1 : lo;
        int n = 0;
        double total = 0.0;
        for (int k = 0; k < t->stride; k++)
            w[k] = 0.0;
        for (int j = lo; j <= hi; j++) {
            double d = fabs(j - centre), v = 1.0 - d / radius;
            if (v <= 0.0)
                continue;
            int jj = j < 0 ? 0 : j > src_n - 1 ? src_n - 1 : j;
            w[jj - base] += v;
            total += v;
            if (jj - base + 1 > n)
                n = jj - base + 1;
        }
        /* Quantise the running sum so rounding errors never accumulate and the sum is exact. */
        int16_t *c = t->coef + (size_t)i * t->stride;
        double acc = 0.0;
        long prev = 0;
        for (int k = 0; k < n; k++) {
            acc += w[k];
            long q = k == n - 1 ? one : lround(acc / total * one);
            c[k] = (int16_t)(q - prev);
            prev = q;
        }
        int s = 0, e = n;
        while (s < e && c[s] == 0)
            s++;
        while (e > s && c[e - 1] == 0)
            e--;
        if (s > 0)
            memmove(c, c + s, sizeof(*c) * (size_t)(e - s));
        for (int k = e - s; k < n; k++)
            c[k] = 0;
        t->first[i] = base + s;
        t->len[i] = e - s;
        if (e - s > t->maxlen)
            t->maxlen = e - s;
    }
    free(w);
    return 0;
}

static void plane_free(scale_plane_t *p)
{
    free(p->hoff);
    free(p->hcoef);
    free(p->hshuf);
    free(p->vn);
    free(p->vrow);
    free(p->vcoef);
    memset(p, 0, sizeof(*p));
}

static int plane_init(scale_plane_t *p, const tf_rect_t *crop, int dst_w, int dst_h,
                      const tf_rect_t *vis)
{
    taps1d_t ht, vt;
    int err;
    memset(p, 0, sizeof(*p));
    p->src_x = crop->x;
    p->src_y = crop->y;
    p->vis_x = vis->x;
    p->vis_y = vis->y;
    p->vis_w = vis->w;
    p->vis_h = vis->h;
    if (crop->w == dst_w && crop->h == dst_h) {
        p->identity = 1;
        return 0;
    }
    if ((err = taps1d_build(&ht, crop->w, dst_w, vis->x, vis->w)) < 0)
        return err;
    if ((err = taps1d_build(&vt, crop->h, dst_h, vis->y, vis->h)) < 0) {
        taps1d_free(&ht);
        return err;
    }
    /* Horizontal: one padded table per visible output, offsets relative to the first column. */
    const int nout =
        (vis->w + TF__SCALE_HOUT_ALIGN - 1) / TF__SCALE_HOUT_ALIGN * TF__SCALE_HOUT_ALIGN;
    int col_hi = 0, fit4 = ht.maxlen <= 4, fit_pairs = ht.maxlen <= 8;
    p->col_lo = ht.first[0];
    for (int x = 0; x < vis->w; x++) {
        if (ht.first[x] < p->col_lo)
            p->col_lo = ht.first[x];
        if (ht.first[x] + ht.len[x] > col_hi)
            col_hi = ht.first[x] + ht.len[x];
        if (x & 1) {
            /* Does the pair (x - 1, x) fit one 8-tap window starting at output x - 1's? */
            const int d = ht.first[x] - ht.first[x - 1];
            fit4 &= d >= 0 && d <= 4;
            fit_pairs &= d >= 0 && d + ht.len[x] <= 8;
        }
    }
    p->col_n = col_hi - p->col_lo;
    p->hmode = fit4 ? H_FOUR : fit_pairs ? H_PAIRS : H_GENERIC;
    p->htaps = fit4 ? 4 : (ht.maxlen + TF__SCALE_HTAP_ALIGN - 1) & ~(TF__SCALE_HTAP_ALIGN - 1);
    p->hoff = zalloc64((size_t)nout, sizeof(*p->hoff));
    p->hcoef = zalloc64((size_t)nout * (size_t)p->htaps, sizeof(*p->hcoef));
    p->hshuf = fit4 ? zalloc64((size_t)nout, 8) : NULL;
    p->vtaps = vt.maxlen;
    p->vn = calloc((size_t)vis->h, sizeof(*p->vn));
    p->vrow = calloc((size_t)vis->h * (size_t)p->vtaps, sizeof(*p->vrow));
    p->vcoef = calloc((size_t)vis->h * (size_t)p->vtaps, sizeof(*p->vcoef));
    if (!p->hoff || !p->hcoef || (fit4 && !p->hshuf) || !p->vn || !p->vrow || !p->vcoef) {
        taps1d_free(&ht);
        taps1d_free(&vt);
        plane_free(p);
        return -ENOMEM;
    }
    for (int x = 0; x < vis->w; x++) {
        /* H_PAIRS: both outputs of a pair index from the pair's window; else each its own. */
        const int base = p->hmode == H_PAIRS ? ht.first[x & ~1] : ht.first[x];
        p->hoff[x] = base - p->col_lo;
        memcpy(p->hcoef + (size_t)x * p->htaps + (ht.first[x] - base),
               ht.coef + (size_t)x * ht.stride, sizeof(int16_t) * (size_t)ht.len[x]);
    }
    /* The padding output completes a last, odd pair with the same window. */
    if (p->hmode != H_GENERIC && (vis->w & 1))
        p->hoff[vis->w] = p->hoff[vis->w - 1];
    if (fit4)
        tf__scale_hfilter4_shuffle(p->hshuf, p->hoff, vis->w);
    for (int y = 0; y < vis->h; y++) {
        p->vn[y] = vt.len[y];
        for (int k = 0; k < vt.len[y]; k++) {
            p->vrow[(size_t)y * p->vtaps + k] = vt.first[y] + k;
            p->vcoef[(size_t)y * p->vtaps + k] = vt.coef[(size_t)y * vt.stride + k];
        }
    }
    taps1d_free(&ht);
    taps1d_free(&vt);
    return 0;
}

/* ---- Public API ---- */

int tf_scaler_create(tf_scaler_t **out, int src_w, int src_h, int dst_w, int dst_h,
                     const tf_rect_t *visible, unsigned cpu_mask)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (src_w < 1 || src_h < 1 || src_w > MAX_DIM || src_h > MAX_DIM || dst_w < 2 || dst_h < 2 ||
        dst_w > MAX_DIM || dst_h > MAX_DIM || (dst_w | dst_h) & 1)
        return -EINVAL;
    tf_rect_t vis = {0, 0, dst_w, dst_h};
    if (visible) {
        vis = *visible;
        if ((vis.x | vis.y | vis.w | vis.h) & 1 || vis.x < 0 || vis.y < 0 || vis.w < 2 ||
            vis.h < 2 || vis.w > dst_w - vis.x || vis.h > dst_h - vis.y)
            return -EINVAL;
    }
    tf_scaler_t *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    tf__scale_dsp_init(&s->dsp, tf_cpu_flags() & cpu_mask);

    tf_rect_t crop, ccrop, cvis = {vis.x / 2, vis.y / 2, vis.w / 2, vis.h / 2};
    tf__scale_crop(src_w, src_h, dst_w, dst_h, &crop);
    /* Crop origins are even, so chroma starts exactly at half; an odd full extent rounds up. */
    ccrop = (tf_rect_t){crop.x / 2, crop.y / 2, (crop.w + 1) / 2, (crop.h + 1) / 2};
    int err = plane_init(&s->plane[0], &crop, dst_w, dst_h, &vis);
    for (int i = 1; i < 3 && !err; i++)
        err = plane_init(&s->plane[i], &ccrop, dst_w / 2, dst_h / 2, &cvis);
    if (err)
        goto fail;

    int mid_n = 0, vtaps = 0;
    for (int i = 0; i < 3; i++) {
        const scale_plane_t *p = &s->plane[i];
        /* Windows reach up to htaps (hfilter4: 8) columns past the last one used. */
        if (p->col_n + p->htaps + 8 > mid_n)
            mid_n = p->col_n + p->htaps + 8;
        if (p->vtaps > vtaps)
            vtaps = p->vtaps;
    }
    /* Zeroed once: the horizontal pass may read (with zero weight) columns never written. */
    s->mid_stride = (mid_n + TF__SCALE_VOUT_PAD + 31) & ~31;
    s->mid = zalloc64(2 * (size_t)s->mid_stride, sizeof(*s->mid));
    s->rows = calloc((size_t)vtaps + 1, sizeof(*s->rows));
    if (!s->mid || !s->rows) {
        err = -ENOMEM;
        goto fail;
    }
    *out = s;
    return 0;
fail:
    tf_scaler_destroy(&s);
    return err;
}

void tf_scaler_destroy(tf_scaler_t **sp)
{
    if (!sp || !*sp)
        return;
    tf_scaler_t *s = *sp;
    for (int i = 0; i < 3; i++)
        plane_free(&s->plane[i]);
    free(s->mid);
    free(s->rows);
    free(s);
    *sp = NULL;
}

static void run_plane(tf_scaler_t *s, const scale_plane_t *p, const uint8_t *src, int sstride,
                      uint8_t *dst, int dstride)
{
    if (p->identity) {
        src += (ptrdiff_t)(p->src_y + p->vis_y) * sstride + p->src_x + p->vis_x;
        for (int y = 0; y < p->vis_h; y++)
            memcpy(dst + (ptrdiff_t)y * dstride, src + (ptrdiff_t)y * sstride, (size_t)p->vis_w);
        return;
    }
    src += (ptrdiff_t)p->src_y * sstride + p->src_x + p->col_lo;
    /* hfilter4 takes two rows at once, sharing its table loads between them. */
    const int step = p->hmode == H_FOUR ? 2 : 1;
    for (int y = 0; y < p->vis_h; y += step) {
        const int rows = y + step <= p->vis_h ? step : 1;
        for (int r = 0; r < rows; r++) {
            const int32_t *row = p->vrow + (size_t)(y + r) * p->vtaps;
            for (int k = 0; k < p->vn[y + r]; k++)
                s->rows[k] = src + (ptrdiff_t)row[k] * sstride;
            s->dsp.vfilter(s->mid + r * s->mid_stride, s->rows,
                           p->vcoef + (size_t)(y + r) * p->vtaps, p->vn[y + r], p->col_n);
        }
        uint8_t *out = dst + (ptrdiff_t)y * dstride;
        if (p->hmode == H_FOUR)
            s->dsp.hfilter4(out, dstride, s->mid, s->mid_stride, rows, p->hoff, p->hcoef, p->hshuf,
                            p->vis_w);
        else if (p->hmode == H_PAIRS)
            s->dsp.hfilter_pairs(out, s->mid, p->hoff, p->hcoef, p->vis_w);
        else
            s->dsp.hfilter(out, s->mid, p->hoff, p->hcoef, p->htaps, p->vis_w);
    }
}

void tf_scaler_run(tf_scaler_t *s, const uint8_t *const src[3], const int src_stride[3],
                   uint8_t *const dst[3], const int dst_stride[3])
{
    if (!s)
        return;
    for (int i = 0; i < 3; i++)
        run_plane(s, &s->plane[i], src[i], src_stride[i], dst[i], dst_stride[i]);
}

const char *tf_scaler_level(const tf_scaler_t *s)
{
    return s ? s->dsp.level : "c";
}
