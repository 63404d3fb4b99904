/* The per-step recurrent product with its weights packed once per call (and, on the CPUs where
 * it beats sgemm, the input projection of wide inputs: lc_project_packed_f at the end).
 *
 * Why not BLAS for this one product: at every step the LSTM multiplies a few
 * rows (the batch, often 1 to 64) by the same recurrent kernel.  OpenBLAS's
 * sgemm repacks that kernel on every call (sgemm_itcopy took 12 % of the dna
 * forward, more at batch 1 and 4), and its call overhead dominates at the
 * small sizes biologists use.  Here the right operand is packed once per
 * sequence call into column panels, and a register-blocked micro-kernel
 * (up to 6 rows x 16 columns of accumulators with AVX2 + FMA, 12 rows x 32
 * columns with AVX-512 (lstm_gemm_avx512.h), plain C otherwise, whichever the
 * build targets) streams through it.  float32 only:
 * float64 exists for gradient checks and keeps using BLAS.
 *
 * Layout of a packed K x N operand: ceil(N / 16) panels, each K rows of 16
 * contiguous floats; the last panel is zero-padded.
 */
#ifndef LSTMCORE_LSTM_GEMM_H
#define LSTMCORE_LSTM_GEMM_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define LC_HAVE_AVX2 1
#else
#define LC_HAVE_AVX2 0
#endif
#if defined(__AVX512F__)
#define LC_HAVE_AVX512 1
#else
#define LC_HAVE_AVX512 0
#endif

#define LC_NR 16   /* columns per panel: two 8-float vectors */
#define LC_MR 6    /* rows per register tile: 6 x 16 = 12 accumulators */

/* A register tile is one function per height (its accumulators are named variables, see below),
 * picked by a switch on the rows left: `switch (rows) { LC_TILE_CASES_5_12(CALL) default: ... }`
 * with CALL(R) the call of height R's function. */
#define LC_TILE_CASE(R, CALL) case R: CALL(R); break;
#define LC_TILE_CASES_2_4(CALL) LC_TILE_CASE(4, CALL) LC_TILE_CASE(3, CALL) LC_TILE_CASE(2, CALL)
#define LC_TILE_CASES_2_6(CALL) LC_TILE_CASE(6, CALL) LC_TILE_CASE(5, CALL) LC_TILE_CASES_2_4(CALL)
#define LC_TILE_CASES_5_12(CALL)                                                        \
    LC_TILE_CASE(12, CALL) LC_TILE_CASE(11, CALL) LC_TILE_CASE(10, CALL) LC_TILE_CASE(9, CALL) \
    LC_TILE_CASE(8, CALL) LC_TILE_CASE(7, CALL) LC_TILE_CASE(6, CALL) LC_TILE_CASE(5, CALL)

/* How many partial sums over k each row of a product keeps (KU in the tiles): 4 for a batch of
 * one row, 2 for two, 1 from three on, whatever the tile, the vector width or the thread that
 * computes the row.  Few rows give few accumulators, and FMA latency then bounds the loop unless
 * k is split (batch 1 with one chain per panel ran at two thirds of the speed); the split used to
 * follow each tile's height, so a batch of 7 cut 4 + 3 by two threads (or 6 + 1 by the AVX2
 * tiles) summed its last rows in another order than one thread's tile of 7, and the avx2 and
 * avx512 variants, and 1 and 2 threads, gave different bits.  `batch`: the rows of the whole
 * call (not the rows still running at a step, nor a thread's share). */
static inline int lc_k_splits(long long batch)
{
    return batch <= 1 ? 4 : batch == 2 ? 2 : 1;
}

/* The split a tile of `rows` rows can keep: the kernels exist for KU 4 at one row and KU 2 at up
 * to two (lc_k_splits never asks more of them). */
static inline int lc_tile_splits(int splits, int rows)
{
    return rows > 2 ? 1 : rows == 2 && splits > 2 ? 2 : splits;
}

static inline size_t lc_packed_size(int K, int N)
{
    return (size_t)K * (size_t)((N + LC_NR - 1) / LC_NR) * LC_NR;
}

