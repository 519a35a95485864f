/* scale_sse2.c — SSE2 scaler kernels, bit-exact with scale.c's C reference; no dispatch here. */
#include <emmintrin.h>
#include <string.h>

#include "mixer/scale_internal.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* pmulhuw((p << 8), coef << 1) == (p * coef) >> 7, the C kernel's per-tap truncation. Even and
 * odd columns are kept in separate accumulators so that no byte shuffle is needed per tap; they
 * are interleaved back once per 16 columns. With a constant ntaps (the specialisations below)
 * the coefficient vectors and row pointers stay in registers. */
ALWAYS_INLINE void vfilter(int16_t *dst, const uint8_t *const *rows, const int16_t *coef, int ntaps,
                           int w)
{
    const __m128i hi_bytes = _mm_set1_epi16((short)0xff00);
    const __m128i bias = _mm_set1_epi16((short)(64 + (ntaps >> 1)));
    __m128i c[TF__SCALE_MAX_VTAPS];
    const uint8_t *r[TF__SCALE_MAX_VTAPS]; /* a local copy: the stores below may alias rows[] */
#pragma GCC unroll 8
    for (int k = 0; k < ntaps; k++) {
        c[k] = _mm_set1_epi16((short)(coef[k] << 1));
        r[k] = rows[k];
    }
    for (int i = 0; i < w; i += 16) {
        __m128i even = bias, odd = bias;
#pragma GCC unroll 8
        for (int k = 0; k < ntaps; k++) {
            const __m128i px = _mm_loadu_si128((const __m128i *)(r[k] + i));
            even = _mm_add_epi16(even, _mm_mulhi_epu16(_mm_slli_epi16(px, 8), c[k]));
            odd = _mm_add_epi16(odd, _mm_mulhi_epu16(_mm_and_si128(px, hi_bytes), c[k]));
        }
        _mm_storeu_si128((__m128i *)(dst + i), _mm_unpacklo_epi16(even, odd));
        _mm_storeu_si128((__m128i *)(dst + i + 8), _mm_unpackhi_epi16(even, odd));
    }
}

void tf__scale_vfilter_sse2(int16_t *dst, const uint8_t *const *rows, const int16_t *coef,
                            int ntaps, int w)
{
    switch (ntaps) {
    case 1:
        vfilter(dst, rows, coef, 1, w);
        break;
    case 2:
        vfilter(dst, rows, coef, 2, w);
        break;
    case 3:
        vfilter(dst, rows, coef, 3, w);
        break;
    case 4:
        vfilter(dst, rows, coef, 4, w);
        break;
    case 5:
        vfilter(dst, rows, coef, 5, w);
        break;
    case 6:
        vfilter(dst, rows, coef, 6, w);
        break;
    default:
        vfilter(dst, rows, coef, ntaps, w);
        break;
    }
}

/* Stores the first n (< 16) bytes of v without calling memcpy. */
ALWAYS_INLINE void store_tail(uint8_t *dst, __m128i v, int n)
{
    if (n & 8) {
        _mm_storel_epi64((__m128i *)dst, v);
        dst += 8;
        v = _mm_srli_si128(v, 8);
    }
    uint32_t word = (uint32_t)_mm_cvtsi128_si32(v);
    if (n & 4) {
        memcpy(dst, &word, 4);
        dst += 4;
        word = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(v, 4));
    }
    if (n & 2) {
        const uint16_t half = (uint16_t)word;
        memcpy(dst, &half, 2);
        dst += 2;
        word >>= 16;
    }
    if (n & 1)
        *dst = (uint8_t)word;
}

/* Packs eight int32 sums (already shifted) to bytes and stores the first min(8, w - x). */
ALWAYS_INLINE void store8(uint8_t *dst, int x, int w, __m128i lo, __m128i hi)
{
    __m128i v = _mm_packs_epi32(lo, hi);
    v = _mm_packus_epi16(v, v);
    if (x + 8 <= w)
        _mm_storel_epi64((__m128i *)(dst + x), v);
    else
        store_tail(dst + x, v, w - x);
}

