/* stamp.c — draws and reads the load generator's frame barcode; picks each sender's tone (its
 * bursts are measured with tests/unit/tone_meter.h).
 * Pure functions: no clock, no codec, no allocation. */
#include "bench/load/stamp.h"

#include <errno.h>
#include <string.h>

#define FIXED_BITS 0x2Cu /* 0b101100 in bits 26..31 */

static uint8_t crc8(uint32_t v, int nbits)
{
    uint8_t crc = 0;
    for (int i = nbits - 1; i >= 0; i--) {
        uint8_t bit = (uint8_t)((v >> i) & 1u);
        uint8_t top = (uint8_t)(crc >> 7);
        crc = (uint8_t)(crc << 1);
        if (top ^ bit)
            crc ^= 0x07; /* CRC-8/ATM polynomial */
    }
    return crc;
}

uint32_t tf_stamp_encode(unsigned slot, unsigned frame)
{
    uint32_t payload = (slot & 0x3FFu) | (frame & 0xFFu) << 10;
    return payload | (uint32_t)crc8(payload, 18) << 18 | FIXED_BITS << 26;
}

int tf_stamp_decode(uint32_t bits, unsigned *slot, unsigned *frame)
{
    uint32_t payload = bits & 0x3FFFFu;
    if ((bits >> 26) != FIXED_BITS || ((bits >> 18) & 0xFFu) != crc8(payload, 18))
        return -EBADMSG;
    *slot = payload & 0x3FFu;
    *frame = payload >> 10;
    return 0;
}

void tf_stamp_draw(tf_frame_t *f, unsigned slot, unsigned frame)
{
    uint32_t bits = tf_stamp_encode(slot, frame);
    for (int y = 0; y < f->height; y++) {
        int row = y * TF_STAMP_ROWS / f->height;
        uint8_t *p = f->plane[0] + (size_t)y * (size_t)f->stride[0];
        for (int x = 0; x < f->width; x++) {
            int col = x * TF_STAMP_COLS / f->width;
            int on = (bits >> (row * TF_STAMP_COLS + col)) & 1;
            /* a texture of +-12 that pans two pixels a frame */
            int t = (int)((((unsigned)(x + 2 * (int)frame) >> 2) * 2654435761u ^
                           ((unsigned)y >> 2) * 40503u) >>
                          27) -
                    16;
            int v = (on ? TF_STAMP_Y1 : TF_STAMP_Y0) + t * 3 / 4;
            p[x] = (uint8_t)(v < 16 ? 16 : v > 235 ? 235 : v);
        }
    }
    uint8_t u = (uint8_t)(128 + (int)(slot * 37 % 64) - 32),
            v = (uint8_t)(128 + (int)(slot * 53 % 64) - 32);
    for (int y = 0; y < tf_frame_chroma_h(f); y++) {
        memset(f->plane[1] + (size_t)y * (size_t)f->stride[1], u, (size_t)tf_frame_chroma_w(f));
        memset(f->plane[2] + (size_t)y * (size_t)f->stride[2], v, (size_t)tf_frame_chroma_w(f));
    }
}

int tf_stamp_read(const tf_frame_t *f, const tf_rect_t *r, unsigned *slot, unsigned *frame)
{
    if (r->x < 0 || r->y < 0 || r->w < 2 * TF_STAMP_COLS || r->h < 2 * TF_STAMP_ROWS ||
        r->x + r->w > f->width || r->y + r->h > f->height)
        return -EINVAL;
    int mean[TF_STAMP_COLS * TF_STAMP_ROWS], lo = 255, hi = 0;
    for (int row = 0; row < TF_STAMP_ROWS; row++) {
        for (int col = 0; col < TF_STAMP_COLS; col++) {
            /* the middle half of the cell in each direction, at least one pixel */
            int x0 = r->x + (4 * col + 1) * r->w / (4 * TF_STAMP_COLS);
            int x1 = r->x + (4 * col + 3) * r->w / (4 * TF_STAMP_COLS);
            int y0 = r->y + (4 * row + 1) * r->h / (4 * TF_STAMP_ROWS);
            int y1 = r->y + (4 * row + 3) * r->h / (4 * TF_STAMP_ROWS);
            if (x1 <= x0)
                x1 = x0 + 1;
            if (y1 <= y0)
                y1 = y0 + 1;
            long sum = 0;
            for (int y = y0; y < y1; y++) {
                const uint8_t *p = f->plane[0] + (size_t)y * (size_t)f->stride[0];
                for (int x = x0; x < x1; x++)
                    sum += p[x];
            }
            int m = (int)(sum / ((long)(x1 - x0) * (y1 - y0)));
            mean[row * TF_STAMP_COLS + col] = m;
            lo = m < lo ? m : lo;
            hi = m > hi ? m : hi;
        }
    }
    if (hi - lo < (TF_STAMP_Y1 - TF_STAMP_Y0) / 3)
        return -ENOENT;
    int mid = (lo + hi) / 2;
    uint32_t bits = 0;
    for (int i = 0; i < TF_STAMP_COLS * TF_STAMP_ROWS; i++)
        bits |= (uint32_t)(mean[i] > mid) << i;
    return tf_stamp_decode(bits, slot, frame);
}

double tf_tone_hz(unsigned slot)
{
    return 400.0 + 100.0 * (double)(slot % 30);
}
