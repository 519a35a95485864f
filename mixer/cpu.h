/* cpu.h — run-time CPU feature detection for the mixer's SIMD kernels (maskable for tests). */
#ifndef TF_CPU_H
#define TF_CPU_H

enum {
    TF_CPU_SSE2 = 1 << 0,
    TF_CPU_SSSE3 = 1 << 1,
    TF_CPU_SSE41 = 1 << 2,
    TF_CPU_AVX2 = 1 << 3,
    TF_CPU_NEON = 1 << 4,
};

/* The features this CPU (and OS) supports, as TF_CPU_* bits. */
unsigned tf_cpu_flags(void);

/* "c", "sse2", "avx2", "neon" for the best level in flags. */
const char *tf_cpu_level_name(unsigned flags);

#endif
