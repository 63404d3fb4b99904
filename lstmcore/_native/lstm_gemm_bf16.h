/* Products with bfloat16 operands: the opt-in inference path (lstmcore.precision).
 *
 * Why: at batch 1 a step reads the whole recurrent kernel for a few
 * multiply-adds per weight, so its speed is the speed of streaming the
 * weights from cache; bfloat16 halves their bytes.  With AVX512-BF16
 * (Cooper Lake, Sapphire Rapids, Zen 4) vdpbf16ps also does two
 * multiply-adds per float32 lane per instruction.
 *
 * What is rounded: the weights (once, when packed) and the left operand's
 * rows as they enter the product: each step's h against the recurrent
 * kernel, and for wide inputs each block's x against the input kernel
 * (lstm_kernels.pxi).  Products accumulate in float32 and the state (h, c),
 * the gates and the cell stay float32.
 *
 * Two implementations of the same arithmetic, chosen per call by the CPU:
 *   native   (LC_BF16_NATIVE): panels of bfloat16 pairs, vdpbf16ps, or AMX tiles for
 *            blocks of 16 rows and more where the CPU has them (lstm_gemm_amx.h);
 *   emulated (LC_BF16_EMULATED): the float32 panels and kernel of this
 *            variant on values rounded to bfloat16 (exact in float32), so a
 *            CPU without the instructions gives the same numbers up to the
 *            order of the float32 sums (and vdpbf16ps's flushing of
 *            denormals), only not faster.
 *
 * Native layout of a packed K x N operand: ceil(N / 16) panels, each
 * ceil(K / 2) rows of 16 pairs (k, k + 1) of bfloat16, 64 bytes: one
 * 512-bit register; an odd K's last pair is padded with zero.
 */
#ifndef LSTMCORE_LSTM_GEMM_BF16_H
#define LSTMCORE_LSTM_GEMM_BF16_H

#include <stdint.h>
#include <string.h>
#include "lstm_gemm.h"

enum { LC_BF16_OFF = 0, LC_BF16_EMULATED = 1, LC_BF16_NATIVE = 2 };

