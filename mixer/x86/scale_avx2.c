/* scale_avx2.c — AVX2 scaler kernels, bit-exact with scale.c's C reference; no dispatch here. */
#include <immintrin.h>
#include <string.h>

#include "mixer/scale_internal.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* See scale_sse2.c: per-tap pmulhuw on even and odd columns, no shuffles inside the tap loop.
 * The coefficient vectors are built once per row; with a constant ntaps (the specialisations
 * below) they and the row pointers stay in registers. */
ALWAYS_INLINE void vfilter(int16_t *dst, const uint8_t *const *rows, const int16_t *coef, int ntaps,
                           int w)
{
    const __m256i hi_bytes = _mm256_set1_epi16((short)0xff00);
    const __m256i bias = _mm256_set1_epi16((short)(64 + (ntaps >> 1)));
    __m256i c[TF__SCALE_MAX_VTAPS];
    /* A local copy: the stores below may alias anything, which would force reloading rows[]. */
    const uint8_t *r[TF__SCALE_MAX_VTAPS];
#pragma GCC unroll 8
    for (int k = 0; k < ntaps; k++) {
        c[k] = _mm256_set1_epi16((short)(coef[k] << 1));
        r[k] = rows[k];
    }
    for (int i = 0; i < w; i += 32) {
        __m256i even = bias, odd = bias;
#pragma GCC unroll 8
        for (int k = 0; k < ntaps; k++) {
            const __m256i px = _mm256_loadu_si256((const __m256i *)(r[k] + i));
            even = _mm256_add_epi16(even, _mm256_mulhi_epu16(_mm256_slli_epi16(px, 8), c[k]));
            odd = _mm256_add_epi16(odd, _mm256_mulhi_epu16(_mm256_and_si256(px, hi_bytes), c[k]));
        }
        /* The unpack works per 128-bit lane, so the two halves are stored separately. */
        const __m256i lo = _mm256_unpacklo_epi16(even, odd); /* columns 0-7 | 16-23 */
        const __m256i hi = _mm256_unpackhi_epi16(even, odd); /* columns 8-15 | 24-31 */
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_castsi256_si128(lo));
        _mm_storeu_si128((__m128i *)(dst + i + 8), _mm256_castsi256_si128(hi));
        _mm_storeu_si128((__m128i *)(dst + i + 16), _mm256_extracti128_si256(lo, 1));
        _mm_storeu_si128((__m128i *)(dst + i + 24), _mm256_extracti128_si256(hi, 1));
    }
}

void tf__scale_vfilter_avx2(int16_t *dst, const uint8_t *const *rows, const int16_t *coef,
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
    case 7:
        vfilter(dst, rows, coef, 7, w);
        break;
    case 8:
        vfilter(dst, rows, coef, 8, w);
        break;
    default:
        vfilter(dst, rows, coef, ntaps, w);
        break;
    }
}

ALWAYS_INLINE __m256i load2(const void *lo, const void *hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)lo)),
                                   _mm_loadu_si128((const __m128i *)hi), 1);
}

/* Two registers of four partials per output (per lane) -> one of two partials per output:
 * a's outputs in the even dwords, b's in the odd ones. Shifts and a blend, no shuffle port. */
ALWAYS_INLINE __m256i merge_pairs(__m256i a, __m256i b)
{
    a = _mm256_add_epi32(a, _mm256_srli_epi64(a, 32));
    b = _mm256_add_epi32(b, _mm256_slli_epi64(b, 32));
    return _mm256_blend_epi32(a, b, 0xaa);
}

