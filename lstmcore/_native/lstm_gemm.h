/* The per-step recurrent product with its weights packed once per call.
 *
 * Why not BLAS for this one product: at every step the LSTM multiplies a few
 * rows (the batch, often 1 to 64) by the same recurrent kernel.  OpenBLAS's
 * sgemm repacks that kernel on every call (sgemm_itcopy took 12 % of the dna
 * forward, more at batch 1 and 4), and its call overhead dominates at the
 * small sizes biologists use.  Here the right operand is packed once per
 * sequence call into column panels, and a register-blocked micro-kernel
 * (up to 6 rows x 16 columns of accumulators, AVX2 + FMA when the build
 * targets them, plain C otherwise) streams through it.  float32 only:
 * float64 exists for gradient checks and keeps using BLAS.
 *
 * Layout of a packed K x N operand: ceil(N / 16) panels, each K rows of 16
 * contiguous floats; the last panel is zero-padded.
 */
#ifndef LSTMCORE_LSTM_GEMM_H
#define LSTMCORE_LSTM_GEMM_H

#include <stddef.h>
#include <string.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define LC_HAVE_AVX2 1
#else
#define LC_HAVE_AVX2 0
#endif

#define LC_NR 16   /* columns per panel: two 8-float vectors */
#define LC_MR 6    /* rows per register tile: 6 x 16 = 12 accumulators */

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
 * KU independent partial sums over k keep 8 or more FMAs in flight. */
#define LC_KERNEL(R, KU)                                                               \
static inline void lc_kernel_##R(int K, const float *A, int lda, const float *panel,   \
                                 float *C, int ldc, int accumulate)                    \
{                                                                                      \
    __m256 acc[KU][R][2];                                                              \
    for (int u = 0; u < KU; u++)                                                       \
        for (int r = 0; r < R; r++)                                                    \
            for (int v = 0; v < 2; v++)                                                \
                acc[u][r][v] = (u || !accumulate) ? _mm256_setzero_ps()                \
                                 : _mm256_loadu_ps(C + (size_t)r * ldc + 8 * v);       \
    int k = 0;                                                                         \
    for (; k + KU <= K; k += KU)                                                       \
        for (int u = 0; u < KU; u++) {                                                 \
            __m256 b0 = _mm256_loadu_ps(panel + (size_t)(k + u) * LC_NR);              \
            __m256 b1 = _mm256_loadu_ps(panel + (size_t)(k + u) * LC_NR + 8);          \
            for (int r = 0; r < R; r++) {                                              \
                __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k + u);           \
                acc[u][r][0] = _mm256_fmadd_ps(a, b0, acc[u][r][0]);                   \
                acc[u][r][1] = _mm256_fmadd_ps(a, b1, acc[u][r][1]);                   \
            }                                                                          \
        }                                                                              \
    for (; k < K; k++) {                                                               \
        __m256 b0 = _mm256_loadu_ps(panel + (size_t)k * LC_NR);                        \
        __m256 b1 = _mm256_loadu_ps(panel + (size_t)k * LC_NR + 8);                    \
        for (int r = 0; r < R; r++) {                                                  \
            __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);                   \
            acc[0][r][0] = _mm256_fmadd_ps(a, b0, acc[0][r][0]);                       \
            acc[0][r][1] = _mm256_fmadd_ps(a, b1, acc[0][r][1]);                       \
        }                                                                              \
    }                                                                                  \
    for (int u = 1; u < KU; u++)                                                       \
        for (int r = 0; r < R; r++)                                                    \
            for (int v = 0; v < 2; v++)                                                \
                acc[0][r][v] = _mm256_add_ps(acc[0][r][v], acc[u][r][v]);              \
    for (int r = 0; r < R; r++)                                                        \
        for (int v = 0; v < 2; v++)                                                    \
            _mm256_storeu_ps(C + (size_t)r * ldc + 8 * v, acc[0][r][v]);               \
}
#else
#define LC_KERNEL(R, KU)                                                               \
static inline void lc_kernel_##R(int K, const float *A, int lda, const float *panel,   \
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
LC_KERNEL(2, 2)
LC_KERNEL(3, 2)
LC_KERNEL(4, 1)
LC_KERNEL(5, 1)
LC_KERNEL(6, 1)

static inline void lc_kernel_rows(int rows, int K, const float *A, int lda, const float *panel,
                                  float *C, int ldc, int accumulate)
{
    switch (rows) {
    case 6: lc_kernel_6(K, A, lda, panel, C, ldc, accumulate); break;
    case 5: lc_kernel_5(K, A, lda, panel, C, ldc, accumulate); break;
    case 4: lc_kernel_4(K, A, lda, panel, C, ldc, accumulate); break;
    case 3: lc_kernel_3(K, A, lda, panel, C, ldc, accumulate); break;
    case 2: lc_kernel_2(K, A, lda, panel, C, ldc, accumulate); break;
    default: lc_kernel_1(K, A, lda, panel, C, ldc, accumulate); break;
    }
}

/* C (M x N, leading dimension ldc) = [C +] A (M x K, lda) @ packed op(B).
 * Full panels read and write C in place; the last, narrower panel goes
 * through a small tile so nothing past column N is touched. */
static void lc_gemm_packed_f(int M, int K, int N, const float *A, int lda, const float *P,
                             float *C, int ldc, int accumulate)
{
    float tile[LC_MR * LC_NR];
    int panels = (N + LC_NR - 1) / LC_NR;
    for (int p = 0; p < panels; p++) {
        const float *panel = P + (size_t)p * K * LC_NR;
        int c0 = p * LC_NR;
        int width = N - c0 < LC_NR ? N - c0 : LC_NR;
        for (int i = 0; i < M; i += LC_MR) {
            int rows = M - i < LC_MR ? M - i : LC_MR;
            const float *a = A + (size_t)i * lda;
            float *c = C + (size_t)i * ldc + c0;
            if (width == LC_NR) {
                lc_kernel_rows(rows, K, a, lda, panel, c, ldc, accumulate);
                continue;
            }
            for (int r = 0; r < rows; r++) {
                memset(tile + r * LC_NR, 0, LC_NR * sizeof(float));
                if (accumulate) memcpy(tile + r * LC_NR, c + (size_t)r * ldc, width * sizeof(float));
            }
            lc_kernel_rows(rows, K, a, lda, panel, tile, LC_NR, 1);
            for (int r = 0; r < rows; r++)
                memcpy(c + (size_t)r * ldc, tile + r * LC_NR, width * sizeof(float));
        }
    }
}

#endif
