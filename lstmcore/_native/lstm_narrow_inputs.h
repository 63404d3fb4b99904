/* Products with narrow inputs (D <= NARROW_INPUTS in lstm_kernels.pxi): the input
 * projection of one step's rows, and the input-side gradients of a layer.
 *
 * Projection: for D = 1..16 the per-step product x_t kernel is a few
 * multiply-adds per gate; done inside each thread's step loop (on its own
 * rows, or its own gate columns when the team splits the units, while the
 * gates are in cache) instead of one single-threaded BLAS call per block of
 * steps, which serialised 2-thread inference between blocks (at batch 1 the
 * other thread spun in libgomp meanwhile: 4 % of its time, and the BLAS call 4 %).
 *
 * Gradients, in one pass over the gate gradients.  Why not three BLAS
 * calls: after the backward loop the gate gradients are a (rows, G) matrix
 * with rows = steps x batch (12 800 x 512 floats, 26 MB, for the dna
 * benchmark) and the input width D is tiny for sequences (4 for
 * one-hot DNA, 1 for a series).  d_kernel = x^T dgates (D x G), dx = dgates
 * kernel^T (rows x D) and d_bias = column sums are a few multiply-adds per
 * element, but OpenBLAS packed the whole 26 MB matrix for each product: perf
 * of dna training on one thread had sgemm_itcopy/oncopy/otcopy at 14 % and
 * the (unvectorised, aliasing) column sums at 6 %, for 2 x 26M multiply-adds.
 * Here each row of dgates is read once and used for all three while it is
 * in L1.  With D = 0 only d_bias is computed (wide inputs keep BLAS for the
 * two products).
 *
 * Sums run in row order inside a call; the caller cuts the rows into blocks
 * fixed by the problem (_blocks in lstm_kernels.pxi), each with its
 * own d_kernel/d_bias, added in block order: the same bits at any thread count.
 */
#ifndef LSTMCORE_LSTM_NARROW_INPUTS_H
#define LSTMCORE_LSTM_NARROW_INPUTS_H

#include <math.h>
#include <stddef.h>
#include "lstm_gemm.h"

/* out[r, j] = sum_d x[r, d] kernel[d, j] for rows [0, rows) and columns [0, N); the rows of
 * out and of kernel are G apart (N < G: a thread's own gate columns when the units are split,
 * lstm_units.h).  Each element's sum is in the same order whatever N and the offset, so
 * the unit split and the row split give the same bits.
 * Four input columns per pass over the row, so one-hot DNA (D = 4) writes each gate once
 * instead of four times (loads and stores of the row were a sixth of batch 1's cell pass). */
#define LC_DEFINE_PROJECT_NARROW(NAME, T)                                         \
static inline void NAME(ptrdiff_t rows, int G, int N, int D, const T *restrict x,   \
                        const T *restrict kernel, T *restrict out)                  \
{                                                                                   \
    for (ptrdiff_t r = 0; r < rows; r++) {                                          \
        T *restrict o = out + r * G;                                                \
        const T *xr = x + r * D;                                                    \
        for (int d0 = 0; d0 < D; d0 += 4) {                                         \
            const T *restrict k0 = kernel + (ptrdiff_t)d0 * G;                      \
            const T *restrict k1 = d0 + 1 < D ? k0 + G : k0;                        \
            const T *restrict k2 = d0 + 2 < D ? k0 + 2 * (ptrdiff_t)G : k0;         \
            const T *restrict k3 = d0 + 3 < D ? k0 + 3 * (ptrdiff_t)G : k0;         \
            const T x0 = xr[d0];                                                    \
            const T x1 = d0 + 1 < D ? xr[d0 + 1] : 0, x2 = d0 + 2 < D ? xr[d0 + 2] : 0; \
            const T x3 = d0 + 3 < D ? xr[d0 + 3] : 0;                               \
            switch ((D - d0 < 4 ? D - d0 : 4) + (d0 ? 4 : 0)) {                     \
            case 1: for (int j = 0; j < N; j++) o[j] = x0 * k0[j]; break;           \
            case 2: for (int j = 0; j < N; j++) o[j] = x0 * k0[j] + x1 * k1[j]; break; \
            case 3: for (int j = 0; j < N; j++)                                     \
                        o[j] = x0 * k0[j] + x1 * k1[j] + x2 * k2[j]; break;         \
            case 4: for (int j = 0; j < N; j++)                                     \
                        o[j] = x0 * k0[j] + x1 * k1[j] + x2 * k2[j] + x3 * k3[j]; break; \
            case 5: for (int j = 0; j < N; j++) o[j] += x0 * k0[j]; break;          \
            case 6: for (int j = 0; j < N; j++) o[j] = o[j] + x0 * k0[j] + x1 * k1[j]; break; \
            case 7: for (int j = 0; j < N; j++)                                     \
                        o[j] = o[j] + x0 * k0[j] + x1 * k1[j] + x2 * k2[j]; break;  \
            default: for (int j = 0; j < N; j++)                                    \
                        o[j] = o[j] + x0 * k0[j] + x1 * k1[j] + x2 * k2[j] + x3 * k3[j]; \
            }                                                                       \
        }                                                                           \
    }                                                                               \
}