ALWAYS_INLINE __m256i shift_sums(__m256i v)
{
    return _mm256_srai_epi32(v, TF__SCALE_COEF_BITS + TF__SCALE_MID_BITS);
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

/* Packs two registers of eight int32 to bytes, reorders them with `order` (applied to the
 * bytes of a's low lane, b's low lane, a's high lane, b's high lane as one 16-byte vector),
 * and stores the first min(16, w - x). */
ALWAYS_INLINE void store16(uint8_t *dst, int x, int w, __m256i a, __m256i b, __m128i order)
{
    __m256i v = _mm256_packs_epi32(a, b);
    v = _mm256_packus_epi16(v, v);
    const __m128i out =
        _mm_shuffle_epi8(_mm256_castsi256_si128(_mm256_permute4x64_epi64(v, 0x08)), order);
    if (x + 16 <= w)
        _mm_storeu_si128((__m128i *)(dst + x), out);
    else
        store_tail(dst + x, out, w - x);
}

/* ---- hfilter / hfilter_pairs: a register holds outputs x (low lane) and x + 1 (high). ---- */

ALWAYS_INLINE __m256i dot_pair(const int16_t *src, const int32_t *off, const int16_t *coef,
                               int taps, int x, int paired)
{
    const int16_t *c = coef + (size_t)x * taps;
    if (paired) /* one window for both outputs, broadcast to both lanes */
        return _mm256_madd_epi16(
            _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(src + off[x]))),
            _mm256_loadu_si256((const __m256i *)c));
    const int16_t *sa = src + off[x], *sb = src + off[x + 1];
    if (taps == 8)
        return _mm256_madd_epi16(load2(sa, sb), _mm256_loadu_si256((const __m256i *)c));
    if (taps % 16 == 0) {
        /* 16 taps per 256-bit load, each output on its own, then fold the lanes together. */
        __m256i a = _mm256_setzero_si256(), b = _mm256_setzero_si256();
        for (int t = 0; t < taps; t += 16) {
            a = _mm256_add_epi32(a,
                                 _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(sa + t)),
                                                   _mm256_loadu_si256((const __m256i *)(c + t))));
            b = _mm256_add_epi32(
                b, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(sb + t)),
                                     _mm256_loadu_si256((const __m256i *)(c + taps + t))));
        }
        return _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20),
                                _mm256_permute2x128_si256(a, b, 0x31));
    }
    __m256i acc = _mm256_madd_epi16(load2(sa, sb), load2(c, c + taps));
    for (int t = 8; t < taps; t += 8)
        acc = _mm256_add_epi32(
            acc, _mm256_madd_epi16(load2(sa + t, sb + t), load2(c + t, c + taps + t)));
    return acc;
}

/* Outputs x, x+2, x+4, x+6 in the low lane and x+1, x+3, x+5, x+7 in the high lane. */
ALWAYS_INLINE __m256i eight(const int16_t *src, const int32_t *off, const int16_t *coef, int taps,
                            int x, int paired)
{
    const __m256i t0 = merge_pairs(dot_pair(src, off, coef, taps, x + 0, paired),
                                   dot_pair(src, off, coef, taps, x + 2, paired));
    const __m256i t1 = merge_pairs(dot_pair(src, off, coef, taps, x + 4, paired),
                                   dot_pair(src, off, coef, taps, x + 6, paired));
    return shift_sums(
        _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1)));
}

ALWAYS_INLINE void hfilter(uint8_t *dst, const int16_t *src, const int32_t *off,
                           const int16_t *coef, int taps, int w, int paired)
{
    /* The packed bytes are the even outputs 0-14, then the odd ones 1-15. */
    const __m128i order = _mm_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    for (int x = 0; x < w; x += 16)
        store16(dst, x, w, eight(src, off, coef, taps, x, paired),
                eight(src, off, coef, taps, x + 8, paired), order);
}

void tf__scale_hfilter_avx2(uint8_t *dst, const int16_t *src, const int32_t *off,
                            const int16_t *coef, int taps, int w)
{
    if (taps == 8)
        hfilter(dst, src, off, coef, 8, w, 0);
    else if (taps == 16)
        hfilter(dst, src, off, coef, 16, w, 0);
    else if (taps == 24)
        hfilter(dst, src, off, coef, 24, w, 0);
    else
        hfilter(dst, src, off, coef, taps, w, 0);
}

