/* The per-step recurrent product with its weights packed once per call.
 *
 * Why not BLAS for this one product: at every step the LSTM multiplies a few
 * rows (the batch, often 1 to 64) by the same recurrent kernel.  OpenBLAS's
 * sgemm repacks that kernel on every call (sgemm_itcopy took 12 % of the dna
 * forward, more at batch 1 and 4), and its call overhead dominates at the
 * small sizes biologists use.  Here the right operand is packed once per
 * sequence call into column panels, and a register-blocked micro-kernel
 * (up to 4 rows x 24 columns of accumulators, AVX2 + FMA when the build
 * targets them, plain C otherwise) streams through it.  float32 only:
 * float64 exists for gradient checks and keeps using BLAS.
 *
 * Layout of a packed K x N operand: ceil(N / 24) panels, each K rows of 24
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

#define LC_NR 24   /* columns per panel: three 8-float vectors */

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
/* acc[r][v] += A[r, k] * panel[k, 8v:8v+8] over k; R rows (1..4), kept in registers. */
#define LC_KERNEL(R)                                                                   \
static inline void lc_kernel_##R(int K, const float *A, int lda, const float *panel,   \
                                 float *tile /* R x 24, IN/OUT */)                     \
{                                                                                      \
    __m256 acc[R][3];                                                                  \
    for (int r = 0; r < R; r++)                                                        \
        for (int v = 0; v < 3; v++)                                                    \
            acc[r][v] = _mm256_loadu_ps(tile + r * LC_NR + 8 * v);                     \
    for (int k = 0; k < K; k++) {                                                      \
        __m256 b0 = _mm256_loadu_ps(panel + (size_t)k * LC_NR);                        \
        __m256 b1 = _mm256_loadu_ps(panel + (size_t)k * LC_NR + 8);                    \
        __m256 b2 = _mm256_loadu_ps(panel + (size_t)k * LC_NR + 16);                   \
        for (int r = 0; r < R; r++) {                                                  \
            __m256 a = _mm256_broadcast_ss(A + (size_t)r * lda + k);                   \
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);                             \
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);                             \
            acc[r][2] = _mm256_fmadd_ps(a, b2, acc[r][2]);                             \
        }                                                                              \
    }                                                                                  \
    for (int r = 0; r < R; r++)                                                        \
        for (int v = 0; v < 3; v++)                                                    \
            _mm256_storeu_ps(tile + r * LC_NR + 8 * v, acc[r][v]);                     \
}
#else
#define LC_KERNEL(R)                                                                   \
static inline void lc_kernel_##R(int K, const float *A, int lda, const float *panel,   \
                                 float *tile)                                          \
{                                                                                      \
    for (int k = 0; k < K; k++)                                                        \
        for (int r = 0; r < R; r++) {                                                  \
            float a = A[(size_t)r * lda + k];                                          \
            for (int c = 0; c < LC_NR; c++)                                            \
                tile[r * LC_NR + c] += a * panel[(size_t)k * LC_NR + c];               \
        }                                                                              \
}
#endif
LC_KERNEL(1)
LC_KERNEL(2)
LC_KERNEL(3)
LC_KERNEL(4)

/* C (M x N, leading dimension ldc) = [C +] A (M x K, lda) @ packed op(B). */
static void lc_gemm_packed_f(int M, int K, int N, const float *A, int lda, const float *P,
                             float *C, int ldc, int accumulate)
{
    float tile[4 * LC_NR];
    int panels = (N + LC_NR - 1) / LC_NR;
    for (int p = 0; p < panels; p++) {
        const float *panel = P + (size_t)p * K * LC_NR;
        int c0 = p * LC_NR;
        int width = N - c0 < LC_NR ? N - c0 : LC_NR;
        for (int i = 0; i < M; i += 4) {
            int rows = M - i < 4 ? M - i : 4;
            for (int r = 0; r < rows; r++) {
                if (accumulate) memcpy(tile + r * LC_NR, C + (size_t)(i + r) * ldc + c0, width * sizeof(float));
                else memset(tile + r * LC_NR, 0, width * sizeof(float));
                for (int c = width; c < LC_NR; c++) tile[r * LC_NR + c] = 0.0f;
            }
            const float *a = A + (size_t)i * lda;
            switch (rows) {
            case 4: lc_kernel_4(K, a, lda, panel, tile); break;
            case 3: lc_kernel_3(K, a, lda, panel, tile); break;
            case 2: lc_kernel_2(K, a, lda, panel, tile); break;
            default: lc_kernel_1(K, a, lda, panel, tile); break;
            }
            for (int r = 0; r < rows; r++)
                memcpy(C + (size_t)(i + r) * ldc + c0, tile + r * LC_NR, width * sizeof(float));
        }
    }
}

#endif
