/* scale_internal.h — the scaler's kernel table, shared by scale.c, mixer/x86/ and checkasm.
 *
 * Not a public header: only the scaler, its SIMD files, checkasm and the scale bench include it.
 * It states the exact arithmetic every kernel level must reproduce bit for bit. */
#ifndef TF_SCALE_INTERNAL_H
#define TF_SCALE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mixer/layout.h"

/* Fixed point: filter coefficients are 14-bit (each output's taps sum to exactly 1 << 14). The
 * vertical pass keeps 7 fractional bits in int16 and adds the horizontal pass's rounding term
 * (64, i.e. 1 << 20 once multiplied by taps summing to 1 << 14); the horizontal pass then only
 * truncates the 21 fractional bits of its int32 sum. */
#define TF__SCALE_COEF_BITS 14
#define TF__SCALE_MID_BITS 7
/* At most this many vertical taps, which keeps flat areas exactly flat (see vfilter). */
#define TF__SCALE_MAX_VTAPS 120

/* The generic horizontal tap count is a multiple of this (SIMD reads 8 int16 taps per load). */
#define TF__SCALE_HTAP_ALIGN 8
/* Offset, coefficient and shuffle tables hold entries for w rounded up to this many outputs,
 * the extras with offset 0 and zero coefficients, so SIMD may compute (not store) whole
 * vectors past w. */
#define TF__SCALE_HOUT_ALIGN 16
/* vfilter may write this many int16 past w into its (scaler-owned) destination row. */
#define TF__SCALE_VOUT_PAD 64

typedef struct tf__scale_dsp {
    /* Vertical pass over one output row: 1 <= ntaps <= TF__SCALE_MAX_VTAPS, coef[k] >= 0 summing
     * to at most 1 << 14. Each tap is truncated on its own, which is what pmulhuw computes from
     * (pixel << 8) and (coef << 1); the ntaps/2 bias re-centres the truncation:
     *     dst[i] = 64 + ntaps / 2 + sum_k ((rows[k][i] * coef[k]) >> 7)    for 0 <= i < w.
     * The result is at most 32640 + 64 + 60 = 32764. The truncation error lies in
     * (-ntaps/2, ntaps/2], under half an output step for ntaps <= 120, so flat stays flat.
     * SIMD may read each rows[k] up to 64 bytes past w and write dst up to TF__SCALE_VOUT_PAD
     * int16 past w. */
    void (*vfilter)(int16_t *dst, const uint8_t *const *rows, const int16_t *coef, int ntaps,
                    int w);
    /* Horizontal pass, taps a multiple of 4 (of 8 for SIMD), src[] in 0..32767, each output's
     * coefficients >= 0 summing to at most 1 << 14 (so no int32 sum overflows):
     *     dst[x] = clip_u8((sum_t src[off[x] + t] * coef[x * taps + t]) >> 21)
     * for 0 <= x < w. Writes exactly dst[0..w-1]; off and coef hold HOUT_ALIGN-padded tables. */
    void (*hfilter)(uint8_t *dst, const int16_t *src, const int32_t *off, const int16_t *coef,
                    int taps, int w);
    /* hfilter with taps == 8 for tables where outputs 2m and 2m+1 share one window
     * (off[2m] == off[2m + 1]), so SIMD loads each window once for two outputs. */
    void (*hfilter_pairs)(uint8_t *dst, const int16_t *src, const int32_t *off, const int16_t *coef,
                          int w);
    /* hfilter with taps == 4 for tables where 0 <= off[2m + 1] - off[2m] <= 4, so both outputs
     * of a pair lie in the 8 int16 at off[2m], over `rows` (1 or 2) rows that share the tables:
     * row r reads src + r * src_stride and writes dst + r * dst_stride. shuf is
     * tf__scale_hfilter4_shuffle()'s table: for each pair, the pshufb mask that gathers the two
     * outputs' taps from that window. SIMD may read src[off[2m] .. off[2m] + 7]. */
    void (*hfilter4)(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src, ptrdiff_t src_stride,
                     int rows, const int32_t *off, const int16_t *coef, const uint8_t *shuf, int w);
    const char *level; /* "c", "sse2", "avx2" */
} tf__scale_dsp_t;

/* Fills shuf (16 bytes per pair, for w rounded up to TF__SCALE_HOUT_ALIGN outputs) for
 * hfilter4 from its offset table. */
void tf__scale_hfilter4_shuffle(uint8_t *shuf, const int32_t *off, int w);

/* Fills dsp with the best kernels allowed by flags (TF_CPU_* bits): C first, then SSE2, then
 * AVX2, each level returning early when its flag is missing. */
void tf__scale_dsp_init(tf__scale_dsp_t *dsp, unsigned flags);

/* The centred, even-aligned crop of a src_w x src_h picture that has dst_w:dst_h's aspect. */
void tf__scale_crop(int src_w, int src_h, int dst_w, int dst_h, tf_rect_t *crop);

void tf__scale_vfilter_c(int16_t *dst, const uint8_t *const *rows, const int16_t *coef, int ntaps,
                         int w);
void tf__scale_hfilter_c(uint8_t *dst, const int16_t *src, const int32_t *off, const int16_t *coef,
                         int taps, int w);
void tf__scale_hfilter_pairs_c(uint8_t *dst, const int16_t *src, const int32_t *off,
                               const int16_t *coef, int w);
void tf__scale_hfilter4_c(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                          ptrdiff_t src_stride, int rows, const int32_t *off, const int16_t *coef,
                          const uint8_t *shuf, int w);

void tf__scale_vfilter_sse2(int16_t *dst, const uint8_t *const *rows, const int16_t *coef,
                            int ntaps, int w);
void tf__scale_hfilter_sse2(uint8_t *dst, const int16_t *src, const int32_t *off,
                            const int16_t *coef, int taps, int w);
void tf__scale_hfilter_pairs_sse2(uint8_t *dst, const int16_t *src, const int32_t *off,
                                  const int16_t *coef, int w);
void tf__scale_hfilter4_sse2(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                             ptrdiff_t src_stride, int rows, const int32_t *off,
                             const int16_t *coef, const uint8_t *shuf, int w);

void tf__scale_vfilter_avx2(int16_t *dst, const uint8_t *const *rows, const int16_t *coef,
                            int ntaps, int w);
void tf__scale_hfilter_avx2(uint8_t *dst, const int16_t *src, const int32_t *off,
                            const int16_t *coef, int taps, int w);
void tf__scale_hfilter_pairs_avx2(uint8_t *dst, const int16_t *src, const int32_t *off,
                                  const int16_t *coef, int w);
void tf__scale_hfilter4_avx2(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                             ptrdiff_t src_stride, int rows, const int32_t *off,
                             const int16_t *coef, const uint8_t *shuf, int w);

#endif