#if LC_HAVE_AVX512
/* The same sums in the order written out by lc_project16_masked (lstm_gemm_avx512.h), which the
 * product's family N also starts from: the two must agree to the bit whatever the compiler
 * would contract, since the row split projects inside the product and the unit split here. */
static inline void lc_project_narrow_f(ptrdiff_t rows, int G, int N, int D, const float *restrict x,
                                       const float *restrict kernel, float *restrict out)
{
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * D;
        float *o = out + r * G;
        int j = 0;
        for (; j + 16 <= N; j += 16)
            _mm512_storeu_ps(o + j, lc_project16(D, xr, kernel + j, G));
        if (j < N) {
            __mmask16 m = (__mmask16)((1u << (N - j)) - 1u);
            _mm512_mask_storeu_ps(o + j, m, lc_project16_masked(D, xr, kernel + j, G, m));
        }
    }
}
#else
LC_DEFINE_PROJECT_NARROW(lc_project_narrow_f, float)
#endif
LC_DEFINE_PROJECT_NARROW(lc_project_narrow_d, double)

/* C (M x N, rows G apart) = X (M x D, rows D apart) @ kernel[:, 0:N] + A (M x K) @ packed
 * recurrent kernel: one step's narrow projection and recurrent product together.  On AVX-512
 * builds every whole 32-column tile starts its sums from the projection in registers
 * (lstm_gemm_avx512.h, family N) instead of storing it to C and loading it back; a last,
 * narrower pair of panels and the other builds project into C first and accumulate.  The
 * same bits either way, so the unit split (which projects its own columns first) agrees. */
static void lc_gemm_packed_narrow_f(int M, int K, int N, int G, const float *A, int lda, const float *P,
                                    float *C, const float *X, int D, const float *kernel, int splits)
{
#if LC_HAVE_AVX512
    int panels = (N + LC_NR - 1) / LC_NR, p = 0;
    if (lc_quad_tiles(M, splits)) {          /* few rows: four panels at a time (family QN) */
        size_t panel = (size_t)K * LC_NR;
        for (; p + 4 <= N / LC_NR; p += 4) {
            const float *p0 = P + (size_t)p * panel;
            float *c = C + p * LC_NR;
            const float *w = kernel + p * LC_NR;
#define LC_QN_CALL(R) lc_qnkernel_##R(K, A, lda, p0, panel, c, G, X, D, D, w, G)
            LC_Q_SWITCH(M, LC_QN_CALL)
#undef LC_QN_CALL
        }
    }
    for (; p < panels; p += 2) {
        int c0 = p * LC_NR;
        int width = N - c0 < 2 * LC_NR ? N - c0 : 2 * LC_NR;
        const float *p0 = P + (size_t)p * K * LC_NR;
        const float *p1 = p0 + (size_t)K * LC_NR;
        if (width < 2 * LC_NR) {
            lc_project_narrow_f(M, G, width, D, X, kernel + c0, C + c0);
            lc_gemm_packed_z(M, K, width, A, lda, p0, C + c0, G, 1, splits);
            continue;
        }
        for (int i = 0, rows; i < M; i += rows) {
            rows = lc_ztile_rows(M - i);
            lc_nkernel_rows(rows, lc_tile_splits(splits, rows), K, A + (size_t)i * lda, lda, p0, p1, C + (size_t)i * G + c0, G,
                            X + (size_t)i * D, D, D, kernel + c0, G);
        }
    }
#else
    lc_project_narrow_f(M, G, N, D, X, kernel, C);
    lc_gemm_packed_f(M, K, N, A, lda, P, C, G, 1, splits);
#endif
}

/* lc_gemm_packed_narrow_f for a thread computing a step alone (the row split): one row is
 * projected, then accumulated through lc_gemm_packed_alone_f's one stream of panels (the same
 * bits as the fused tile: the projection starts each element's first partial sum either way). */
static void lc_gemm_packed_narrow_alone_f(int M, int K, int N, int G, const float *A, int lda,
                                          const float *P, float *C, const float *X, int D,
                                          const float *kernel, int splits)
{
#if LC_HAVE_AVX512
    if (M == 1) {
        lc_project_narrow_f(1, G, N, D, X, kernel, C);
        lc_gemm_packed_alone_f(1, K, N, A, lda, P, C, G, 1, splits);
        return;
    }
#endif
    lc_gemm_packed_narrow_f(M, K, N, G, A, lda, P, C, X, D, kernel, splits);
}

