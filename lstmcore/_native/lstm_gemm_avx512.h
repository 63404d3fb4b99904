/* The packed recurrent product for AVX-512 builds (included by lstm_gemm.h).
 *
 * Same packed layout as the AVX2 kernel (panels of LC_NR = 16 floats, which
 * is one 512-bit register), so packing, the unit split (lstm_units.h) and the
 * tests are shared; only the register tiles differ.  AVX-512 has 32 vector
 * registers: a tile is up to 12 rows x 2 panels (24 accumulators, 2 loaded
 * panel vectors and one broadcast), which reads each panel vector once per
 * 12 rows instead of once per 6, and issues half the instructions of the
 * AVX2 kernel per multiply-add.  On Intel's server cores (two 512-bit FMA
 * pipes) that doubles the arithmetic rate; on AMD Zen 4 (512-bit operations
 * in two halves) the rate is the same and only the instruction count falls.
 *
 * Few rows give few accumulators: KU independent partial sums over k keep
 * more FMAs in flight (FMA latency 4, two pipes).  KU comes from the batch,
 * not from the tile (lc_k_splits in lstm_gemm.h), and the sums are folded in
 * a fixed order, so a row's bits do not depend on the tile it fell in, on
 * how the threads shared the rows, or on the vector width (the AVX2 kernel
 * sums in the same order).
 *
 * Every accumulator is a named variable, spelled out by macros, for the
 * reason lstm_gemm.h gives (gcc kept indexed arrays of vectors in memory).
 */
#ifndef LSTMCORE_LSTM_GEMM_AVX512_H
#define LSTMCORE_LSTM_GEMM_AVX512_H

#include <immintrin.h>

#define LC_ZMR 12   /* rows per tile of two panels */

#define LC_Z_ROWS_1(OP, u) OP(u, 0)
#define LC_Z_ROWS_2(OP, u) LC_Z_ROWS_1(OP, u) OP(u, 1)
#define LC_Z_ROWS_3(OP, u) LC_Z_ROWS_2(OP, u) OP(u, 2)
#define LC_Z_ROWS_4(OP, u) LC_Z_ROWS_3(OP, u) OP(u, 3)
#define LC_Z_ROWS_5(OP, u) LC_Z_ROWS_4(OP, u) OP(u, 4)
#define LC_Z_ROWS_6(OP, u) LC_Z_ROWS_5(OP, u) OP(u, 5)
#define LC_Z_ROWS_7(OP, u) LC_Z_ROWS_6(OP, u) OP(u, 6)
#define LC_Z_ROWS_8(OP, u) LC_Z_ROWS_7(OP, u) OP(u, 7)
#define LC_Z_ROWS_9(OP, u) LC_Z_ROWS_8(OP, u) OP(u, 8)
#define LC_Z_ROWS_10(OP, u) LC_Z_ROWS_9(OP, u) OP(u, 9)
#define LC_Z_ROWS_11(OP, u) LC_Z_ROWS_10(OP, u) OP(u, 10)
#define LC_Z_ROWS_12(OP, u) LC_Z_ROWS_11(OP, u) OP(u, 11)
#define LC_Z_SPLITS_1(OP, R) LC_Z_ROWS_##R(OP, 0)
#define LC_Z_SPLITS_2(OP, R) LC_Z_SPLITS_1(OP, R) LC_Z_ROWS_##R(OP, 1)
#define LC_Z_SPLITS_4(OP, R) LC_Z_SPLITS_2(OP, R) LC_Z_ROWS_##R(OP, 2) LC_Z_ROWS_##R(OP, 3)
#define LC_Z_FOLDS_1(R)
#define LC_Z_FOLDS_2(R) LC_Z_ROWS_##R(LC_Z_FOLD, 1)
#define LC_Z_FOLDS_4(R) LC_Z_FOLDS_2(R) LC_Z_ROWS_##R(LC_Z_FOLD, 2) LC_Z_ROWS_##R(LC_Z_FOLD, 3)
#define LC_Z_LOADS_1 LC_Z_LOAD_B(0)
#define LC_Z_LOADS_2 LC_Z_LOADS_1 LC_Z_LOAD_B(1)
#define LC_Z_LOADS_4 LC_Z_LOADS_2 LC_Z_LOAD_B(2) LC_Z_LOAD_B(3)

