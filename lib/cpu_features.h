/* Internal: what the CPU offers that model loading depends on. First, does
 * it run bfloat16 arithmetic natively? precision bf16
 * (imgclass_model_options) is refused on a CPU that does not, because
 * oneDNN then emulates bf16 in float32 and the model runs slower than in
 * float32, with float32's cost and bf16's error. Pure C, no libtorch: the
 * core asks (lib/model.c) and hands the answer to the engine in
 * ic_engine_config, which alone knows whether the model is a float one.
 * Second, for the model cache's key: which vector instructions libtorch's
 * kernels use (ic_cpu_vector_isa()). */
#ifndef IMGCLASS_CPU_FEATURES_H
#define IMGCLASS_CPU_FEATURES_H

#include <stddef.h>
#include <stdint.h>

/* NULL when this CPU, as this process sees it, runs bfloat16 natively;
 * else a static phrase naming what it lacks, for the refusal message
 * ("neither avx512_bf16 nor amx_bf16 ..."). Under valgrind, whose
 * emulated CPU has no AVX-512, the answer is "lacks". Thread-safe. */
const char *ic_cpu_bf16_missing(void);

/* The x86 values the decision reads: cpuid leaf 0 EAX (the highest leaf),
 * leaf 1 ECX (OSXSAVE, bit 27), leaf 7 subleaf 0 EAX (the highest
 * subleaf) and EDX (AMX-BF16, bit 22), leaf 7 subleaf 1 EAX (AVX512_BF16,
 * bit 5), and XCR0 (xgetbv 0: which register states the OS saves). */
typedef struct ic_x86_cpuid {
    uint32_t max_leaf;
    uint32_t leaf1_ecx;
    uint32_t leaf7_max_subleaf;
    uint32_t leaf7_edx;
    uint32_t leaf7_1_eax;
    uint64_t xcr0;
} ic_x86_cpuid;

/* 1 when those values say bf16 is native and usable: AVX512_BF16 with the
 * OS saving the AVX-512 state (XCR0 bits 1, 2, 5, 6, 7), or AMX-BF16 with
 * it saving the tile state (bits 17, 18); else 0. A leaf or subleaf past
 * the highest one reported is not read. Pure: tests feed it values. */
int ic_x86_bf16_native(const ic_x86_cpuid *c);

/* Reads this CPU's values into *out: 1 on x86, 0 (nothing read) elsewhere. */
int ic_x86_cpuid_read(ic_x86_cpuid *out);

/* The vector instructions libtorch's CPU kernels are chosen by, as one
 * word: "avx512" (F, BW, VL, DQ), "avx2" (with FMA), "base" (x86 without
 * them), "aarch64", or "other"; with ATEN_CPU_CAPABILITY set (libtorch
 * then uses at most that), "+aten=VALUE" appended. Part of the model
 * cache's key (lib/model_cache.h): what the CPU computes the frozen
 * weights with. Written to buf (size bytes), which is returned; thread-safe. */
const char *ic_cpu_vector_isa(char *buf, size_t size);

/* Tests only: with on != 0, ic_cpu_bf16_missing() answers as on a CPU
 * without bf16, so the refusal is exercised on a CPU that has it; 0
 * restores the real answer. */
void ic_cpu_bf16_simulate_missing(int on);

#endif