/* For rows [0, rows) of dgates (row stride G):
 *   dx[r, d]        = sum_j dgates[r, j] kernel[d, j]     (written; skipped when D == 0)
 *   d_kernel[d, j] += sum_r x[r, d] dgates[r, j]          (accumulated)
 *   d_bias[j]      += sum_r dgates[r, j]                  (accumulated)
 * Portable version: float64 (gradient checks) and builds without AVX2.   */
#define LC_DEFINE_INPUT_GRADIENTS(NAME, T)                                        \
static inline void NAME(ptrdiff_t rows, int G, int D, const T *restrict gates,      \
                        const T *restrict x, const T *restrict kernel,              \
                        T *restrict dx, T *restrict d_kernel, T *restrict d_bias)   \
{                                                                                   \
    for (ptrdiff_t r = 0; r < rows; r++) {                                          \
        const T *restrict g = gates + r * G;                                        \
        for (int j = 0; j < G; j++) d_bias[j] += g[j];                              \
        for (int d = 0; d < D; d++) {                                               \
            const T xd = x[r * D + d];                                              \
            const T *restrict k = kernel + (ptrdiff_t)d * G;                        \
            T *restrict dk = d_kernel + (ptrdiff_t)d * G;                           \
            T dot = 0;                                                              \
            for (int j = 0; j < G; j++) {                                           \
                dot += g[j] * k[j];                                                 \
                dk[j] += xd * g[j];                                                 \
            }                                                                       \
            dx[r * D + d] = dot;                                                    \
        }                                                                           \
    }                                                                               \
}

LC_DEFINE_INPUT_GRADIENTS(lc_input_gradients_d, double)

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* The gradient pass goes 16 columns at a time: one vector with AVX-512, two with AVX2.  dx's
 * dot product keeps 16 lane sums (column j in lane j % 16) whichever the width, folds them by
 * one tree (lc_fold16) and adds the last G % 16 columns' sum, FMA by FMA: the same operations in
 * the same order, so the avx2 and avx512 variants give the same bits (8 lane sums in AVX2 and a
 * 16-column remainder there did not). */
#define LC_NI_WIDTH 16

static inline float lc_hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* Lanes 0-7 and 8-15 of 16 lane sums added lane by lane, then folded in halves. */
static inline float lc_fold16(__m256 low, __m256 high)
{
    return lc_hsum8(_mm256_add_ps(low, high));
}

#if defined(__AVX512F__)
typedef __m512 lc_ni_vec;
#define lc_ni_zero() _mm512_setzero_ps()
#define lc_ni_load(p) _mm512_loadu_ps(p)
#define lc_ni_store(p, v) _mm512_storeu_ps(p, v)
#define lc_ni_add(a, b) _mm512_add_ps(a, b)
#define lc_ni_fmadd(a, b, c) _mm512_fmadd_ps(a, b, c)
#define lc_ni_set1(x) _mm512_set1_ps(x)
#define lc_ni_fold(v) lc_fold16(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1))
#else
/* 16 floats as two AVX2 vectors. */
typedef struct { __m256 low, high; } lc_ni_vec;
static inline lc_ni_vec lc_ni_pair(__m256 low, __m256 high) { lc_ni_vec v = {low, high}; return v; }
#define lc_ni_zero() lc_ni_pair(_mm256_setzero_ps(), _mm256_setzero_ps())
#define lc_ni_load(p) lc_ni_pair(_mm256_loadu_ps(p), _mm256_loadu_ps((p) + 8))
#define lc_ni_store(p, v) do { lc_ni_vec v_ = (v); _mm256_storeu_ps(p, v_.low);            \
                               _mm256_storeu_ps((p) + 8, v_.high); } while (0)
static inline lc_ni_vec lc_ni_add(lc_ni_vec a, lc_ni_vec b)
{
    return lc_ni_pair(_mm256_add_ps(a.low, b.low), _mm256_add_ps(a.high, b.high));
}
static inline lc_ni_vec lc_ni_fmadd(lc_ni_vec a, lc_ni_vec b, lc_ni_vec c)
{
    return lc_ni_pair(_mm256_fmadd_ps(a.low, b.low, c.low), _mm256_fmadd_ps(a.high, b.high, c.high));
}
#define lc_ni_set1(x) lc_ni_pair(_mm256_set1_ps(x), _mm256_set1_ps(x))
#define lc_ni_fold(v) lc_fold16((v).low, (v).high)
#endif

#define LC_INPUT_BLOCK 4

