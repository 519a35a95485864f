/* cpu.c — run-time CPU feature detection (cpuid + xgetbv); no caching, no global state. */
#include "mixer/cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

/* XCR0 says which register states the OS saves on a context switch; AVX needs XMM and YMM. */
static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

unsigned tf_cpu_flags(void)
{
    unsigned a, b, c, d, flags = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (d & (1u << 26))
        flags |= TF_CPU_SSE2;
    if (c & (1u << 9))
        flags |= TF_CPU_SSSE3;
    if (c & (1u << 19))
        flags |= TF_CPU_SSE41;
    /* AVX2 needs OSXSAVE (27), AVX (28) and FMA (12, the AVX2 files are built with -mfma). */
    const unsigned avx_bits = (1u << 27) | (1u << 28) | (1u << 12);
    if ((c & avx_bits) == avx_bits && (read_xcr0() & 6) == 6) {
        unsigned a7, b7, c7, d7;
        if (__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7) && (b7 & (1u << 5)))
            flags |= TF_CPU_AVX2;
    }
    return flags;
}

#elif defined(__aarch64__)

unsigned tf_cpu_flags(void)
{
    return TF_CPU_NEON;
}

#else

unsigned tf_cpu_flags(void)
{
    return 0;
}

#endif

const char *tf_cpu_level_name(unsigned flags)
{
    if (flags & TF_CPU_AVX2)
        return "avx2";
    if (flags & TF_CPU_SSE2)
        return "sse2";
    if (flags & TF_CPU_NEON)
        return "neon";
    return "c";
}
