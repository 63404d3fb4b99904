/* What the CPU running us supports, and what this compilation unit was built for.
 *
 * The dispatch (dispatch.py) loads one variant of the kernels per process, the
 * widest the CPU runs.  It asks the baseline variant, which runs everywhere,
 * what the CPU reports (lc_cpu_has); each variant says which instruction sets
 * its compiler targeted (lc_built_for), so a test can check that the variant
 * in use is the one that was asked for.  Off x86 (aarch64: Apple silicon,
 * Graviton) no x86 feature is reported and only the baseline exists.
 */
#ifndef LSTMCORE_CPU_FEATURES_H
#define LSTMCORE_CPU_FEATURES_H

/* The features the variants need, in one table shared by lc_cpu_has and lc_built_for. */
enum { LC_AVX2, LC_FMA, LC_AVX512F, LC_AVX512BW, LC_AVX512VL, LC_AVX512DQ, LC_AVX512BF16,
       LC_FEATURE_COUNT };
/* avx512bf16 selects no variant: the AVX-512 variants test it at run time for the opt-in
 * bfloat16 product (lstm_gemm_bf16.h), which the other CPUs emulate. */
static const char *const lc_feature_names[LC_FEATURE_COUNT] = {
    "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512bf16"};

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
/* __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0). */
static int lc_cpu_has(int feature)
{
    __builtin_cpu_init();
    switch (feature) {
    case LC_AVX2: return __builtin_cpu_supports("avx2") != 0;
    case LC_FMA: return __builtin_cpu_supports("fma") != 0;
    case LC_AVX512F: return __builtin_cpu_supports("avx512f") != 0;
    case LC_AVX512BW: return __builtin_cpu_supports("avx512bw") != 0;
    case LC_AVX512VL: return __builtin_cpu_supports("avx512vl") != 0;
    case LC_AVX512DQ: return __builtin_cpu_supports("avx512dq") != 0;
    case LC_AVX512BF16: return __builtin_cpu_supports("avx512bf16") != 0;
    default: return 0;
    }
}
#else
static int lc_cpu_has(int feature) { (void)feature; return 0; }
#endif

static int lc_built_for(int feature)
{
    switch (feature) {
#ifdef __AVX2__
    case LC_AVX2: return 1;
#endif
#ifdef __FMA__
    case LC_FMA: return 1;
#endif
#ifdef __AVX512F__
    case LC_AVX512F: return 1;
#endif
#ifdef __AVX512BW__
    case LC_AVX512BW: return 1;
#endif
#ifdef __AVX512VL__
    case LC_AVX512VL: return 1;
#endif
#ifdef __AVX512DQ__
    case LC_AVX512DQ: return 1;
#endif
#ifdef __AVX512BF16__
    case LC_AVX512BF16: return 1;
#endif
    default: return 0;
    }
}

#endif
