/* CPU feature detection for precision bf16 and the model cache
 * (see cpu_features.h). */
#include "cpu_features.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#define IC_X86 1
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP2_BF16
#define HWCAP2_BF16 (1UL << 14)
#endif
#endif

/* GCC 12's __builtin_cpu_supports() knows both features and checks the
 * OS's XCR0 itself; older GCCs and clang may not know their names, and
 * there the cpuid reading below decides. */
#if defined(IC_X86) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define IC_BUILTIN_KNOWS_BF16 1
#endif

static atomic_int simulate_missing;

void ic_cpu_bf16_simulate_missing(int on)
{
    atomic_store(&simulate_missing, on != 0);
}

int ic_x86_bf16_native(const ic_x86_cpuid *c)
{
    const uint64_t avx512_state = 0xe6;     /* SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM */
    const uint64_t tile_state = 0x60000;    /* XTILECFG, XTILEDATA */
    if (c->max_leaf < 7 || !(c->leaf1_ecx & (1u << 27))) /* no leaf 7, or no OSXSAVE */
        return 0;
    int avx512_bf16 = c->leaf7_max_subleaf >= 1 && (c->leaf7_1_eax & (1u << 5)) &&
                      (c->xcr0 & avx512_state) == avx512_state;
    int amx_bf16 = (c->leaf7_edx & (1u << 22)) && (c->xcr0 & tile_state) == tile_state;
    return avx512_bf16 || amx_bf16;
}

int ic_x86_cpuid_read(ic_x86_cpuid *out)
{
#ifdef IC_X86
    unsigned a, b, c, d;
    *out = (ic_x86_cpuid){0};
    out->max_leaf = __get_cpuid_max(0, NULL);
    if (out->max_leaf >= 1 && __get_cpuid(1, &a, &b, &c, &d))
        out->leaf1_ecx = c;
    if (out->max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->leaf7_max_subleaf = a;
        out->leaf7_edx = d;
        if (a >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            out->leaf7_1_eax = a;
        }
    }
    if (out->leaf1_ecx & (1u << 27)) { /* OSXSAVE: xgetbv is allowed */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        out->xcr0 = ((uint64_t)hi << 32) | lo;
    }
    return 1;
#else
    (void)out;
    return 0;
#endif
}

/* What this architecture's CPUs lack when they lack bf16, in the names
 * /proc/cpuinfo gives the features. */
#if defined(IC_X86)
static const char missing[] =
    "neither avx512_bf16 nor amx_bf16 (/proc/cpuinfo's names; valgrind's emulated CPU "
    "has neither)";
#elif defined(__aarch64__) && defined(__linux__)
static const char missing[] = "no bf16 (the Armv8.6 BF16 extension, \"bf16\" in /proc/cpuinfo)";
#else
static const char missing[] = "no way to tell whether it has native bf16 arithmetic (imgclass "
                              "detects it on x86 and AArch64 Linux only)";
#endif

const char *ic_cpu_bf16_missing(void)
{
    if (atomic_load(&simulate_missing))
        return missing;
#if defined(IC_BUILTIN_KNOWS_BF16)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16") ? NULL
                                                                                       : missing;
#elif defined(IC_X86)
    ic_x86_cpuid c;
    return ic_x86_cpuid_read(&c) && ic_x86_bf16_native(&c) ? NULL : missing;
#elif defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP2) & HWCAP2_BF16) ? NULL : missing;
#else
    return missing;
#endif
}

const char *ic_cpu_vector_isa(char *buf, size_t size)
{
    const char *isa = "other";
#if defined(IC_X86) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        isa = "avx512";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa = "avx2";
    else
        isa = "base";
#elif defined(__aarch64__)
    isa = "aarch64";
#endif
    const char *aten = getenv("ATEN_CPU_CAPABILITY");
    if (aten && *aten)
        snprintf(buf, size, "%s+aten=%.32s", isa, aten);
    else
        snprintf(buf, size, "%s", isa);
    return buf;
}
