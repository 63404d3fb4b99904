/* lstm_gemm_amx.h's blocking and strides, checked on any CPU: the tile instructions are
 * defined here in C (as Intel's manual states them, with its checks on the configured tile
 * shapes), the product is run over shapes with whole and partial blocks of rows and a lone
 * last panel, and compared with a double sum of the same bfloat16 operands.  Cells outside
 * the product (margins of C) must keep the poison they start with.
 *
 *   cc -O2 -I lstmcore/_native tests/native/amx_emulated.c -o amx_emulated -lm && ./amx_emulated
 *
 * Prints "ok: N products" and exits 0, or names the first wrong case and exits 1.
 */
#define LC_AMX_EMULATE 1
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static struct { int rows, colsb; uint8_t data[16 * 64]; } tmm[8];
static int tiles_configured;

static void fail(const char *what, int t)
{
    fprintf(stderr, "tile %d: %s\n", t, what);
    exit(2);
}

static void emu_loadconfig(const uint8_t *cfg)
{
    if (cfg[0] != 1) fail("palette is not 1", -1);
    for (int t = 0; t < 8; t++) {
        uint16_t colsb;
        memcpy(&colsb, cfg + 16 + 2 * t, 2);
        tmm[t].colsb = colsb;
        tmm[t].rows = cfg[48 + t];
        if (colsb > 64 || tmm[t].rows > 16) fail("configured beyond 16 rows of 64 bytes", t);
    }
    tiles_configured = 1;
}

static void emu_check(int t)
{
    if (!tiles_configured || !tmm[t].rows || !tmm[t].colsb) fail("used but not configured", t);
}

static void emu_loadd(int t, const void *base, size_t stride)
{
    emu_check(t);
    for (int r = 0; r < tmm[t].rows; r++)
        memcpy(tmm[t].data + r * 64, (const uint8_t *)base + r * stride, tmm[t].colsb);
}

static void emu_stored(int t, void *base, size_t stride)
{
    emu_check(t);
    for (int r = 0; r < tmm[t].rows; r++)
        memcpy((uint8_t *)base + r * stride, tmm[t].data + r * 64, tmm[t].colsb);
}

static void emu_zero(int t)
{
    emu_check(t);
    memset(tmm[t].data, 0, sizeof tmm[t].data);
}

static float emu_bf16(const uint8_t *p)
{
    uint32_t bits = (uint32_t)(p[0] | (p[1] << 8)) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* tdpbf16ps c, a, b: c[m][n] += a[m][2k] b[k][2n] + a[m][2k+1] b[k][2n+1], in float32 */
static void emu_dpbf16ps(int c, int a, int b)
{
    emu_check(c), emu_check(a), emu_check(b);
    if (tmm[c].rows != tmm[a].rows || tmm[b].rows != tmm[a].colsb / 4 || tmm[c].colsb != tmm[b].colsb)
        fail("shapes of tdpbf16ps do not agree", c);
    for (int m = 0; m < tmm[c].rows; m++)
        for (int n = 0; n < tmm[c].colsb / 4; n++) {
            float sum;
            memcpy(&sum, tmm[c].data + m * 64 + 4 * n, 4);
            for (int k = 0; k < tmm[a].colsb / 4; k++) {
                sum += emu_bf16(tmm[a].data + m * 64 + 4 * k) * emu_bf16(tmm[b].data + k * 64 + 4 * n);
                sum += emu_bf16(tmm[a].data + m * 64 + 4 * k + 2) * emu_bf16(tmm[b].data + k * 64 + 4 * n + 2);
            }
            memcpy(tmm[c].data + m * 64 + 4 * n, &sum, 4);
        }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>   /* first, so that its own tile intrinsics give way to the ones below */
#endif
#undef _tile_loadconfig
#undef _tile_loadd
#undef _tile_stored
#undef _tile_zero
#undef _tile_dpbf16ps
#undef _tile_release
#define _tile_loadconfig(cfg) emu_loadconfig((const uint8_t *)(cfg))
#define _tile_loadd(t, base, stride) emu_loadd(t, base, stride)
#define _tile_stored(t, base, stride) emu_stored(t, base, stride)
#define _tile_zero(t) emu_zero(t)
#define _tile_dpbf16ps(c, a, b) emu_dpbf16ps(c, a, b)
#define _tile_release() (tiles_configured = 0)

#include "lstm_gemm_bf16.h"

#define POISON 12345.0f

static float draw(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* One product; 0 when right. */
static int check(int M, int K, int N, int accumulate)
{
    int pairs = K / 2, ldc = N + 16;
    unsigned state = (unsigned)(M * 7919 + K * 31 + N);
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * (M + 1) * ldc);
    uint16_t *A2 = malloc(sizeof(uint16_t) * M * K);
    uint16_t *P = malloc(sizeof(uint16_t) * lc_packed_size_bf16(K, N));
    for (int i = 0; i < M * K; i++) A[i] = draw(&state), A2[i] = lc_bf16_bits(A[i]);
    for (int i = 0; i < K * N; i++) B[i] = draw(&state);
    for (int i = 0; i < (M + 1) * ldc; i++) C[i] = (i % ldc < N && i / ldc < M) ? draw(&state) : POISON;
    float *before = malloc(sizeof(float) * (M + 1) * ldc);
    memcpy(before, C, sizeof(float) * (M + 1) * ldc);
    lc_pack_bf16(K, N, B, N, 0, P);
    if (!lc_amx_takes(M, pairs, N)) {
        fprintf(stderr, "M=%d K=%d N=%d: not taken\n", M, K, N);
        return 1;
    }
    lc_gemm_bf16_amx(M, pairs, N, A2, P, C, ldc, accumulate);
    int wrong = 0;
    for (int m = 0; m <= M && !wrong; m++)
        for (int n = 0; n < ldc && !wrong; n++) {
            float got = C[m * ldc + n];
            if (m == M || n >= N) {
                wrong = got != POISON;
                continue;
            }
            double want = accumulate ? before[m * ldc + n] : 0.0, scale = fabs(want);
            for (int k = 0; k < K; k++) {
                double term = (double)lc_bf16_round(A[m * K + k]) * lc_bf16_round(B[k * N + n]);
                want += term, scale += fabs(term);
            }
            wrong = fabs(got - want) > 1e-6 * scale + 1e-30;
            if (wrong)
                fprintf(stderr, "M=%d K=%d N=%d accumulate=%d: C[%d][%d] = %g, want %g\n",
                        M, K, N, accumulate, m, n, got, want);
        }
    free(A), free(B), free(C), free(A2), free(P), free(before);
    return wrong;
}

int main(void)
{
    const int rows[] = {16, 17, 31, 32, 33, 40, 64, 70}, ks[] = {32, 64, 128}, ns[] = {16, 32, 48, 512};
    int count = 0;
    for (size_t a = 0; a < sizeof rows / sizeof *rows; a++)
        for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
            for (size_t c = 0; c < sizeof ns / sizeof *ns; c++)
                for (int accumulate = 0; accumulate < 2; accumulate++, count++)
                    if (check(rows[a], ks[b], ns[c], accumulate))
                        return 1;
    if (lc_amx_takes(15, 16, 32) || lc_amx_takes(32, 8, 32) || lc_amx_takes(32, 16, 24)) {
        fprintf(stderr, "took a block the tiles cannot hold\n");
        return 1;
    }
    printf("ok: %d products\n", count);
    return 0;
}
