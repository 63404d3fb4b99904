/* The weight-gradient product C = [C +] A^T B on operands stored k-major.
 *
 * Training ends each LSTM call with d_rkernel = sum over steps of
 * h[s-1]^T dgates[s], and for wide inputs d_kernel = x^T dgates: row-major
 * A (K x M: steps x batch rows of h or x) and B (K x N: the same rows of the
 * gate gradients), with K in the thousands and M, N the layer's widths.
 * OpenBLAS's sgemm spent a third of its time on that shape copying both
 * operands into its own layout (sgemm_itcopy and _otcopy were 10 % of dna
 * training) and reached 53-72 GFLOP/s on long's, dna's and dna256's shapes
 * on one Zen 4 core, whose peak is about 113 (scipy's OpenBLAS, the one
 * lstmcore calls: benchmarks/results/bench_products.md).  Both operands have the
 * layout a register tile wants: at each k the tile's R rows of C are R
 * consecutive floats of A's row k (broadcast one at a time) and its 32
 * columns are two vectors of B's row k.  The k range is cut into blocks of
 * LC_TN_KC rows; a block of A is copied into one panel per row tile (kc rows
 * of the tile's floats, read as a stream from L2), and B's block, up to
 * LC_TN_NC columns at a time, into strips as wide as a tile (32 columns with
 * AVX-512, 16 with AVX2: 16 or 8 KiB) that stay in L1 while every row tile
 * of C passes over them.
 *
 * Tiles are up to 12 rows x 32 columns with AVX-512 (24 zmm accumulators,
 * as lstm_gemm_avx512.h; the last columns masked), up to 6 rows x 16 columns
 * with AVX2 (as lstm_gemm.h; the last columns through a small tile), so
 * nothing past column N is read or written.  Builds without AVX2 keep BLAS
 * (LC_HAVE_GEMM_TN is 0), and so do M < 4 (fewer accumulators than the FMA
 * latency needs) and N > 1024, where OpenBLAS measured level or faster.
 * Each C element is the sum over k in order, block by block: a fixed order.
 */
#ifndef LSTMCORE_LSTM_GEMM_TN_H
#define LSTMCORE_LSTM_GEMM_TN_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "lstm_gemm.h"

#if LC_HAVE_AVX512
#define LC_HAVE_GEMM_TN 1

#define LC_TN_STRIP (2 * LC_NR)   /* columns of a strip of B: a tile's width */

#define LC_TN_DECLARE(u, r)                                                             \
    __m512 t##r##_0 = accumulate ? _mm512_maskz_loadu_ps(m0, C + (size_t)(r) * ldc)      \
                                 : _mm512_setzero_ps();                                  \
    __m512 t##r##_1 = accumulate ? _mm512_maskz_loadu_ps(m1, C + (size_t)(r) * ldc + LC_NR) \
                                 : _mm512_setzero_ps();
#define LC_TN_STEP(u, r) {                                                              \
    __m512 a = _mm512_set1_ps(a_k[r]);                                                   \
    t##r##_0 = _mm512_fmadd_ps(a, b0, t##r##_0);                                         \
    t##r##_1 = _mm512_fmadd_ps(a, b1, t##r##_1); }