/* Sums each of r0..r3's four int32 lanes: returns (sum r0, sum r1, sum r2, sum r3). */
ALWAYS_INLINE __m128i hsum4(__m128i r0, __m128i r1, __m128i r2, __m128i r3)
{
    const __m128i t0 = _mm_add_epi32(_mm_unpacklo_epi32(r0, r1), _mm_unpackhi_epi32(r0, r1));
    const __m128i t1 = _mm_add_epi32(_mm_unpacklo_epi32(r2, r3), _mm_unpackhi_epi32(r2, r3));
    return _mm_add_epi32(_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1));
}

ALWAYS_INLINE __m128i dot(const int16_t *s, const int16_t *c, int taps)
{
    __m128i acc =
        _mm_madd_epi16(_mm_loadu_si128((const __m128i *)s), _mm_loadu_si128((const __m128i *)c));
    for (int t = 8; t < taps; t += 8)
        acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(s + t)),
                                                _mm_loadu_si128((const __m128i *)(c + t))));
    return acc;
}

/* Four outputs starting at x, shifted to int32. */
ALWAYS_INLINE __m128i four(const int16_t *src, const int32_t *off, const int16_t *coef, int taps,
                           int x)
{
    const int16_t *c = coef + (size_t)x * taps;
    const __m128i r0 = dot(src + off[x + 0], c, taps);
    const __m128i r1 = dot(src + off[x + 1], c + taps, taps);
    const __m128i r2 = dot(src + off[x + 2], c + 2 * taps, taps);
    const __m128i r3 = dot(src + off[x + 3], c + 3 * taps, taps);
    return _mm_srai_epi32(hsum4(r0, r1, r2, r3), TF__SCALE_COEF_BITS + TF__SCALE_MID_BITS);
}

ALWAYS_INLINE void hfilter(uint8_t *dst, const int16_t *src, const int32_t *off,
                           const int16_t *coef, int taps, int w)
{
    for (int x = 0; x < w; x += 8)
        store8(dst, x, w, four(src, off, coef, taps, x), four(src, off, coef, taps, x + 4));
}

void tf__scale_hfilter_sse2(uint8_t *dst, const int16_t *src, const int32_t *off,
                            const int16_t *coef, int taps, int w)
{
    if (taps == 8)
        hfilter(dst, src, off, coef, 8, w);
    else if (taps == 16)
        hfilter(dst, src, off, coef, 16, w);
    else
        hfilter(dst, src, off, coef, taps, w);
}

/* Shared windows are just equal offsets here. */
void tf__scale_hfilter_pairs_sse2(uint8_t *dst, const int16_t *src, const int32_t *off,
                                  const int16_t *coef, int w)
{
    hfilter(dst, src, off, coef, 8, w);
}

/* Outputs x and x + 1: their 4-tap windows side by side against their 8 coefficients. */
ALWAYS_INLINE __m128i dot4x2(const int16_t *src, const int32_t *off, const int16_t *coef, int x)
{
    const __m128i a = _mm_loadl_epi64((const __m128i *)(src + off[x]));
    const __m128i b = _mm_loadl_epi64((const __m128i *)(src + off[x + 1]));
    return _mm_madd_epi16(_mm_unpacklo_epi64(a, b),
                          _mm_loadu_si128((const __m128i *)(coef + (size_t)x * 4)));
}

/* Four outputs starting at x, shifted to int32. */
ALWAYS_INLINE __m128i four4(const int16_t *src, const int32_t *off, const int16_t *coef, int x)
{
    const __m128 r0 = _mm_castsi128_ps(dot4x2(src, off, coef, x));
    const __m128 r1 = _mm_castsi128_ps(dot4x2(src, off, coef, x + 2));
    const __m128i even = _mm_castps_si128(_mm_shuffle_ps(r0, r1, 0x88));
    const __m128i odd = _mm_castps_si128(_mm_shuffle_ps(r0, r1, 0xdd));
    return _mm_srai_epi32(_mm_add_epi32(even, odd), TF__SCALE_COEF_BITS + TF__SCALE_MID_BITS);
}

/* SSE2 has no pshufb: each output reads its own 4 taps, and shuf goes unused. */
void tf__scale_hfilter4_sse2(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                             ptrdiff_t src_stride, int rows, const int32_t *off,
                             const int16_t *coef, const uint8_t *shuf, int w)
{
    (void)shuf;
    for (int r = 0; r < rows; r++, dst += dst_stride, src += src_stride)
        for (int x = 0; x < w; x += 8)
            store8(dst, x, w, four4(src, off, coef, x), four4(src, off, coef, x + 4));
}