/* float32 -> bfloat16 bits, round to nearest even; NaN stays NaN (quietened). */
static inline uint16_t lc_bf16_bits(float x)
{
    union { float f; uint32_t u; } v = {x};
    if ((v.u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((v.u >> 16) | 0x40u);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

static inline float lc_bf16_round(float x)
{
    union { uint32_t u; float f; } v = {(uint32_t)lc_bf16_bits(x) << 16};
    return v.f;
}

/* Elements of a packed bfloat16 K x N operand (uint16). */
static inline size_t lc_packed_size_bf16(int K, int N)
{
    return lc_packed_size(K + (K & 1), N);
}

/* Pack op(B) (see lc_pack_f) as bfloat16 pairs. */
static void lc_pack_bf16(int K, int N, const float *B, int ldb, int transpose, uint16_t *P)
{
    int panels = (N + LC_NR - 1) / LC_NR, pairs = (K + 1) / 2;
    for (int p = 0; p < panels; p++) {
        uint16_t *panel = P + (size_t)p * pairs * 2 * LC_NR;
        for (int k = 0; k < 2 * pairs; k++)
            for (int c = 0; c < LC_NR; c++) {
                int col = p * LC_NR + c;
                float b = (k >= K || col >= N) ? 0.0f
                          : transpose ? B[(size_t)col * ldb + k] : B[(size_t)k * ldb + col];
                panel[(size_t)(k / 2) * 2 * LC_NR + 2 * c + (k & 1)] = lc_bf16_bits(b);
            }
    }
}

/* Pack op(B) as float32 panels of values rounded to bfloat16 (the emulated path). */
static void lc_pack_bf16_emulated(int K, int N, const float *B, int ldb, int transpose, float *P)
{
    lc_pack_f(K, N, B, ldb, transpose, P);
    size_t n = lc_packed_size(K, N);
    for (size_t i = 0; i < n; i++) P[i] = lc_bf16_round(P[i]);
}

/* The rows of A are rounded into a buffer on the stack, a block of rows at a
 * time (all of them for the usual sizes: 64 rows of 512 units is 64 KiB), so a
 * product needs no allocation; lstmcore.ops limits this path to units that
 * leave at least one row per block. */
#define LC_BF16_BLOCK_BYTES 65536
#define LC_BF16_MAX_K (LC_BF16_BLOCK_BYTES / 4)

static inline int lc_bf16_block_rows(int M, size_t row_bytes)
{
    size_t rows = LC_BF16_BLOCK_BYTES / row_bytes;
    return rows < 1 ? 1 : (rows > (size_t)M ? M : (int)rows);
}

/* The AVX512-BF16 intrinsics need gcc 10 or clang 9; an older compiler builds the emulated path only. */
#if defined(__clang__)
#define LC_BF16_COMPILER (__clang_major__ >= 9)
#elif defined(__GNUC__)
#define LC_BF16_COMPILER (__GNUC__ >= 10)
#else
#define LC_BF16_COMPILER 0
#endif

#if LC_HAVE_AVX512 && LC_BF16_COMPILER
#define LC_HAVE_BF16_KERNEL 1
#else
#define LC_HAVE_BF16_KERNEL 0
#endif
#include "lstm_gemm_amx.h"   /* the same product on AMX tiles, for blocks of 16 rows and more */

#if LC_HAVE_BF16_KERNEL
#define LC_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

/* C[r, 0:32] = [C +] A2[r, :] @ [panel p0 | panel p1] for R rows, A2 the rows as bfloat16
 * pairs (32-bit words, lda2 words apart).  The row macros are lstm_gemm_avx512.h's; as
 * there, few rows split k into KU partial sums: batch 1 with one chain per panel waited on
 * vdpbf16ps's latency (lc_bkernel_1 at 62 % of a step, about 1.1 us for 128 units). */
#define LC_B_DECLARE(u, r)                                                              \
    __m512 s##u##_##r##_0 = (u || !accumulate) ? _mm512_setzero_ps()                     \
                              : _mm512_loadu_ps(C + (size_t)(r) * ldc);                  \
    __m512 s##u##_##r##_1 = (u || !accumulate) ? _mm512_setzero_ps()                     \
                              : _mm512_loadu_ps(C + (size_t)(r) * ldc + LC_NR);
#define LC_B_LOAD_B(u)                                                                  \
    __m512bh b##u##_0 = (__m512bh)_mm512_loadu_si512(p0 + (size_t)(k + (u)) * 2 * LC_NR); \
    __m512bh b##u##_1 = (__m512bh)_mm512_loadu_si512(p1 + (size_t)(k + (u)) * 2 * LC_NR);
#define LC_B_STEP(u, r) {                                                               \
    __m512bh a = (__m512bh)_mm512_set1_epi32((int)A2[(size_t)(r) * lda2 + k + (u)]);      \
    s##u##_##r##_0 = _mm512_dpbf16_ps(s##u##_##r##_0, a, b##u##_0);                      \
    s##u##_##r##_1 = _mm512_dpbf16_ps(s##u##_##r##_1, a, b##u##_1); }
#define LC_B_FOLD(u, r)                                                                 \
    s0_##r##_0 = _mm512_add_ps(s0_##r##_0, s##u##_##r##_0);                              \
    s0_##r##_1 = _mm512_add_ps(s0_##r##_1, s##u##_##r##_1);
#define LC_B_STORE(u, r)                                                                \
    _mm512_storeu_ps(C + (size_t)(r) * ldc, s0_##r##_0);                                 \
    _mm512_storeu_ps(C + (size_t)(r) * ldc + LC_NR, s0_##r##_1);
#define LC_B_LOADS_1 LC_B_LOAD_B(0)
#define LC_B_LOADS_2 LC_B_LOADS_1 LC_B_LOAD_B(1)
#define LC_B_LOADS_4 LC_B_LOADS_2 LC_B_LOAD_B(2) LC_B_LOAD_B(3)
#define LC_B_FOLDS_1(R)
#define LC_B_FOLDS_2(R) LC_Z_ROWS_##R(LC_B_FOLD, 1)
#define LC_B_FOLDS_4(R) LC_B_FOLDS_2(R) LC_Z_ROWS_##R(LC_B_FOLD, 2) LC_Z_ROWS_##R(LC_B_FOLD, 3)

#define LC_B_KERNEL(R, KU)                                                             \
LC_BF16_TARGET static void lc_bkernel_##R##_##KU(int pairs, const uint32_t *A2, int lda2,     \
                                          const uint16_t *p0, const uint16_t *p1,      \
                                          float *C, int ldc, int accumulate)           \
{                                                                                      \
    LC_TILE_BODY(B, R, KU, pairs)                                                      \
}
LC_TILE_HEIGHTS(LC_B_KERNEL)

static void lc_bkernel_rows(int rows, int splits, int pairs, const uint32_t *A2, int lda2,
                            const uint16_t *p0, const uint16_t *p1, float *C, int ldc, int accumulate)
{
#define LC_B_CALL(R, KU) lc_bkernel_##R##_##KU(pairs, A2, lda2, p0, p1, C, ldc, accumulate)
    LC_TILE_SWITCH(splits, rows, LC_B_CALL)
#undef LC_B_CALL
}

/* One panel (16 columns) for one row, a panel at a time: batch 1's weights as one stream from L2
 * (lstm_gemm_avx512.h's lc_gemm_packed_row_z says why).  Accumulators y<u>_0, C's columns past
 * the mask neither read nor written; each element summed in the two-panel kernel's order. */
#define LC_BY_DECLARE(u, r)                                                             \
    __m512 y##u##_##r = (u || !accumulate) ? _mm512_setzero_ps()                         \
                          : _mm512_maskz_loadu_ps(mask, C + (size_t)(r) * ldc);
#define LC_BY_LOAD_B(u)                                                                 \
    __m512bh b##u = (__m512bh)_mm512_loadu_si512(p0 + (size_t)(k + (u)) * 2 * LC_NR);
#define LC_BY_STEP(u, r)                                                                \
    y##u##_##r = _mm512_dpbf16_ps(y##u##_##r,                                           \
                                  (__m512bh)_mm512_set1_epi32((int)A2[(size_t)(r) * lda2 + k + (u)]), b##u);
#define LC_BY_FOLD(u, r) y0_##r = _mm512_add_ps(y0_##r, y##u##_##r);
#define LC_BY_STORE(u, r) _mm512_mask_storeu_ps(C + (size_t)(r) * ldc, mask, y0_##r);
#define LC_BY_LOADS_1 LC_BY_LOAD_B(0)
#define LC_BY_LOADS_2 LC_BY_LOADS_1 LC_BY_LOAD_B(1)
#define LC_BY_LOADS_4 LC_BY_LOADS_2 LC_BY_LOAD_B(2) LC_BY_LOAD_B(3)
#define LC_BY_FOLDS_1(R)
#define LC_BY_FOLDS_2(R) LC_Z_ROWS_##R(LC_BY_FOLD, 1)
#define LC_BY_FOLDS_4(R) LC_BY_FOLDS_2(R) LC_Z_ROWS_##R(LC_BY_FOLD, 2) LC_Z_ROWS_##R(LC_BY_FOLD, 3)

#define LC_BY_KERNEL(R, KU)                                                            \
LC_BF16_TARGET static void lc_bykernel_##R##_##KU(int pairs, const uint32_t *A2, int lda2,    \
                                           const uint16_t *p0, float *C, int ldc,     \
                                           __mmask16 mask, int accumulate)            \
{                                                                                      \
    LC_TILE_BODY(BY, R, KU, pairs)                                                     \
}
LC_BY_KERNEL(1, 4) LC_BY_KERNEL(1, 2) LC_BY_KERNEL(1, 1)

/* The one row's product a panel at a time; `splits` as lc_gemm_packed_f's (lc_tile_splits of 1
 * row: 4, 2 or 1). */
static void lc_gemm_bf16_row(int pairs, int N, const uint32_t *A2, const uint16_t *P, float *C,
                             int accumulate, int splits)
{
    int panels = (N + LC_NR - 1) / LC_NR, ku = lc_tile_splits(splits, 1);
    for (int p = 0; p < panels; p++) {
        int width = N - p * LC_NR < LC_NR ? N - p * LC_NR : LC_NR;
        const uint16_t *panel = P + (size_t)p * pairs * 2 * LC_NR;
        __mmask16 mask = (__mmask16)((1u << width) - 1u);
        if (ku == 4)
            lc_bykernel_1_4(pairs, A2, pairs, panel, C + p * LC_NR, 0, mask, accumulate);
        else if (ku == 2)
            lc_bykernel_1_2(pairs, A2, pairs, panel, C + p * LC_NR, 0, mask, accumulate);
        else
            lc_bykernel_1_1(pairs, A2, pairs, panel, C + p * LC_NR, 0, mask, accumulate);
    }
}

/* The rows of A as bfloat16 pairs, an odd K padded with zero. */
LC_BF16_TARGET static void lc_rows_to_bf16(int M, int K, const float *A, int lda, uint16_t *A2)
{
    int width = K + (K & 1);
    for (int r = 0; r < M; r++) {
        const float *a = A + (size_t)r * lda;
        uint16_t *o = A2 + (size_t)r * width;
        int k = 0;
        for (; k + 16 <= K; k += 16)
            _mm256_storeu_si256((__m256i *)(o + k), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(a + k)));
        for (; k < K; k++) o[k] = lc_bf16_bits(a[k]);
        if (K & 1) o[K] = 0;
    }
}

/* One block of rows (M <= block), A2 their bfloat16 pairs; `splits` as lc_gemm_packed_f's;
 * `one_stream`: one row a panel at a time (the row split, lc_gemm_packed_bf16_alone). */
static void lc_gemm_bf16_block(int M, int pairs, int N, const uint16_t *A2, const uint16_t *P,
                               float *C, int ldc, int accumulate, int splits, int one_stream)
{
    if (M == 1 && one_stream) {
        lc_gemm_bf16_row(pairs, N, (const uint32_t *)A2, P, C, accumulate, splits);
        return;
    }
#if LC_HAVE_AMX
    if (lc_amx_takes(M, pairs, N)) {
        lc_gemm_bf16_amx(M, pairs, N, A2, P, C, ldc, accumulate);
        return;
    }
#endif
    float tile[LC_ZMR * 2 * LC_NR];
    int panels = (N + LC_NR - 1) / LC_NR;
    for (int p = 0; p < panels; p += 2) {
        const uint16_t *p0 = P + (size_t)p * pairs * 2 * LC_NR;
        const uint16_t *p1 = p + 1 < panels ? p0 + (size_t)pairs * 2 * LC_NR : p0;
        int c0 = p * LC_NR;
        int width = N - c0 < 2 * LC_NR ? N - c0 : 2 * LC_NR;
        for (int i = 0, rows; i < M; i += rows) {
            rows = lc_ztile_rows(M - i);
            const uint32_t *a = (const uint32_t *)(A2 + (size_t)i * 2 * pairs);
            float *c = C + (size_t)i * ldc + c0;
            if (width == 2 * LC_NR) {
                lc_bkernel_rows(rows, lc_tile_splits(splits, rows), pairs, a, pairs, p0, p1, c, ldc, accumulate);
                continue;
            }
            lc_tile_in(rows, 2 * LC_NR, c, ldc, width, accumulate, tile);
            lc_bkernel_rows(rows, lc_tile_splits(splits, rows), pairs, a, pairs, p0, p1, tile, 2 * LC_NR, 1);
            lc_tile_out(rows, 2 * LC_NR, tile, c, ldc, width);
        }
    }
}

static void lc_gemm_packed_bf16_native(int M, int K, int N, const float *A, int lda, const uint16_t *P,
                                       float *C, int ldc, int accumulate, int splits, int one_stream)
{
    uint16_t A2[LC_BF16_BLOCK_BYTES / sizeof(uint16_t)] __attribute__((aligned(64)));
    int pairs = (K + 1) / 2;
    int block = lc_bf16_block_rows(M, (size_t)2 * pairs * sizeof(uint16_t));
    for (int i = 0; i < M; i += block) {
        int rows = M - i < block ? M - i : block;
        lc_rows_to_bf16(rows, K, A + (size_t)i * lda, lda, A2);
        lc_gemm_bf16_block(rows, pairs, N, A2, P, C + (size_t)i * ldc, ldc, accumulate, splits, one_stream);
    }
}
#endif

/* Whether this build and CPU run the native bfloat16 kernel. */
static int lc_bf16_native_available(void)
{
#if LC_HAVE_BF16_KERNEL
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bf16") != 0;
#else
    return 0;
#endif
}

static void lc_gemm_packed_bf16_emulated(int M, int K, int N, const float *A, int lda,
                                         const float *P, float *C, int ldc, int accumulate, int splits)
{
    float rounded[LC_BF16_BLOCK_BYTES / sizeof(float)] __attribute__((aligned(64)));
    int block = lc_bf16_block_rows(M, (size_t)K * sizeof(float));
    for (int i = 0; i < M; i += block) {
        int rows = M - i < block ? M - i : block;
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < K; k++)
                rounded[(size_t)r * K + k] = lc_bf16_round(A[(size_t)(i + r) * lda + k]);
        lc_gemm_packed_f(rows, K, N, rounded, K, P, C + (size_t)i * ldc, ldc, accumulate, splits);
    }
}

/* C = [C +] A @ packed op(B) with the weights and A's rows in bfloat16 (`mode` native or
 * emulated, P packed by the matching function), `splits` as lc_gemm_packed_f's.  K <= LC_BF16_MAX_K. */
static void lc_gemm_packed_bf16_on(int mode, int M, int K, int N, const float *A, int lda, const void *P,
                                   float *C, int ldc, int accumulate, int splits, int one_stream)
{
#if LC_HAVE_BF16_KERNEL
    if (mode == LC_BF16_NATIVE) {
        lc_gemm_packed_bf16_native(M, K, N, A, lda, (const uint16_t *)P, C, ldc, accumulate, splits, one_stream);
        return;
    }
#endif
    (void)one_stream;
    lc_gemm_packed_bf16_emulated(M, K, N, A, lda, (const float *)P, C, ldc, accumulate, splits);
}

static void lc_gemm_packed_bf16(int mode, int M, int K, int N, const float *A, int lda,
                                const void *P, float *C, int ldc, int accumulate, int splits)
{
    lc_gemm_packed_bf16_on(mode, M, K, N, A, lda, P, C, ldc, accumulate, splits, 0);
}

/* lc_gemm_packed_bf16 for a thread computing a step alone (the row split): one row a panel at a
 * time, as lc_gemm_packed_alone_f (same bits). */
static void lc_gemm_packed_bf16_alone(int mode, int M, int K, int N, const float *A, int lda,
                                      const void *P, float *C, int ldc, int accumulate, int splits)
{
    lc_gemm_packed_bf16_on(mode, M, K, N, A, lda, P, C, ldc, accumulate, splits, 1);
}

#endif
