/* scale.h — I420 scaler with crop-to-fill, the compositor's workhorse.
 *
 * The source is cropped (centred) to the destination's aspect ratio, never stretched, then
 * resampled with a separable filter whose support widens with the downscale ratio (so small
 * tiles do not alias). The plain C kernels define the exact result; SSE2/AVX2 (NEON on ARM) match
 * them bit for bit. Filter tables are built once per (source size, destination size) in
 * tf_scaler_create(); scaling a frame allocates nothing. A scaler owns one row of scratch, so
 * it is used by one thread at a time; separate scalers run in parallel freely.
 *
 * The filter is a triangle of radius max(1, ratio) (bilinear when upscaling, area-like when
 * downscaling, like swscale's SWS_BILINEAR), capped at 60 source pixels; flat colours stay
 * exactly flat at any ratio. When source and destination sizes match, rows are copied. */
#ifndef TF_SCALE_H
#define TF_SCALE_H

#include <stdint.h>

#include "mixer/layout.h"

typedef struct tf_scaler tf_scaler_t;

/* src_w x src_h (1..16384) scaled to fill dst_w x dst_h (even, 2..16384). The source is cropped
 * centred to the destination's aspect, at even coordinates so chroma stays aligned. Only the
 * part of the destination inside `visible` (relative to the destination's top-left corner;
 * NULL = all) is written — this is how tiles clipped at the canvas edge are drawn; visible must
 * have even x, y and even, non-zero w, h and lie inside the destination. cpu_mask limits the
 * SIMD levels (TF_CPU_* bits; ~0u = everything the CPU has, 0 = plain C). *out is set to the new
 * scaler (caller owns it, tf_scaler_destroy() frees it) or NULL. 0, -EINVAL or -ENOMEM. */
int tf_scaler_create(tf_scaler_t **out, int src_w, int src_h, int dst_w, int dst_h,
                     const tf_rect_t *visible, unsigned cpu_mask);
/* Frees the scaler and sets *s to NULL; NULL and *s == NULL are fine. */
void tf_scaler_destroy(tf_scaler_t **s);

/* Scales one I420 picture. dst[] point at the top-left pixel of the *visible* part (for chroma:
 * visible.x/2, visible.y/2), so no pointer ever leaves the canvas. Source rows may be read up to
 * 64 bytes past their end (tf_frame_t guarantees that slack); nothing outside the visible
 * rectangle is written. src, dst and the strides are borrowed for the call. s == NULL: no-op. */
void tf_scaler_run(tf_scaler_t *s, const uint8_t *const src[3], const int src_stride[3],
                   uint8_t *const dst[3], const int dst_stride[3]);

/* The name of the kernel level in use ("c", "sse2", "avx2", ...). */
const char *tf_scaler_level(const tf_scaler_t *s);

#endif
