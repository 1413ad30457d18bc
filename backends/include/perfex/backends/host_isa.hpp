// PERFEX_HOST_ISA_CLONES: each hot host kernel function is compiled twice, for the build's baseline
// instruction set and with FMA (fused multiply-add, on AVX), and the dynamic loader binds it to the variant
// the CPU runs (GCC's target_clones: an ifunc resolved once per process). A default, portable build thus runs
// the kernels' multiply-adds as FMAs on every x86-64 CPU of the last decade (half the arithmetic
// instructions: ~8% of a frame's extraction), and stays runnable on CPUs without them.
//
// Only with GCC on x86-64 host code (not nvcc, not device code, not clang), when CMake's PERFEX_HOST_CLONES
// is ON (PERFEX_ENABLE_HOST_CLONES), and when the baseline lacks FMA (a build with -march=x86-64-v3 or newer
// needs no second variant). On one CPU every thread and every run takes the same variant, so results are
// deterministic; the FMA variant's last bits differ from the baseline's (within every bound against the
// references). CI runs the tests on both (scripts/lanes/sanitize.sh builds without the clones).
//
// Put it first on a function's declaration, before KOKKOS_INLINE_FUNCTION, on functions that do a phase of a
// kernel's work (not on helpers called per element: a cloned function is called through the ifunc and never
// inlined). `flatten` inlines everything the function calls into each variant, so that the lambdas and
// helpers of its loops are compiled for that variant too: a helper outlined because two variants now call it
// would be compiled for the baseline only (GCC inlines a function called once, not one called twice).
#pragma once

#if defined(PERFEX_ENABLE_HOST_CLONES) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__CUDACC__) && !defined(__FMA__)
#define PERFEX_HOST_ISA_CLONES __attribute__((flatten, target_clones("default", "fma")))
#else
#define PERFEX_HOST_ISA_CLONES
#endif
