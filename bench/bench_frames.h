/* bench_frames.h — pieces of the synthetic camera pictures bench_roi.c, bench_screen.c and
 * bench_tier_preset.c share: a textured picture, flat chroma with a moving textured box, and
 * Y-PSNR over one rectangle. Header-only; no timing. */
#ifndef TF_BENCH_FRAMES_H
#define TF_BENCH_FRAMES_H

#include <math.h>
#include <string.h>

#include "codec/frame.h"
#include "mixer/layout.h"

/* Flat chroma per source, and a 120x100 textured box moving 9 pixels a frame across the luma. */
static inline void bench_chroma_and_box(tf_frame_t *f, int src, int t)
{
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < f->height / 2; y++)
            memset(f->plane[p] + y * f->stride[p], 100 + src * 10 * p, (size_t)f->width / 2);
    int bx = (t * 9) % (f->width - 120), by = f->height / 3;
    for (int y = by; y < by + 100; y++)
        for (int x = bx; x < bx + 120; x++)
            f->plane[0][y * f->stride[0] + x] = (uint8_t)(200 - ((x - bx) * 3 + (y - by) * 5) % 90);
}

/* A textured camera picture: a diagonal texture by source, its chroma, the box at time t. */
static inline void bench_draw_textured(tf_frame_t *f, int src, int t)
{
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            int v = 60 + src * 15 + ((x * 7 + y * 3 + ((x ^ y) & 31)) & 63) + ((x / 8 + y / 8) & 1) * 20;
            f->plane[0][y * f->stride[0] + x] = (uint8_t)(v > 235 ? 235 : v);
        }
    bench_chroma_and_box(f, src, t);
}

/* Y-PSNR of b against a inside r (99 dB when identical). */
static inline double bench_psnr_rect(const tf_frame_t *a, const tf_frame_t *b, tf_rect_t r)
{
    double se = 0;
    for (int y = r.y; y < r.y + r.h; y++)
        for (int x = r.x; x < r.x + r.w; x++) {
            double d = a->plane[0][y * a->stride[0] + x] - b->plane[0][y * b->stride[0] + x];
            se += d * d;
        }
    double mse = se / ((double)r.w * r.h);
    return mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : 99.0;
}

#endif