/* The body of a tile kernel of family P (Z: two panels, Y: one, B: bfloat16 pairs) for R rows
 * over K steps of k, from the family's pieces LC_<P>_DECLARE, _LOAD_B, _LOADS_<KU>, _STEP,
 * _FOLDS_<KU> and _STORE: KU partial sums, a tail of single steps, the sums folded in order. */
#define LC_TILE_BODY(P, R, KU, K)                                                       \
    LC_Z_SPLITS_##KU(LC_##P##_DECLARE, R)                                              \
    int k = 0;                                                                         \
    for (; k + KU <= (K); k += KU) {                                                   \
        LC_##P##_LOADS_##KU                                                            \
        LC_Z_SPLITS_##KU(LC_##P##_STEP, R)                                             \
    }                                                                                  \
    for (; k < (K); k++) {                                                             \
        LC_##P##_LOAD_B(0)                                                             \
        LC_Z_ROWS_##R(LC_##P##_STEP, 0)                                                \
    }                                                                                  \
    LC_##P##_FOLDS_##KU(R)                                                             \
    LC_Z_ROWS_##R(LC_##P##_STORE, 0)

/* The tile heights and k-splits that lc_k_splits allows (KU 4: batch 1, so one row; KU 2: batch
 * 2, at most two rows), one list for all families: a row's elements are summed in the same order
 * whichever family's kernel computes them. */
#define LC_TILE_HEIGHTS(DEFINE) DEFINE(1, 4) DEFINE(1, 2) DEFINE(2, 2) DEFINE(1, 1) DEFINE(2, 1)      \
    DEFINE(3, 1) DEFINE(4, 1) DEFINE(5, 1) DEFINE(6, 1) DEFINE(7, 1) DEFINE(8, 1) DEFINE(9, 1) \
    DEFINE(10, 1) DEFINE(11, 1) DEFINE(12, 1)

/* A switch over (KU, rows) that calls CALL(R, KU) for the kernel of that tile. */
#define LC_TILE_SWITCH(splits, rows, CALL)                                              \
    if ((splits) == 4) { CALL(1, 4); }                                                  \
    else if ((splits) == 2) { if ((rows) == 2) { CALL(2, 2); } else { CALL(1, 2); } }    \
    else switch (rows) {                                                                \
        case 12: CALL(12, 1); break; case 11: CALL(11, 1); break; case 10: CALL(10, 1); break; \
        case 9: CALL(9, 1); break; case 8: CALL(8, 1); break; case 7: CALL(7, 1); break;      \
        case 6: CALL(6, 1); break; case 5: CALL(5, 1); break; case 4: CALL(4, 1); break;      \
        case 3: CALL(3, 1); break; case 2: CALL(2, 1); break; default: CALL(1, 1); }

/* Two panels (32 columns): accumulators z<u>_<r>_0 (first panel) and _1 (second). */
#define LC_Z_DECLARE(u, r)                                                              \
    __m512 z##u##_##r##_0 = (u || !accumulate) ? _mm512_setzero_ps()                     \
                              : _mm512_loadu_ps(C + (size_t)(r) * ldc);                  \
    __m512 z##u##_##r##_1 = (u || !accumulate) ? _mm512_setzero_ps()                     \
                              : _mm512_loadu_ps(C + (size_t)(r) * ldc + LC_NR);