/* Pack op(B), a K x N matrix, into panels.  B is row-major with leading
 * dimension ldb: op(B) = B (K x N) when !transpose, B^T (B is N x K) otherwise. */
static void lc_pack_f(int K, int N, const float *B, int ldb, int transpose, float *P)
{
    int panels = (N + LC_NR - 1) / LC_NR;
    for (int p = 0; p < panels; p++) {
        float *panel = P + (size_t)p * K * LC_NR;
        int width = N - p * LC_NR < LC_NR ? N - p * LC_NR : LC_NR;
        for (int k = 0; k < K; k++) {
            float *row = panel + (size_t)k * LC_NR;
            for (int c = 0; c < width; c++)
                row[c] = transpose ? B[(size_t)(p * LC_NR + c) * ldb + k]
                                   : B[(size_t)k * ldb + p * LC_NR + c];
            for (int c = width; c < LC_NR; c++)
                row[c] = 0.0f;
        }
    }
}

#if LC_HAVE_AVX2
/* C[r, 0:16] = [C[r, 0:16] +] sum_k A[r, k] * panel[k, :] for R rows (1..6).  Few rows give
 * few accumulators, and FMA latency (4 cycles, 2 pipes) then bounds the loop:
 * KU independent partial sums over k keep 8 or more FMAs in flight.
 *
 * Every accumulator is a named variable (acc_U_R_V), spelled out by the
 * macros below.  An array of __m256 indexed in loops, as this was first
 * written, was kept in memory by gcc for R = 1, 4, 5 and 6: each FMA then
 * went through a store and a reload (batch 1 ran at two thirds of the speed:
 * benchmarks/results/kernel_design_measurements.md, "batch 1").
 * With two rows or more each loaded vector of the panel serves several FMAs,
 * and an empty asm keeps it in a register: gcc otherwise folded the load
 * into every FMA (12 loads for 8 FMAs at 4 rows), and the 2- to 4-row
 * kernels ran at 41 GFLOP/s against 60-80 with it.  Three rows use one
 * k-split (two would need 17 registers). */
#define LC_ROWS_1(OP, u) OP(u, 0)
#define LC_ROWS_2(OP, u) LC_ROWS_1(OP, u) OP(u, 1)
#define LC_ROWS_3(OP, u) LC_ROWS_2(OP, u) OP(u, 2)
#define LC_ROWS_4(OP, u) LC_ROWS_3(OP, u) OP(u, 3)
#define LC_ROWS_5(OP, u) LC_ROWS_4(OP, u) OP(u, 4)
#define LC_ROWS_6(OP, u) LC_ROWS_5(OP, u) OP(u, 5)
#define LC_SPLITS_1(OP, R) LC_ROWS_##R(OP, 0)
#define LC_SPLITS_2(OP, R) LC_SPLITS_1(OP, R) LC_ROWS_##R(OP, 1)
#define LC_SPLITS_4(OP, R) LC_SPLITS_2(OP, R) LC_ROWS_##R(OP, 2) LC_ROWS_##R(OP, 3)
#define LC_FOLDS_1(R)
#define LC_FOLDS_2(R) LC_ROWS_##R(LC_FOLD, 1)
#define LC_FOLDS_4(R) LC_FOLDS_2(R) LC_ROWS_##R(LC_FOLD, 2) LC_ROWS_##R(LC_FOLD, 3)

#define LC_DECLARE(u, r)                                                                \
    __m256 acc_##u##_##r##_0 = (u || !accumulate) ? _mm256_setzero_ps()                  \
                                 : _mm256_loadu_ps(C + (size_t)(r) * ldc);               \
    __m256 acc_##u##_##r##_1 = (u || !accumulate) ? _mm256_setzero_ps()                  \
                                 : _mm256_loadu_ps(C + (size_t)(r) * ldc + 8);
#define LC_STEP(u, r) {                                                                 \
    __m256 a = _mm256_broadcast_ss(A + (size_t)(r) * lda + k + (u));                    \
    acc_##u##_##r##_0 = _mm256_fmadd_ps(a, b##u##_0, acc_##u##_##r##_0);                \
    acc_##u##_##r##_1 = _mm256_fmadd_ps(a, b##u##_1, acc_##u##_##r##_1); }