/* Rows of dgates, 16 columns at a time, for D <= LC_INPUT_BLOCK input
 * columns: the dgates vector is loaded once and feeds d_bias, the D dot
 * products (one accumulator each) and the D rows of d_kernel.  D and
 * with_bias (0: another block of the row adds d_bias) are constants where
 * this is inlined, so the accumulators are registers and the vector loop has
 * no branch.  x and dx have rows ld apart, so a block of a wider input's
 * columns runs through the same code.  Columns past the last multiple of 16
 * finish in scalar code, with explicit FMAs (the vector loop's operations). */
static inline __attribute__((always_inline)) void
lc_input_gradient_rows(ptrdiff_t rows, int G, const int D, const int with_bias, ptrdiff_t ld,
                       const float *restrict gates, const float *restrict x,
                       const float *restrict kernel, float *restrict dx, float *restrict d_kernel,
                       float *restrict d_bias)
{
    const int GV = G - G % LC_NI_WIDTH;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *restrict g = gates + r * G;
        const float *restrict xr = x + r * ld;
        lc_ni_vec dot[LC_INPUT_BLOCK];
        float tail[LC_INPUT_BLOCK];
        for (int d = 0; d < D; d++) { dot[d] = lc_ni_zero(); tail[d] = 0.0f; }
        for (int j = 0; j < GV; j += LC_NI_WIDTH) {
            lc_ni_vec gv = lc_ni_load(g + j);
            if (with_bias)
                lc_ni_store(d_bias + j, lc_ni_add(lc_ni_load(d_bias + j), gv));
            for (int d = 0; d < D; d++) {
                dot[d] = lc_ni_fmadd(gv, lc_ni_load(kernel + (ptrdiff_t)d * G + j), dot[d]);
                float *dk = d_kernel + (ptrdiff_t)d * G + j;
                lc_ni_store(dk, lc_ni_fmadd(lc_ni_set1(xr[d]), gv, lc_ni_load(dk)));
            }
        }
        for (int j = GV; j < G; j++) {
            if (with_bias)
                d_bias[j] += g[j];
            for (int d = 0; d < D; d++) {
                tail[d] = fmaf(g[j], kernel[(ptrdiff_t)d * G + j], tail[d]);
                d_kernel[(ptrdiff_t)d * G + j] = fmaf(xr[d], g[j], d_kernel[(ptrdiff_t)d * G + j]);
            }
        }
        for (int d = 0; d < D; d++) dx[r * ld + d] = lc_ni_fold(dot[d]) + tail[d];
    }
}

/* D <= LC_INPUT_BLOCK: all rows in one inlined loop. */
#define LC_INPUT_GRADIENTS_ALL_ROWS(N)                                                    \
    case N: lc_input_gradient_rows(rows, G, N, 1, D, gates, x, kernel, dx, d_kernel, d_bias); return;
/* One row, the block of columns [d0, d0 + N) of a wider input. */
#define LC_INPUT_GRADIENTS_BLOCK(N)                                                       \
    case N:                                                                               \
        if (d0 == 0)                                                                      \
            lc_input_gradient_rows(1, G, N, 1, D, g, x + r * D, kernel, dx + r * D,        \
                                   d_kernel, d_bias);                                     \
        else                                                                              \
            lc_input_gradient_rows(1, G, N, 0, D, g, x + r * D + d0,                      \
                                   kernel + (ptrdiff_t)d0 * G, dx + r * D + d0,           \
                                   d_kernel + (ptrdiff_t)d0 * G, d_bias);                 \
        break;

/* Wider inputs go row by row (the row stays in L1) in blocks of up to
 * LC_INPUT_BLOCK columns: more columns at once run out of registers
 * (benchmarks/results/kernel_design_measurements.md, "narrow inputs"). */
static inline void lc_input_gradients_f(ptrdiff_t rows, int G, int D, const float *restrict gates,
                                        const float *restrict x, const float *restrict kernel,
                                        float *restrict dx, float *restrict d_kernel,
                                        float *restrict d_bias)
{
    switch (D) {
        LC_INPUT_GRADIENTS_ALL_ROWS(0) LC_INPUT_GRADIENTS_ALL_ROWS(1) LC_INPUT_GRADIENTS_ALL_ROWS(2)
        LC_INPUT_GRADIENTS_ALL_ROWS(3) LC_INPUT_GRADIENTS_ALL_ROWS(4)
        default: break;
    }
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *g = gates + r * G;
        for (int d0 = 0; d0 < D; d0 += LC_INPUT_BLOCK)
            switch (D - d0 < LC_INPUT_BLOCK ? D - d0 : LC_INPUT_BLOCK) {
                LC_INPUT_GRADIENTS_BLOCK(1) LC_INPUT_GRADIENTS_BLOCK(2)
                LC_INPUT_GRADIENTS_BLOCK(3) LC_INPUT_GRADIENTS_BLOCK(4)
            }
    }
}
#else
LC_DEFINE_INPUT_GRADIENTS(lc_input_gradients_f, float)
#endif

#endif