#define LC_Z_LOAD_B(u)                                                                  \
    __m512 b##u##_0 = _mm512_loadu_ps(p0 + (size_t)(k + (u)) * LC_NR);                   \
    __m512 b##u##_1 = _mm512_loadu_ps(p1 + (size_t)(k + (u)) * LC_NR);                   \
    __asm__("" : "+v"(b##u##_0), "+v"(b##u##_1));
#define LC_Z_STEP(u, r) {                                                               \
    __m512 a = _mm512_set1_ps(A[(size_t)(r) * lda + k + (u)]);                          \
    z##u##_##r##_0 = _mm512_fmadd_ps(a, b##u##_0, z##u##_##r##_0);                       \
    z##u##_##r##_1 = _mm512_fmadd_ps(a, b##u##_1, z##u##_##r##_1); }
#define LC_Z_FOLD(u, r)                                                                 \
    z0_##r##_0 = _mm512_add_ps(z0_##r##_0, z##u##_##r##_0);                              \
    z0_##r##_1 = _mm512_add_ps(z0_##r##_1, z##u##_##r##_1);
#define LC_Z_STORE(u, r)                                                                \
    _mm512_storeu_ps(C + (size_t)(r) * ldc, z0_##r##_0);                                 \
    _mm512_storeu_ps(C + (size_t)(r) * ldc + LC_NR, z0_##r##_1);

/* C[r, 0:32] = [C +] A[r, :] @ [panel p0 | panel p1] for R rows. */
#define LC_Z_KERNEL(R, KU)                                                             \
static inline void lc_zkernel_##R##_##KU(int K, const float *A, int lda, const float *p0,      \
                                  const float *p1, float *C, int ldc, int accumulate)  \
{                                                                                      \
    LC_TILE_BODY(Z, R, KU, K)                                                          \
}
LC_TILE_HEIGHTS(LC_Z_KERNEL)

static inline void lc_zkernel_rows(int rows, int splits, int K, const float *A, int lda, const float *p0,
                                   const float *p1, float *C, int ldc, int accumulate)
{
#define LC_Z_CALL(R, KU) lc_zkernel_##R##_##KU(K, A, lda, p0, p1, C, ldc, accumulate)
    LC_TILE_SWITCH(splits, rows, LC_Z_CALL)
#undef LC_Z_CALL
}

/* x[0:D] @ W[0:D, 0:16] (W's rows ldw apart, D >= 1: lstmcore.ops refuses inputs without
 * features) in the one order of the narrow projection
 * (lstm_narrow_inputs.h): x1 w1, then x0 w0 added by an FMA, then each further input by an
 * FMA in order (x0 w0 alone when D = 1).  It is the order gcc gave the projection's plain C
 * (which contracts x0 k0 + x1 k1 + ... into a product and FMAs, the first product becoming
 * the FMA), kept so that AVX-512 builds give the bits they gave before it was written here. */
static inline __m512 lc_project16_masked(int D, const float *x, const float *W, int ldw, __mmask16 m)
{
    if (D == 1)
        return _mm512_mul_ps(_mm512_set1_ps(x[0]), _mm512_maskz_loadu_ps(m, W));
    __m512 acc = _mm512_mul_ps(_mm512_set1_ps(x[1]), _mm512_maskz_loadu_ps(m, W + ldw));
    acc = _mm512_fmadd_ps(_mm512_set1_ps(x[0]), _mm512_maskz_loadu_ps(m, W), acc);
    for (int d = 2; d < D; d++)
        acc = _mm512_fmadd_ps(_mm512_set1_ps(x[d]), _mm512_maskz_loadu_ps(m, W + (size_t)d * ldw), acc);
    return acc;
}

static inline __m512 lc_project16(int D, const float *x, const float *W, int ldw)
{
    return lc_project16_masked(D, x, W, ldw, (__mmask16)0xFFFF);
}

/* Two panels whose sums start from the narrow input projection instead of C: family N is the
 * Z kernel with its first partial sum of row r set to x[r] @ W[:, 0:32] (D <= 16 inputs),
 * as lc_project16 computes it, so the gates are the bits of the projection stored and loaded
 * back by the accumulating Z kernel, without the round trip of every gate through memory (the
 * projection's store was a fifth of the dna step's pointwise time). */
#define LC_N_DECLARE(u, r)                                                              \
    __m512 z##u##_##r##_0 = _mm512_setzero_ps(), z##u##_##r##_1 = _mm512_setzero_ps();   \
    if (!(u)) {                                                                        \
        const float *xr = X + (size_t)(r) * ldx;                                       \
        z##u##_##r##_0 = lc_project16(D, xr, W, ldw);                                  \
        z##u##_##r##_1 = lc_project16(D, xr, W + LC_NR, ldw);                          \
    }
#define LC_N_LOAD_B LC_Z_LOAD_B
#define LC_N_LOADS_1 LC_Z_LOADS_1
#define LC_N_LOADS_2 LC_Z_LOADS_2
#define LC_N_LOADS_4 LC_Z_LOADS_4
#define LC_N_STEP LC_Z_STEP
#define LC_N_FOLDS_1(R) LC_Z_FOLDS_1(R)
#define LC_N_FOLDS_2(R) LC_Z_FOLDS_2(R)
#define LC_N_FOLDS_4(R) LC_Z_FOLDS_4(R)
#define LC_N_STORE LC_Z_STORE

/* C[r, 0:32] = X[r, :D] @ W[:, 0:32] + A[r, :] @ [panel p0 | panel p1] for R rows. */
#define LC_N_KERNEL(R, KU)                                                             \
static inline void lc_nkernel_##R##_##KU(int K, const float *A, int lda, const float *p0,      \
                                  const float *p1, float *C, int ldc, const float *X,  \
                                  int ldx, int D, const float *W, int ldw)             \
{                                                                                      \
    LC_TILE_BODY(N, R, KU, K)                                                          \
}
LC_TILE_HEIGHTS(LC_N_KERNEL)

static inline void lc_nkernel_rows(int rows, int splits, int K, const float *A, int lda, const float *p0,
                                   const float *p1, float *C, int ldc, const float *X, int ldx,
                                   int D, const float *W, int ldw)
{
#define LC_N_CALL(R, KU) lc_nkernel_##R##_##KU(K, A, lda, p0, p1, C, ldc, X, ldx, D, W, ldw)
    LC_TILE_SWITCH(splits, rows, LC_N_CALL)
#undef LC_N_CALL
}

/* One panel (16 columns): for the last panel of an odd count (4H = 200 for 50 units has 13),
 * which the two-panel kernel computed twice into a tile copied in and out.  Accumulators
 * y<u>_<r>; C's columns past `width` are neither read nor written (masked).  The same KU for a
 * tile height as the two-panel kernel (LC_TILE_HEIGHTS), so each element is summed in the same
 * order. */
#define LC_Y_DECLARE(u, r)                                                              \
    __m512 y##u##_##r = (u || !accumulate) ? _mm512_setzero_ps()                         \
                          : _mm512_maskz_loadu_ps(mask, C + (size_t)(r) * ldc);
#define LC_Y_LOAD_B(u) __m512 b##u = _mm512_loadu_ps(p0 + (size_t)(k + (u)) * LC_NR);
#define LC_Y_STEP(u, r)                                                                 \
    y##u##_##r = _mm512_fmadd_ps(_mm512_set1_ps(A[(size_t)(r) * lda + k + (u)]), b##u, y##u##_##r);
#define LC_Y_FOLD(u, r) y0_##r = _mm512_add_ps(y0_##r, y##u##_##r);
#define LC_Y_STORE(u, r) _mm512_mask_storeu_ps(C + (size_t)(r) * ldc, mask, y0_##r);
#define LC_Y_LOADS_1 LC_Y_LOAD_B(0)
#define LC_Y_LOADS_2 LC_Y_LOADS_1 LC_Y_LOAD_B(1)
#define LC_Y_LOADS_4 LC_Y_LOADS_2 LC_Y_LOAD_B(2) LC_Y_LOAD_B(3)
#define LC_Y_FOLDS_1(R)
#define LC_Y_FOLDS_2(R) LC_Z_ROWS_##R(LC_Y_FOLD, 1)
#define LC_Y_FOLDS_4(R) LC_Y_FOLDS_2(R) LC_Z_ROWS_##R(LC_Y_FOLD, 2) LC_Z_ROWS_##R(LC_Y_FOLD, 3)

#define LC_Y_KERNEL(R, KU)                                                             \
static inline void lc_ykernel_##R##_##KU(int K, const float *A, int lda, const float *p0,      \
                                  float *C, int ldc, __mmask16 mask, int accumulate)  \
{                                                                                      \
    LC_TILE_BODY(Y, R, KU, K)                                                          \
}
LC_TILE_HEIGHTS(LC_Y_KERNEL)

static inline void lc_ykernel_rows(int rows, int splits, int K, const float *A, int lda, const float *p0,
                                   float *C, int ldc, __mmask16 mask, int accumulate)
{
#define LC_Y_CALL(R, KU) lc_ykernel_##R##_##KU(K, A, lda, p0, C, ldc, mask, accumulate)
    LC_TILE_SWITCH(splits, rows, LC_Y_CALL)
#undef LC_Y_CALL
}

/* Four panels (64 columns) for a few rows: accumulators q<u>_<r>_<0..3>.  With KU = 1 (batches
 * of 3 and more) a tile of R rows and two panels has 2R independent sums, which at R <= 3 leaves
 * the FMA pipes waiting on their latency (4 cycles, two pipes: 8 sums in flight); a step's few rows
 * (long's batch of 4, or a thread's share of it) then run four panels at a time, 4R sums.  Each
 * element is summed in the two-panel kernel's order: the same bits. */
#define LC_QMR 6    /* rows per tile of four panels (24 accumulators) */
#define LC_Q_DECLARE(u, r)                                                              \
    __m512 q##u##_##r##_0 = accumulate ? _mm512_loadu_ps(C + (size_t)(r) * ldc) : _mm512_setzero_ps(), \
           q##u##_##r##_1 = accumulate ? _mm512_loadu_ps(C + (size_t)(r) * ldc + LC_NR) : _mm512_setzero_ps(), \
           q##u##_##r##_2 = accumulate ? _mm512_loadu_ps(C + (size_t)(r) * ldc + 2 * LC_NR) : _mm512_setzero_ps(), \
           q##u##_##r##_3 = accumulate ? _mm512_loadu_ps(C + (size_t)(r) * ldc + 3 * LC_NR) : _mm512_setzero_ps();
#define LC_Q_LOAD_B(u)                                                                  \
    __m512 b##u##_0 = _mm512_loadu_ps(p0 + (size_t)(k + (u)) * LC_NR);                   \
    __m512 b##u##_1 = _mm512_loadu_ps(p0 + panel + (size_t)(k + (u)) * LC_NR);           \
    __m512 b##u##_2 = _mm512_loadu_ps(p0 + 2 * panel + (size_t)(k + (u)) * LC_NR);       \
    __m512 b##u##_3 = _mm512_loadu_ps(p0 + 3 * panel + (size_t)(k + (u)) * LC_NR);       \
    __asm__("" : "+v"(b##u##_0), "+v"(b##u##_1), "+v"(b##u##_2), "+v"(b##u##_3));
#define LC_Q_LOADS_1 LC_Q_LOAD_B(0)
#define LC_Q_STEP(u, r) {                                                               \
    __m512 a = _mm512_set1_ps(A[(size_t)(r) * lda + k + (u)]);                          \
    q##u##_##r##_0 = _mm512_fmadd_ps(a, b##u##_0, q##u##_##r##_0);                       \
    q##u##_##r##_1 = _mm512_fmadd_ps(a, b##u##_1, q##u##_##r##_1);                       \
    q##u##_##r##_2 = _mm512_fmadd_ps(a, b##u##_2, q##u##_##r##_2);                       \
    q##u##_##r##_3 = _mm512_fmadd_ps(a, b##u##_3, q##u##_##r##_3); }
#define LC_Q_FOLDS_1(R)
#define LC_Q_STORE(u, r)                                                                \
    _mm512_storeu_ps(C + (size_t)(r) * ldc, q0_##r##_0);                                 \
    _mm512_storeu_ps(C + (size_t)(r) * ldc + LC_NR, q0_##r##_1);                         \
    _mm512_storeu_ps(C + (size_t)(r) * ldc + 2 * LC_NR, q0_##r##_2);                     \
    _mm512_storeu_ps(C + (size_t)(r) * ldc + 3 * LC_NR, q0_##r##_3);

/* Family QN: Q whose sums start from the narrow input projection, as family N's do. */
#define LC_QN_DECLARE(u, r)                                                             \
    const float *x##r = X + (size_t)(r) * ldx;                                          \
    __m512 q##u##_##r##_0 = lc_project16(D, x##r, W, ldw),                               \
           q##u##_##r##_1 = lc_project16(D, x##r, W + LC_NR, ldw),                       \
           q##u##_##r##_2 = lc_project16(D, x##r, W + 2 * LC_NR, ldw),                   \
           q##u##_##r##_3 = lc_project16(D, x##r, W + 3 * LC_NR, ldw);
#define LC_QN_LOAD_B LC_Q_LOAD_B
#define LC_QN_LOADS_1 LC_Q_LOADS_1
#define LC_QN_STEP LC_Q_STEP
#define LC_QN_FOLDS_1 LC_Q_FOLDS_1
#define LC_QN_STORE LC_Q_STORE

/* C[r, 0:64] = [C +] A[r, :] @ four panels from p0, `panel` floats apart, for R rows (KU = 1). */
#define LC_Q_KERNEL(R)                                                                 \
static inline void lc_qkernel_##R(int K, const float *A, int lda, const float *p0, size_t panel, \
                                  float *C, int ldc, int accumulate)                   \
{                                                                                      \
    LC_TILE_BODY(Q, R, 1, K)                                                           \
}
/* C[r, 0:64] = X[r, :D] @ W[:, 0:64] + A[r, :] @ four panels, for R rows (KU = 1). */
#define LC_QN_KERNEL(R)                                                                \
static inline void lc_qnkernel_##R(int K, const float *A, int lda, const float *p0, size_t panel, \
                                   float *C, int ldc, const float *X, int ldx, int D,  \
                                   const float *W, int ldw)                            \
{                                                                                      \
    LC_TILE_BODY(QN, R, 1, K)                                                          \
}
#define LC_Q_HEIGHTS(DEFINE) DEFINE(1) DEFINE(2) DEFINE(3) DEFINE(4) DEFINE(5) DEFINE(6)
LC_Q_HEIGHTS(LC_Q_KERNEL)
LC_Q_HEIGHTS(LC_QN_KERNEL)

#define LC_Q_SWITCH(rows, CALL)                                                         \
    switch (rows) {                                                                     \
        case 6: CALL(6); break; case 5: CALL(5); break; case 4: CALL(4); break;          \
        case 3: CALL(3); break; case 2: CALL(2); break; default: CALL(1); }

/* Whether M rows of a batch with `splits` take four panels at a time: few rows, one sum each
 * (and at least one: the kernels' switch takes any other count for one row). */
static inline int lc_quad_tiles(int M, int splits)
{
    return M >= 1 && M <= LC_QMR && lc_tile_splits(splits, M) == 1;
}

/* The first `quads` groups of four panels of C (M x N) = [C +] A @ packed op(B), M <= LC_QMR. */
static void lc_gemm_packed_q(int M, int K, int quads, const float *A, int lda, const float *P, float *C,
                             int ldc, int accumulate)
{
    size_t panel = (size_t)K * LC_NR;
    for (int g = 0; g < quads; g++) {
        const float *p0 = P + 4 * g * panel;
        float *c = C + 4 * g * LC_NR;
#define LC_Q_CALL(R) lc_qkernel_##R(K, A, lda, p0, panel, c, ldc, accumulate)
        LC_Q_SWITCH(M, LC_Q_CALL)
#undef LC_Q_CALL
    }
}

/* Rows of a tile: even tiles of at most LC_ZMR rows (64 = 11+11+11+11+10+10, not 12*5+4),
 * so no tile is left with the few rows that keep few FMAs in flight. */
static inline int lc_ztile_rows(int left)
{
    int tiles = (left + LC_ZMR - 1) / LC_ZMR;
    return (left + tiles - 1) / tiles;
}

/* C (1 x N) = [C +] one row of A @ packed op(B), a panel at a time, so the weights stream from
 * L2 as one sequence.  For batch 1 on a thread alone (the row split; lc_gemm_packed_alone_f):
 * on AMD Zen 5 two panels' streams 8 KiB apart came at 146 GB/s, one at 213 (4H = 512, 256 KiB:
 * benchmarks/results/bounds_amd_zen5.md): single inference 2.03 -> 1.46 ms, training 4.6 -> 3.4 ms
 * on one thread.  The unit split's slices (lstm_units.h) keep two panels: there it measured 3.83 ->
 * 4.21 ms for single training at 2 threads in one placement of this VM's cores, and within the
 * noise of placements that moved 2-thread times by 2x otherwise.  The one-panel kernel sums each
 * element in the two-panel kernel's order: the same bits. */
static void lc_gemm_packed_row_z(int K, int N, const float *A, const float *P, float *C, int accumulate,
                                 int splits)
{
    int panels = (N + LC_NR - 1) / LC_NR;
    for (int p = 0; p < panels; p++) {
        int width = N - p * LC_NR < LC_NR ? N - p * LC_NR : LC_NR;
        lc_ykernel_rows(1, lc_tile_splits(splits, 1), K, A, K, P + (size_t)p * K * LC_NR, C + p * LC_NR, N,
                        (__mmask16)((1u << width) - 1u), accumulate);
    }
}

/* C (M x N, ldc) = [C +] A (M x K, lda) @ packed op(B), two panels at a time, each row's sums
 * split in `splits` (lc_k_splits of the batch the rows belong to).
 * A lone last panel goes through the one-panel kernel (masked to its columns);
 * 17 to 31 columns left go through a tile: C's columns copied in, the valid
 * ones copied out, so nothing past column N is written. */
static void lc_gemm_packed_z(int M, int K, int N, const float *A, int lda, const float *P,
                             float *C, int ldc, int accumulate, int splits)
{
    float tile[LC_ZMR * 2 * LC_NR];
    int panels = (N + LC_NR - 1) / LC_NR, p = 0;
    if (lc_quad_tiles(M, splits)) {
        p = 4 * (N / (4 * LC_NR));
        lc_gemm_packed_q(M, K, p / 4, A, lda, P, C, ldc, accumulate);
    }
    for (; p < panels; p += 2) {
        const float *p0 = P + (size_t)p * K * LC_NR;
        int c0 = p * LC_NR;
        int width = N - c0 < 2 * LC_NR ? N - c0 : 2 * LC_NR;
        const float *p1 = p + 1 < panels ? p0 + (size_t)K * LC_NR : p0;
        for (int i = 0, rows; i < M; i += rows) {
            rows = lc_ztile_rows(M - i);
            const float *a = A + (size_t)i * lda;
            float *c = C + (size_t)i * ldc + c0;
            if (width <= LC_NR) {
                lc_ykernel_rows(rows, lc_tile_splits(splits, rows), K, a, lda, p0, c, ldc, (__mmask16)((1u << width) - 1u), accumulate);
                continue;
            }
            if (width == 2 * LC_NR) {
                lc_zkernel_rows(rows, lc_tile_splits(splits, rows), K, a, lda, p0, p1, c, ldc, accumulate);
                continue;
            }
            lc_tile_in(rows, 2 * LC_NR, c, ldc, width, accumulate, tile);
            lc_zkernel_rows(rows, lc_tile_splits(splits, rows), K, a, lda, p0, p1, tile, 2 * LC_NR, 1);
            lc_tile_out(rows, 2 * LC_NR, tile, c, ldc, width);
        }
    }
}

#endif
