/* media_pattern.h — shared by the codec tests: a moving, textured test picture (gradients, noise
 * texture, three bouncing checkered boxes; stamped at 15 fps) and Y-PSNR between two frames.
 * Header-only (static functions) so every test binary stays one source file. */
#ifndef TF_TEST_MEDIA_PATTERN_H
#define TF_TEST_MEDIA_PATTERN_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "codec/frame.h"


static uint32_t hash2(uint32_t x, uint32_t y)
{
    uint32_t h = x * 0x9E3779B1u ^ y * 0x85EBCA77u;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    return h;
}

static int tri(int v, int period)
{
    if (period <= 0)
        return 0;
    v %= 2 * period;
    if (v < 0)
        v += 2 * period;
    return v < period ? v : 2 * period - v;
}

/* Frame t of the pattern, pts t / 15 s. */
static void pattern_draw(tf_frame_t *f, int t)
{
    int w = f->width, h = f->height, cw = tf_frame_chroma_w(f), ch = tf_frame_chroma_h(f);
    for (int y = 0; y < h; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * f->stride[0];
        for (int x = 0; x < w; x++)
            row[x] = (uint8_t)(40 + tri(x + y / 2 + 3 * t, 256) * 3 / 5 +
                               (hash2((uint32_t)x >> 2, (uint32_t)y >> 2) & 15));
    }
    for (int y = 0; y < ch; y++) {
        uint8_t *u = f->plane[1] + (size_t)y * f->stride[1];
        uint8_t *v = f->plane[2] + (size_t)y * f->stride[2];
        for (int x = 0; x < cw; x++) {
            u[x] = (uint8_t)(96 + tri(2 * x + t, 64));
            v[x] = (uint8_t)(104 + tri(3 * y - t, 48));
        }
    }
    static const int vx[3] = {3, -2, 5}, vy[3] = {2, 3, -1};
    static const uint8_t bu[3] = {90, 170, 60}, bv[3] = {200, 80, 120};
    for (int b = 0; b < 3; b++) {
        int bw = w * (b + 2) / 10 & ~1, bh = h * (b + 2) / 8 & ~1;
        int bx = tri(t * vx[b] * w / 320 + 37 * b, w - bw) & ~1;
        int by = tri(t * vy[b] * h / 180 + 23 * b, h - bh) & ~1;
        for (int y = 0; y < bh; y++) {
            uint8_t *row = f->plane[0] + (size_t)(by + y) * f->stride[0] + bx;
            for (int x = 0; x < bw; x++)
                row[x] = (uint8_t)((((x >> 3) + (y >> 3)) & 1 ? 190 : 70) +
                                   (hash2((uint32_t)x + 1000u * (uint32_t)b, (uint32_t)y) & 31));
        }
        for (int y = 0; y < bh / 2; y++) {
            memset(f->plane[1] + (size_t)(by / 2 + y) * f->stride[1] + bx / 2, bu[b],
                   (size_t)bw / 2);
            memset(f->plane[2] + (size_t)(by / 2 + y) * f->stride[2] + bx / 2, bv[b],
                   (size_t)bw / 2);
        }
    }
    f->pts_us = (int64_t)t * (1000000 / 15);
}

/* Y-PSNR in dB (99 for identical pictures). */
static double psnr_y(const tf_frame_t *a, const tf_frame_t *b)
{
    uint64_t sse = 0;
    for (int y = 0; y < a->height; y++) {
        const uint8_t *ra = a->plane[0] + (size_t)y * a->stride[0];
        const uint8_t *rb = b->plane[0] + (size_t)y * b->stride[0];
        for (int x = 0; x < a->width; x++) {
            int d = ra[x] - rb[x];
            sse += (uint64_t)(d * d);
        }
    }
    if (sse == 0)
        return 99.0;
    return 10.0 * log10(255.0 * 255.0 / ((double)sse / ((double)a->width * a->height)));
}

#endif
