/* How many of each instruction the cell uses one core issues a cycle: twelve independent 512-bit
 * operations a loop iteration, nothing loaded.  Read against the sigmoid's 17 operations and 10.3 cycles
 * per 16 gates on AMD Zen 5 (benchmarks/results/remaining_amd_zen5.md): no single unit binds it.
 * Cycles are counted at the clock `fma_peak.c` implies (two FMAs a cycle): give it as GHz.
 *
 *   gcc -O2 benchmarks/native/instruction_rates.c -o /tmp/instruction_rates && /tmp/instruction_rates 4.23
 */
#include <stdio.h>
#include <stdlib.h>
#include "timing.h"

#define LC_TWELVE(op)                                                                              \
    op(0) op(1) op(2) op(3) op(4) op(5) op(6) op(7) op(8) op(9) op(10) op(11)
#define LC_RATE_LOOP(name, op)                                                                     \
    __attribute__((target("avx512f"))) static void name(long n)                                    \
    {                                                                                              \
        __asm__ volatile("vbroadcastss %1, %%zmm14\n vbroadcastss %1, %%zmm15\n 1:\n"             \
                         LC_TWELVE(op) "dec %0\n jnz 1b\n"                                         \
                         : "+r"(n) : "m"(*(const float[]){1.7f})                                  \
                         : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",  \
                           "xmm9", "xmm10", "xmm11", "xmm14", "xmm15", "cc");                     \
    }
#define LC_DIV(i) "vdivps %%zmm14, %%zmm15, %%zmm" #i "\n"
#define LC_SCALEF(i) "vscalefps %%zmm14, %%zmm15, %%zmm" #i "\n"
#define LC_ROUND(i) "vrndscaleps $8, %%zmm14, %%zmm" #i "\n"
#define LC_MIN(i) "vminps %%zmm14, %%zmm15, %%zmm" #i "\n"
#define LC_ADD(i) "vaddps %%zmm14, %%zmm15, %%zmm" #i "\n"
#define LC_MUL(i) "vmulps %%zmm14, %%zmm15, %%zmm" #i "\n"
#define LC_FMA(i) "vfmadd231ps %%zmm14, %%zmm15, %%zmm" #i "\n"
#define LC_FMA_AND_ADD(i) "vfmadd231ps %%zmm14, %%zmm15, %%zmm" #i "\n vaddps %%zmm14, %%zmm15, %%zmm" #i "\n"
LC_RATE_LOOP(divs, LC_DIV) LC_RATE_LOOP(scalefs, LC_SCALEF) LC_RATE_LOOP(rounds, LC_ROUND)
LC_RATE_LOOP(mins, LC_MIN) LC_RATE_LOOP(adds, LC_ADD) LC_RATE_LOOP(muls, LC_MUL) LC_RATE_LOOP(fmas, LC_FMA)
LC_RATE_LOOP(fmas_and_adds, LC_FMA_AND_ADD)

int main(int argc, char **argv)
{
    double ghz = argc > 1 ? atof(argv[1]) : 0.0, seconds;
    const long n = 200000;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        puts("no AVX-512F on this CPU");
        return 0;
    }
    struct { const char *name; void (*run)(long); int per_op; } loops[] = {
        {"vdivps", divs, 12}, {"vscalefps", scalefs, 12}, {"vrndscaleps", rounds, 12}, {"vminps", mins, 12},
        {"vaddps", adds, 12}, {"vmulps", muls, 12}, {"vfmadd231ps", fmas, 12}, {"vfmadd + vaddps", fmas_and_adds, 24}};
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        LC_BEST_SECONDS(seconds, 5, 3, loops[i].run(n));
        double each = seconds / (n * loops[i].per_op);
        printf("%-16s %.3f ns each", loops[i].name, each * 1e9);
        if (ghz > 0)
            printf(" = %.2f cycles (%.2f a cycle)", each * ghz * 1e9, 1.0 / (each * ghz * 1e9));
        printf("\n");
    }
    return 0;
}
