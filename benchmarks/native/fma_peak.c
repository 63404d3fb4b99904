/* The core's FMA rate: twelve independent chains of vector FMAs on registers, nothing loaded.  The
 * ceiling of every float32 product here (the packed micro-kernel's GFLOP/s are read against it), and
 * so of a configuration whose recurrent product alone takes most of torch's time: dna inference, whose
 * product at this rate leaves the cell and the rest what torch's time has left over.
 *
 *   gcc -O2 benchmarks/native/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * 512-bit lanes only where the CPU has AVX-512F (checked at run time); 256-bit lanes always. */
#include <stdio.h>
#include "timing.h"

#define LC_TWELVE_FMAS(r)                                                                        \
    "vfmadd231ps %%" r "14,%%" r "15,%%" r "0\n vfmadd231ps %%" r "14,%%" r "15,%%" r "1\n"         \
    "vfmadd231ps %%" r "14,%%" r "15,%%" r "2\n vfmadd231ps %%" r "14,%%" r "15,%%" r "3\n"         \
    "vfmadd231ps %%" r "14,%%" r "15,%%" r "4\n vfmadd231ps %%" r "14,%%" r "15,%%" r "5\n"         \
    "vfmadd231ps %%" r "14,%%" r "15,%%" r "6\n vfmadd231ps %%" r "14,%%" r "15,%%" r "7\n"         \
    "vfmadd231ps %%" r "14,%%" r "15,%%" r "8\n vfmadd231ps %%" r "14,%%" r "15,%%" r "9\n"         \
    "vfmadd231ps %%" r "14,%%" r "15,%%" r "10\n vfmadd231ps %%" r "14,%%" r "15,%%" r "11\n"

__attribute__((target("avx512f"))) static void fmas512(long n)
{
    __asm__ volatile("vxorps %%zmm14, %%zmm14, %%zmm14\n vxorps %%zmm15, %%zmm15, %%zmm15\n"
                     "1:\n" LC_TWELVE_FMAS("zmm") "dec %0\n jnz 1b\n"
                     : "+r"(n) :: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                        "xmm9", "xmm10", "xmm11", "xmm14", "xmm15", "cc");
}

__attribute__((target("avx2,fma"))) static void fmas256(long n)
{
    __asm__ volatile("vxorps %%ymm14, %%ymm14, %%ymm14\n vxorps %%ymm15, %%ymm15, %%ymm15\n"
                     "1:\n" LC_TWELVE_FMAS("ymm") "dec %0\n jnz 1b\n"
                     : "+r"(n) :: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                        "xmm9", "xmm10", "xmm11", "xmm14", "xmm15", "cc");
}

int main(void)
{
    const long n = 2000000;
    double seconds;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        LC_BEST_SECONDS(seconds, 7, 3, fmas512(n));
        printf("512-bit FMAs: %.1f GFLOP/s (%.2f G FMA instructions/s)\n", n * 12 * 32 / seconds / 1e9,
               n * 12 / seconds / 1e9);
    }
    LC_BEST_SECONDS(seconds, 7, 3, fmas256(n));
    printf("256-bit FMAs: %.1f GFLOP/s (%.2f G FMA instructions/s)\n", n * 12 * 16 / seconds / 1e9,
           n * 12 / seconds / 1e9);
    return 0;
}