#define LC_TN_STORE(u, r)                                                               \
    _mm512_mask_storeu_ps(C + (size_t)(r) * ldc, m0, t##r##_0);                          \
    _mm512_mask_storeu_ps(C + (size_t)(r) * ldc + LC_NR, m1, t##r##_1);

/* The lanes of a 16-column vector that hold columns below `width` (which may be <= 0). */
static inline __mmask16 lc_tn_lanes(int width)
{
    return width >= LC_NR ? (__mmask16)0xFFFF : width <= 0 ? 0 : (__mmask16)((1u << width) - 1u);
}

/* C[r, 0:32] = [C +] sum_k A[k, r] S[k, 0:32] for R rows: A a panel of A (K rows of R floats),
 * S a strip of B (K rows of 32 floats, aligned); lanes of C outside m0 | m1 are left as they are. */
#define LC_TN_KERNEL(R)                                                                \
static inline void lc_tn_kernel_##R(int K, const float *A, const float *S,             \
                                    __mmask16 m0, __mmask16 m1, float *C, int ldc,     \
                                    int accumulate)                                    \
{                                                                                      \
    LC_Z_ROWS_##R(LC_TN_DECLARE, 0)                                                    \
    for (int k = 0; k < K; k++) {                                                      \
        const float *a_k = A + (size_t)k * R;                                          \
        __m512 b0 = _mm512_load_ps(S + (size_t)k * 2 * LC_NR);                         \
        __m512 b1 = _mm512_load_ps(S + (size_t)k * 2 * LC_NR + LC_NR);                 \
        __asm__("" : "+v"(b0), "+v"(b1));                                              \
        LC_Z_ROWS_##R(LC_TN_STEP, 0)                                                   \
    }                                                                                  \
    LC_Z_ROWS_##R(LC_TN_STORE, 0)                                                      \
}
LC_TN_KERNEL(4)
LC_TN_KERNEL(5)
LC_TN_KERNEL(6)
LC_TN_KERNEL(7)
LC_TN_KERNEL(8)
LC_TN_KERNEL(9)
LC_TN_KERNEL(10)
LC_TN_KERNEL(11)
LC_TN_KERNEL(12)

static inline void lc_tn_kernel_rows(int rows, int K, const float *A, const float *S,
                                     __mmask16 m0, __mmask16 m1, float *C, int ldc, int accumulate)
{
#define LC_TN_CALL(R) lc_tn_kernel_##R(K, A, S, m0, m1, C, ldc, accumulate)
    switch (rows) { LC_TILE_CASES_5_12(LC_TN_CALL) default: LC_TN_CALL(4); }
#undef LC_TN_CALL
}

static inline int lc_tn_tile_rows(int left) { return lc_ztile_rows(left); }

/* A tile's rows of A's k block, copied as kc rows of `rows` floats: one masked vector a row
 * (memcpy's call cost 6 us in 41). */
static inline void lc_tn_pack_a_rows(int rows, int kc, const float *A, int lda, float *panel)
{
    __mmask16 lanes = lc_tn_lanes(rows);
    for (int k = 0; k < kc; k++)
        _mm512_mask_storeu_ps(panel + (size_t)k * rows, lanes, _mm512_maskz_loadu_ps(lanes, A + (size_t)k * lda));
}

/* One row of B's block into its strip's row (zero past `width` columns left). */
static inline void lc_tn_pack_b_row(int width, const float *src, float *dst)
{
    _mm512_store_ps(dst, _mm512_maskz_loadu_ps(lc_tn_lanes(width), src));
    _mm512_store_ps(dst + LC_NR, _mm512_maskz_loadu_ps(lc_tn_lanes(width - LC_NR), src + LC_NR));
}

/* One tile of C, `width` (possibly more than a strip) columns left from c. */
static inline void lc_tn_tile(int rows, int kc, const float *panel, const float *strip, int width,
                              float *c, int ldc, int add)
{
    lc_tn_kernel_rows(rows, kc, panel, strip, lc_tn_lanes(width), lc_tn_lanes(width - LC_NR), c, ldc, add);
}

#elif LC_HAVE_AVX2
#define LC_HAVE_GEMM_TN 1
#define LC_TN_STRIP LC_NR

#define LC_TN_DECLARE(u, r)                                                             \
    __m256 t##r##_0 = accumulate ? _mm256_loadu_ps(C + (size_t)(r) * ldc) : _mm256_setzero_ps(); \
    __m256 t##r##_1 = accumulate ? _mm256_loadu_ps(C + (size_t)(r) * ldc + 8) : _mm256_setzero_ps();
#define LC_TN_STEP(u, r) {                                                              \
    __m256 a = _mm256_broadcast_ss(a_k + (r));                                           \
    t##r##_0 = _mm256_fmadd_ps(a, b0, t##r##_0);                                         \
    t##r##_1 = _mm256_fmadd_ps(a, b1, t##r##_1); }
#define LC_TN_STORE(u, r)                                                               \
    _mm256_storeu_ps(C + (size_t)(r) * ldc, t##r##_0);                                   \
    _mm256_storeu_ps(C + (size_t)(r) * ldc + 8, t##r##_1);

/* C[r, 0:16] = [C +] sum_k A[k, r] S[k, 0:16] for R rows: A a panel (K rows of R floats), S a
 * strip of B (K rows of 16 floats, aligned). */
#define LC_TN_KERNEL(R)                                                                \
static inline void lc_tn_kernel_##R(int K, const float *A, const float *S, float *C,   \
                                    int ldc, int accumulate)                           \
{                                                                                      \
    LC_ROWS_##R(LC_TN_DECLARE, 0)                                                      \
    for (int k = 0; k < K; k++) {                                                      \
        const float *a_k = A + (size_t)k * R;                                          \
        __m256 b0 = _mm256_load_ps(S + (size_t)k * LC_NR);                             \
        __m256 b1 = _mm256_load_ps(S + (size_t)k * LC_NR + 8);                         \
        __asm__("" : "+x"(b0), "+x"(b1));                                              \
        LC_ROWS_##R(LC_TN_STEP, 0)                                                     \
    }                                                                                  \
    LC_ROWS_##R(LC_TN_STORE, 0)                                                        \
}
LC_TN_KERNEL(1)
LC_TN_KERNEL(2)
LC_TN_KERNEL(3)
LC_TN_KERNEL(4)
LC_TN_KERNEL(5)
LC_TN_KERNEL(6)

static inline void lc_tn_kernel_rows(int rows, int K, const float *A, const float *S, float *C,
                                     int ldc, int accumulate)
{
#define LC_TN_CALL(R) lc_tn_kernel_##R(K, A, S, C, ldc, accumulate)
    switch (rows) { LC_TILE_CASES_2_6(LC_TN_CALL) default: LC_TN_CALL(1); }
#undef LC_TN_CALL
}

/* Tiles of 5 or 6 rows where M allows, as lc_gemm_packed_f's. */
static inline int lc_tn_tile_rows(int left)
{
    int tiles = (left + LC_MR - 1) / LC_MR;
    return left / tiles >= 5 ? left / tiles : (left < LC_MR ? left : LC_MR);
}

static inline void lc_tn_pack_a_rows(int rows, int kc, const float *A, int lda, float *panel)
{
    for (int k = 0; k < kc; k++)
        for (int r = 0; r < rows; r++)
            panel[(size_t)k * rows + r] = A[(size_t)k * lda + r];
}

static inline void lc_tn_pack_b_row(int width, const float *src, float *dst)
{
    if (width >= LC_NR) {
        _mm256_store_ps(dst, _mm256_loadu_ps(src));
        _mm256_store_ps(dst + 8, _mm256_loadu_ps(src + 8));
        return;
    }
    for (int c = 0; c < LC_NR; c++)
        dst[c] = c < width ? src[c] : 0.0f;
}

/* One tile of C; fewer than 16 columns left go through a small tile (lstm_gemm.h's). */
static inline void lc_tn_tile(int rows, int kc, const float *panel, const float *strip, int width,
                              float *c, int ldc, int add)
{
    if (width >= LC_NR) {
        lc_tn_kernel_rows(rows, kc, panel, strip, c, ldc, add);
        return;
    }
    float tile[LC_MR * LC_NR];
    lc_tile_in(rows, LC_NR, c, ldc, width, add, tile);
    lc_tn_kernel_rows(rows, kc, panel, strip, tile, LC_NR, 1);
    lc_tile_out(rows, LC_NR, tile, c, ldc, width);
}

#else
#define LC_HAVE_GEMM_TN 0
#endif

#define LC_TN_KC 128   /* k rows per block: a strip of 128 x 32 floats of B = 16 KiB, half of Zen 4's L1 */
#define LC_TN_NC 512   /* columns per block of B: 128 x 512 floats = 256 KiB, a quarter of Zen 4's L2 */
#define LC_TN_MIN_M 4
#define LC_TN_MAX_N 1024   /* wider (big's 4H = 2048): OpenBLAS level or faster */

#if LC_HAVE_GEMM_TN
/* A's k block [0, kc) as one panel per row tile of C (the tiles lc_tn_tile_rows cuts), each kc rows
 * of the tile's R floats: the kernel then reads A as one sequential stream. */
static void lc_tn_pack_a(int M, int kc, const float *A, int lda, float *panels)
{
    for (int i = 0, rows; i < M; i += rows) {
        rows = lc_tn_tile_rows(M - i);
        lc_tn_pack_a_rows(rows, kc, A + i, lda, panels);
        panels += (size_t)kc * rows;
    }
}

/* Columns [j0, j0 + width) of B's k block [0, kc) as strips, each kc rows of LC_TN_STRIP floats
 * (zero past the block's last column), read a row at a time: a stream the prefetcher follows, where
 * gathering one strip's rows (ldb apart) waited on memory at every row. */
static void lc_tn_pack_b(int kc, int width, const float *B, int ldb, float *strips)
{
    int n_strips = (width + LC_TN_STRIP - 1) / LC_TN_STRIP;
    for (int k = 0; k < kc; k++)
        for (int t = 0; t < n_strips; t++)
            lc_tn_pack_b_row(width - t * LC_TN_STRIP, B + (size_t)k * ldb + t * LC_TN_STRIP,
                             strips + ((size_t)t * kc + k) * LC_TN_STRIP);
}

/* C (M x N, ldc) = [C +] A^T B for row-major A (K x M, lda) and B (K x N, ldb); M >= LC_TN_MIN_M.
 * Returns 0 when its buffers could not be allocated (nothing written).
 *
 * Both operands are copied once, a block at a time, in the order they lie in memory.  Read in
 * place, the rows of either (lda or ldb apart, a power of two times 64 bytes for the usual widths)
 * fell into a few of L1's sets and were evicted before the next tile reached them: dna's d_rkernel
 * ran at 77 GFLOP/s with both read in place, against 91 for OpenBLAS. */
static int lc_gemm_tn_f(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                        float *C, int ldc, int accumulate)
{
    float *panels = (float *)malloc((size_t)LC_TN_KC * M * sizeof(float));
    int widest = N < LC_TN_NC ? (N + LC_TN_STRIP - 1) / LC_TN_STRIP * LC_TN_STRIP : LC_TN_NC;
    float *strips = (float *)aligned_alloc(64, (size_t)LC_TN_KC * widest * sizeof(float));
    if (!panels || !strips) {
        free(panels);
        free(strips);
        return 0;
    }
    int k0 = 0;
    do {
        int kc = K - k0 < LC_TN_KC ? K - k0 : LC_TN_KC;
        int add = accumulate || k0 > 0;
        lc_tn_pack_a(M, kc, A + (size_t)k0 * lda, lda, panels);
        for (int j0 = 0; j0 < N; j0 += LC_TN_NC) {
            int width = N - j0 < LC_TN_NC ? N - j0 : LC_TN_NC;
            lc_tn_pack_b(kc, width, B + (size_t)k0 * ldb + j0, ldb, strips);
            for (int j = 0; j < width; j += LC_TN_STRIP) {
                const float *strip = strips + (size_t)(j / LC_TN_STRIP) * kc * LC_TN_STRIP;
                const float *panel = panels;
                for (int i = 0, rows; i < M; i += rows) {
                    rows = lc_tn_tile_rows(M - i);
                    lc_tn_tile(rows, kc, panel, strip, width - j, C + (size_t)i * ldc + j0 + j, ldc, add);
                    panel += (size_t)kc * rows;
                }
            }
        }
        k0 += kc;
    } while (k0 < K);
    free(panels);
    free(strips);
    return 1;
}
#else
static int lc_gemm_tn_f(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                        float *C, int ldc, int accumulate)
{
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc;
    (void)accumulate;
    return 0;   /* no kernel in this build: the caller uses BLAS */
}
#endif

#endif