#define LC_LOAD_B(u)                                                                    \
    __m256 b##u##_0 = _mm256_loadu_ps(panel + (size_t)(k + (u)) * LC_NR);              \
    __m256 b##u##_1 = _mm256_loadu_ps(panel + (size_t)(k + (u)) * LC_NR + 8);         \
    if (kernel_rows >= 2) __asm__("" : "+x"(b##u##_0), "+x"(b##u##_1));
#define LC_FOLD(u, r)                                                                   \
    acc_0_##r##_0 = _mm256_add_ps(acc_0_##r##_0, acc_##u##_##r##_0);                     \
    acc_0_##r##_1 = _mm256_add_ps(acc_0_##r##_1, acc_##u##_##r##_1);
#define LC_STORE(u, r)                                                                  \
    _mm256_storeu_ps(C + (size_t)(r) * ldc, acc_0_##r##_0);                              \
    _mm256_storeu_ps(C + (size_t)(r) * ldc + 8, acc_0_##r##_1);
#define LC_LOADS_1 LC_LOAD_B(0)
#define LC_LOADS_2 LC_LOADS_1 LC_LOAD_B(1)
#define LC_LOADS_4 LC_LOADS_2 LC_LOAD_B(2) LC_LOAD_B(3)

#define LC_KERNEL(R, KU)                                                               \
static inline void lc_kernel_##R##_##KU(int K, const float *A, int lda, const float *panel, \
                                 float *C, int ldc, int accumulate)                    \
{                                                                                      \
    const int kernel_rows = R;                                                         \
    LC_SPLITS_##KU(LC_DECLARE, R)                                                      \
    int k = 0;                                                                         \
    for (; k + KU <= K; k += KU) {                                                     \
        LC_LOADS_##KU                                                                  \
        LC_SPLITS_##KU(LC_STEP, R)                                                     \
    }                                                                                  \
    for (; k < K; k++) {                                                               \
        LC_LOAD_B(0)                                                                   \
        LC_ROWS_##R(LC_STEP, 0)                                                        \
    }                                                                                  \
    LC_FOLDS_##KU(R)                                                                   \
    LC_ROWS_##R(LC_STORE, 0)                                                           \
}
#else
#define LC_KERNEL(R, KU)                                                               \
static inline void lc_kernel_##R##_##KU(int K, const float *A, int lda, const float *panel, \
                                 float *C, int ldc, int accumulate)                    \
{                                                                                      \
    if (!accumulate)                                                                   \
        for (int r = 0; r < R; r++) memset(C + (size_t)r * ldc, 0, LC_NR * sizeof(float)); \
    for (int k = 0; k < K; k++)                                                        \
        for (int r = 0; r < R; r++) {                                                  \
            float a = A[(size_t)r * lda + k];                                          \
            for (int c = 0; c < LC_NR; c++)                                            \
                C[(size_t)r * ldc + c] += a * panel[(size_t)k * LC_NR + c];            \
        }                                                                              \
}
#endif
LC_KERNEL(1, 4)
LC_KERNEL(1, 2)
LC_KERNEL(2, 2)
LC_KERNEL(1, 1)
LC_KERNEL(2, 1)
LC_KERNEL(3, 1)
LC_KERNEL(4, 1)
LC_KERNEL(5, 1)
LC_KERNEL(6, 1)

static inline void lc_kernel_rows(int rows, int splits, int K, const float *A, int lda, const float *panel,
                                  float *C, int ldc, int accumulate)
{
#define LC_KERNEL_CALL(R, KU) lc_kernel_##R##_##KU(K, A, lda, panel, C, ldc, accumulate)
    if (splits == 4) { LC_KERNEL_CALL(1, 4); }
    else if (splits == 2) { if (rows == 2) { LC_KERNEL_CALL(2, 2); } else { LC_KERNEL_CALL(1, 2); } }
    else switch (rows) {
        case 6: LC_KERNEL_CALL(6, 1); break; case 5: LC_KERNEL_CALL(5, 1); break;
        case 4: LC_KERNEL_CALL(4, 1); break; case 3: LC_KERNEL_CALL(3, 1); break;
        case 2: LC_KERNEL_CALL(2, 1); break; default: LC_KERNEL_CALL(1, 1); }
#undef LC_KERNEL_CALL
}

/* A tile of C narrower than the kernel's width: its `width` valid columns of `rows` rows copied
 * into `tile` (rows `stride` apart, the rest zero) when accumulating, and copied back out after,
 * so nothing past column N is written. */
static inline void lc_tile_in(int rows, int stride, const float *c, int ldc, int width, int accumulate,
                              float *tile)
{
    for (int r = 0; r < rows; r++) {
        memset(tile + (size_t)r * stride, 0, (size_t)stride * sizeof(float));
        if (accumulate) memcpy(tile + (size_t)r * stride, c + (size_t)r * ldc, (size_t)width * sizeof(float));
    }
}

static inline void lc_tile_out(int rows, int stride, const float *tile, float *c, int ldc, int width)
{
    for (int r = 0; r < rows; r++)
        memcpy(c + (size_t)r * ldc, tile + (size_t)r * stride, (size_t)width * sizeof(float));
}

#if LC_HAVE_AVX512
#include "lstm_gemm_avx512.h"
#endif
/* C (M x N, leading dimension ldc) = [C +] A (M x K, lda) @ packed op(B), each row's sums split
 * in `splits` (lc_k_splits of the call's batch).  Full panels read and write C in place; the last,
 * narrower panel goes through a small tile so nothing past column N is touched. */
static void lc_gemm_packed_f(int M, int K, int N, const float *A, int lda, const float *P,
                             float *C, int ldc, int accumulate, int splits)
{
#if LC_HAVE_AVX512
    lc_gemm_packed_z(M, K, N, A, lda, P, C, ldc, accumulate, splits);
    return;
#endif
    float tile[LC_MR * LC_NR];
    int panels = (N + LC_NR - 1) / LC_NR;
    for (int p = 0; p < panels; p++) {
        const float *panel = P + (size_t)p * K * LC_NR;
        int c0 = p * LC_NR;
        int width = N - c0 < LC_NR ? N - c0 : LC_NR;
        for (int i = 0, rows; i < M; i += rows) {
            /* tiles of 5 or 6 rows where M allows (32 = 5+5+5+5+6+6, not 6*5+2):
             * the 5- and 6-row kernels are the fastest (80-87 GFLOP/s, 2 rows: 60) */
            int left = M - i, tiles = (left + LC_MR - 1) / LC_MR;
            rows = left / tiles >= 5 ? left / tiles : (left < LC_MR ? left : LC_MR);
            const float *a = A + (size_t)i * lda;
            float *c = C + (size_t)i * ldc + c0;
            if (width == LC_NR) {
                lc_kernel_rows(rows, lc_tile_splits(splits, rows), K, a, lda, panel, c, ldc, accumulate);
                continue;
            }
            lc_tile_in(rows, LC_NR, c, ldc, width, accumulate, tile);
            lc_kernel_rows(rows, lc_tile_splits(splits, rows), K, a, lda, panel, tile, LC_NR, 1);
            lc_tile_out(rows, LC_NR, tile, c, ldc, width);
        }
    }
}

/* lc_gemm_packed_f for a thread computing a step's product alone (the row split): one row goes
 * through lc_gemm_packed_row_z where the variant has it (lda and ldc do not matter for one row). */
static void lc_gemm_packed_alone_f(int M, int K, int N, const float *A, int lda, const float *P,
                                   float *C, int ldc, int accumulate, int splits)
{
#if LC_HAVE_AVX512
    if (M == 1) {
        lc_gemm_packed_row_z(K, N, A, P, C, accumulate, splits);
        return;
    }
#endif
    lc_gemm_packed_f(M, K, N, A, lda, P, C, ldc, accumulate, splits);
}

/* The large float32 products of a call, where lc_own_large_products() says this CPU runs them
 * faster on lstmcore's kernels than on the BLAS's sgemm:
 *   - the input projection of wide inputs, gates (M x 4H) = x (M x D) @ packed kernel, for the
 *     many rows of a block of steps (big's second layer is 512 rows of 512 inputs a block);
 *   - their input gradient, dx (M x D) = gate gradients (M x 4H) @ kernel^T, the kernel packed
 *     transposed, as the backward's recurrent kernel is;
 *   - weight gradients wider than LC_TN_MAX_N columns (lstm_gemm_tn.h; narrower ones take it on
 *     every CPU).
 * The projection and the input gradient both run lc_project_packed_f below.
 *
 * Why: with its AVX-512 kernels the packed micro-kernel beat scipy's OpenBLAS at these shapes on
 * AMD (benchmarks/bench_products.py, one core):
 *   - Zen 4: 105-114 GFLOP/s against OpenBLAS's SkylakeX sgemm at 91-102 (projection shapes);
 *     big inference 4 % faster.
 *   - Zen 5 (family 26, 512-bit pipes): 250-283 against 115-137; OpenBLAS 0.3.30 does not know
 *     the CPU and runs its Haswell kernel.  The A^T B kernel did 207-238 against 116-133 on big's
 *     2048-wide weight gradients (level with OpenBLAS on Zen 4, hence LC_TN_MAX_N elsewhere);
 *     big training 1.3x faster.
 * Unmeasured on Intel (a Xeon has two 512-bit FMA pipes that OpenBLAS's SkylakeX kernel was
 * written for), so the BLAS keeps those, and AMD CPUs without AVX-512 (Zen 2 and 3).  The choice
 * is the CPU's, never a timing's, and every variant but `baseline` follows it.
 *
 * Rows go in blocks of LC_PROJECTION_BLOCK_BYTES of x, so a block stays in L2 while every panel
 * of the kernel streams past it (6400 rows at once ran at 98 GFLOP/s against 105 in blocks).
 * Every tile sums each element in k order from zero (one k-split, whatever its height), so the
 * bits do not depend on the blocks, the threads' shares of the rows or the steps per block
 * (inference's last block may be one row, training runs all steps at once), nor on the width of
 * the tiles (AVX2 or AVX-512). */
#define LC_PROJECTION_BLOCK_BYTES 262144

enum { LC_OWN_PROJECTION, LC_OWN_INPUT_GRADIENT, LC_OWN_WIDE_WEIGHT_GRADIENT, LC_OWN_PRODUCT_KINDS };
static int lc_large_products_override = -1;     /* tests: 0 BLAS, 1 lstmcore's, -1 by the CPU */
static long lc_own_product_calls[LC_OWN_PRODUCT_KINDS];   /* tests: which path a call took */

static inline void lc_count_own_product(int kind)
{
    __atomic_add_fetch(&lc_own_product_calls[kind], 1, __ATOMIC_RELAXED);
}

static inline void lc_set_large_products(int choice)
{
    __atomic_store_n(&lc_large_products_override, choice, __ATOMIC_RELAXED);
}

static inline int lc_own_large_products(void)
{
    int choice = __atomic_load_n(&lc_large_products_override, __ATOMIC_RELAXED);
    if (choice >= 0)
        return choice;
#if LC_HAVE_AVX2 && (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    /* The CPU's, not the variant's: the avx2 variant forced on such a CPU takes the same products
     * (AVX2 tiles, the same sums in the same order), so the variants keep one set of bits. */
    __builtin_cpu_init();
    return __builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

static void lc_project_packed_f(int M, int K, int N, const float *A, const float *P, float *C)
{
    int block = (int)(LC_PROJECTION_BLOCK_BYTES / ((size_t)(K > 0 ? K : 1) * sizeof(float)));
    if (block < 2 * LC_MR) block = 2 * LC_MR;     /* at least one tall tile of rows */
    for (int i = 0; i < M; i += block) {
        int rows = M - i < block ? M - i : block;
        lc_gemm_packed_f(rows, K, N, A + (size_t)i * K, K, P, C + (size_t)i * N, N, 0, 1);
    }
}

#endif