void tf__scale_hfilter_pairs_avx2(uint8_t *dst, const int16_t *src, const int32_t *off,
                                  const int16_t *coef, int w)
{
    hfilter(dst, src, off, coef, 8, w, 1);
}

/* ---- hfilter4: a lane holds one pair's window, pshufb puts each output's 4 taps side by side,
 * and one pmaddwd yields two partials per output. Two rows share the offset, shuffle and
 * coefficient loads, which are most of the loads. ---- */

ALWAYS_INLINE __m256i dot4x4(const int16_t *src, int oa, int ob, __m256i shuf, __m256i coef)
{
    return _mm256_madd_epi16(_mm256_shuffle_epi8(load2(src + oa, src + ob), shuf), coef);
}

ALWAYS_INLINE void hfilter4(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                            ptrdiff_t src_stride, int rows, const int32_t *off, const int16_t *coef,
                            const uint8_t *shuf, int w)
{
    /* merge_pairs leaves outputs 0 4 1 5 | 2 6 3 7 and 8 12 9 13 | 10 14 11 15; after packing
     * the bytes read 0 4 1 5 8 12 9 13 2 6 3 7 10 14 11 15. */
    const __m128i order = _mm_setr_epi8(0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15);
    for (int x = 0; x < w; x += 16) {
        /* Register q: outputs x+4q, x+4q+1 (low lane) and x+4q+2, x+4q+3 (high lane). Named
         * variables, not arrays: compilers otherwise keep the tables on the stack. */
        const __m256i sh0 = _mm256_loadu_si256((const __m256i *)(shuf + (size_t)x * 8));
        const __m256i sh1 = _mm256_loadu_si256((const __m256i *)(shuf + (size_t)x * 8 + 32));
        const __m256i sh2 = _mm256_loadu_si256((const __m256i *)(shuf + (size_t)x * 8 + 64));
        const __m256i sh3 = _mm256_loadu_si256((const __m256i *)(shuf + (size_t)x * 8 + 96));
        const __m256i cf0 = _mm256_loadu_si256((const __m256i *)(coef + (size_t)x * 4));
        const __m256i cf1 = _mm256_loadu_si256((const __m256i *)(coef + (size_t)x * 4 + 16));
        const __m256i cf2 = _mm256_loadu_si256((const __m256i *)(coef + (size_t)x * 4 + 32));
        const __m256i cf3 = _mm256_loadu_si256((const __m256i *)(coef + (size_t)x * 4 + 48));
        const int o0 = off[x], o1 = off[x + 2], o2 = off[x + 4], o3 = off[x + 6];
        const int o4 = off[x + 8], o5 = off[x + 10], o6 = off[x + 12], o7 = off[x + 14];
#pragma GCC unroll 2
        for (int r = 0; r < rows; r++) {
            const int16_t *s = src + r * src_stride;
            const __m256i a = merge_pairs(dot4x4(s, o0, o1, sh0, cf0), dot4x4(s, o2, o3, sh1, cf1));
            const __m256i b = merge_pairs(dot4x4(s, o4, o5, sh2, cf2), dot4x4(s, o6, o7, sh3, cf3));
            store16(dst + r * dst_stride, x, w, shift_sums(a), shift_sums(b), order);
        }
    }
}

void tf__scale_hfilter4_avx2(uint8_t *dst, ptrdiff_t dst_stride, const int16_t *src,
                             ptrdiff_t src_stride, int rows, const int32_t *off,
                             const int16_t *coef, const uint8_t *shuf, int w)
{
    if (rows == 2)
        hfilter4(dst, dst_stride, src, src_stride, 2, off, coef, shuf, w);
    else
        hfilter4(dst, dst_stride, src, src_stride, 1, off, coef, shuf, w);
}
