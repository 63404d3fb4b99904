/* The recurrent product alone: lc_gemm_packed_f (lstm_gemm.h, the build's widest kernel) for M
 * rows times a packed H x 4H recurrent kernel, as one LSTM step runs it.  Prints the weights'
 * read rate (what binds at batch 1: compare with stream_read) and the arithmetic rate (what binds
 * at batch 32 and more: compare with sgemm), and the same through lc_gemm_packed_alone_f, the row
 * split's entry (one row a panel at a time).
 *
 *   gcc -O3 -march=native -fno-math-errno -fno-trapping-math -Ilstmcore/_native \
 *       benchmarks/native/packed_product.c -o /tmp/packed_product
 *   /tmp/packed_product 128 1      # units, rows
 */
#include <stdio.h>
#include <stdlib.h>
#include "lstm_gemm.h"
#include "timing.h"

int main(int argc, char **argv)
{
    int H = argc > 1 ? atoi(argv[1]) : 128, M = argc > 2 ? atoi(argv[2]) : 1, G = 4 * H;
    float *kernel = malloc(sizeof(float) * H * G);
    float *packed = aligned_alloc(64, sizeof(float) * lc_packed_size(H, G));
    float *h = aligned_alloc(64, sizeof(float) * (size_t)M * H), *gates = aligned_alloc(64, sizeof(float) * (size_t)M * G);
    for (int i = 0; i < H * G; i++) kernel[i] = (float)((i * 7919) % 1000) / 1e4f;
    for (int i = 0; i < M * H; i++) h[i] = 0.01f * (float)(i % 13);
    lc_pack_f(H, G, kernel, G, 0, packed);
    double seconds, alone;
    /* the h update keeps the compiler from hoisting the product out of the loop */
    LC_BEST_SECONDS(seconds, 7, (long)(2e9 / (H * G * 4.0)) + 1,
                    lc_gemm_packed_f(M, H, G, h, H, packed, gates, G, 0, lc_k_splits(M)); h[0] += gates[5] * 1e-30f);
    /* the row split's entry: one row a panel at a time (one stream of weights) */
    LC_BEST_SECONDS(alone, 7, (long)(2e9 / (H * G * 4.0)) + 1,
                    lc_gemm_packed_alone_f(M, H, G, h, H, packed, gates, G, 0, lc_k_splits(M)); h[0] += gates[5] * 1e-30f);
    printf("H=%d rows=%d: %.3f us, weights %.1f GB/s, %.1f GFLOP/s; alone: %.3f us, %.1f GB/s\n", H, M,
           seconds * 1e6, (double)H * G * 4 / seconds / 1e9, 2.0 * M * H * G / seconds / 1e9,
           alone * 1e6, (double)H * G * 4 / alone / 1e9);
    return 0;
}
