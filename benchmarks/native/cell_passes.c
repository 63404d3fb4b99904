/* The float32 cell (lstm_cell.h, the build's widest version) alone: the activation pass over a
 * row of 4H gates, the second pass (c, tanh(c), h) over H cells, and the whole cell of one step
 * for B rows.  Per 16 values, so the widths compare.
 *
 *   gcc -O3 -march=native -fno-math-errno -fno-trapping-math -Ilstmcore/_native \
 *       benchmarks/native/cell_passes.c -o /tmp/cell_passes -lm
 *   /tmp/cell_passes 64 4      # units, rows
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lstm_cell.h"
#include "timing.h"

int main(int argc, char **argv)
{
    int H = argc > 1 ? atoi(argv[1]) : 64, B = argc > 2 ? atoi(argv[2]) : 4, G = 4 * H;
    size_t gates_bytes = sizeof(float) * (size_t)B * G, state_bytes = sizeof(float) * (size_t)B * H;
    float *gates = aligned_alloc(64, gates_bytes), *source = aligned_alloc(64, gates_bytes);
    float *bias = calloc(G, sizeof(float)), *c_prev = aligned_alloc(64, state_bytes);
    float *c = aligned_alloc(64, state_bytes), *h = aligned_alloc(64, state_bytes), *y = aligned_alloc(64, state_bytes);
    for (int i = 0; i < B * G; i++) source[i] = (float)((i * 7919) % 1000) / 250.0f - 2.0f;
    for (int i = 0; i < B * H; i++) c_prev[i] = (float)((i * 31) % 100) / 50.0f - 1.0f;
    long repeats = (long)(1e8 / (B * G)) + 1;
    double copy, cell, activation;
    LC_BEST_SECONDS(copy, 7, repeats, memcpy(gates, source, gates_bytes); __asm__ volatile("" ::: "memory"));
    LC_BEST_SECONDS(cell, 7, repeats, memcpy(gates, source, gates_bytes);
                    for (int i = 0; i < B; i++)
                        lc_cell_forward_f(H, H, gates + (size_t)i * G, bias, c_prev + (size_t)i * H,
                                          c + (size_t)i * H, h + (size_t)i * H, y + (size_t)i * H));
    LC_BEST_SECONDS(activation, 7, repeats, memcpy(gates, source, gates_bytes);
                    for (int i = 0; i < B; i++)
                        lc_activate_f(G, gates + (size_t)i * G, bias, 2 * H, 3 * H));
    cell -= copy;
    activation -= copy;
    double second = cell - activation;
    printf("H=%d B=%d: cell %.3f us a step; activations %.2f ns per 16 gates, second pass %.2f ns per 16 cells\n",
           H, B, cell * 1e6, activation * 1e9 / (B * G / 16.0), second * 1e9 / (B * H / 16.0));
    return 0;
}
