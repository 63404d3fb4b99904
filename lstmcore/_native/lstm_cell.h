/* Fused LSTM cell pointwise passes, one sequence row at a time.
 *
 * Why C and not Cython: these loops decide the kernel's speed as much as the
 * GEMMs do, and they only run fast when gcc vectorises them.  Written here as
 * plain unit-stride loops over raw pointers with an exp that needs no libm
 * call (and so no libmvec), every loop below vectorises at -O3 (check with
 * -fopt-info-vec).  float64 uses libm's exp: it exists for gradient checks.
 *
 * Gate layout along 4*H: i, f, g (candidate, Keras "c"), o.
 */
#ifndef LSTMCORE_LSTM_CELL_H
#define LSTMCORE_LSTM_CELL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp(-x) for float32, Cephes-style: range reduction by n = round(-x / ln2), a degree-6 polynomial
 * on [-ln2/2, ln2/2] and the scale 2^n.  Relative error about 2 ulp.  x is clamped to
 * [LC_EXP_NEG_LOW, LC_EXP_NEG_HIGH]: above it exp(-x) < 2^-124 and 1 + exp(-x) is 1 anyway; below
 * it -x passes ln(FLT_MAX) = 88.72 and the product overflows to inf (2^n then has n = 128, so it
 * is applied as 2^(n-1) times 2, the bits vscalefps gives in one instruction), which makes the
 * sigmoid 1 / (1 + inf) exactly 0, as the reference's is where its exp overflows (a clamped exp
 * left 1e-38 there, and then a saturated gate times an infinite input gave inf where the
 * reference gives NaN, inf * 0).  The negation lives in the reduction: r = -x - n ln2 is the value
 * the reduction of -x gives, and a sigmoid needs no separate negation. */
#define LC_EXP_NEG_LOW (-89.0f)
#define LC_EXP_NEG_HIGH 86.0f
static inline float lc_exp_negf(float x)
{
    /* Comparisons false for NaN leave it unclamped, so NaN propagates (keep this order). */
    x = x < LC_EXP_NEG_LOW ? LC_EXP_NEG_LOW : x;
    x = x > LC_EXP_NEG_HIGH ? LC_EXP_NEG_HIGH : x;
    float n = (x * -1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = -x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } half_scale;
    half_scale.i = (int32_t)((n + 126.0f) * 8388608.0f);   /* 2^(n-1) as IEEE bits, no integer shift */
    return p * half_scale.f * 2.0f;
}

static inline float lc_sigmoidf(float x) { return 1.0f / (1.0f + lc_exp_negf(x)); }
/* tanh(x) = 2 sigmoid(2x) - 1: the vector cells compute tanh this way too, so a gate block that
 * ends inside a vector (lanes of both kinds, each scaled by 2 or 1) gives each lane what a vector
 * of one kind gives it, whatever the vector width. */
static inline float lc_tanhf(float x) { return 2.0f * lc_sigmoidf(2.0f * x) - 1.0f; }

static inline double lc_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static inline double lc_tanh(double x) { return tanh(x); }

/* Forward cell for one row, or for the units [u0, u0 + W) of a row when
 * the caller offsets every pointer by u0: W units, gate blocks S apart
 * (S = H, the row's width).
 *   z      IN  pre-activations without bias (x W + h U), 4*S
 *          OUT activations i, f, g, o (kept for backward)
 *   bias   IN  4*S
 *   c_prev IN  S;   c_out OUT S (may alias c_prev)
 *   h_out  OUT S;   y OUT S (the output position; may be NULL)        */
#define LC_DEFINE_CELL_FORWARD(NAME, T, SIGMOID, TANH)                         \
static inline void NAME(int W, int S, T *restrict z, const T *restrict bias,         \
                        const T *c_prev, T *c_out, T *restrict h_out,          \
                        T *restrict y)                                          \
{                                                                               \
    T *restrict zi = z, *restrict zf = z + S, *restrict zg = z + 2 * S,        \
      *restrict zo = z + 3 * S;                                                 \
    const T *bi = bias, *bf = bias + S, *bg = bias + 2 * S, *bo = bias + 3 * S; \
    for (int j = 0; j < W; j++) {                                               \
        T gi = SIGMOID(zi[j] + bi[j]);                                          \
        T gf = SIGMOID(zf[j] + bf[j]);                                          \
        T gg = TANH(zg[j] + bg[j]);                                             \
        T go = SIGMOID(zo[j] + bo[j]);                                          \
        T c = gf * c_prev[j] + gi * gg;                                         \
        zi[j] = gi; zf[j] = gf; zg[j] = gg; zo[j] = go;                         \
        c_out[j] = c;                                                           \
        h_out[j] = go * TANH(c);                                                \
    }                                                                           \
    if (y) memcpy(y, h_out, (size_t)W * sizeof(T));                            \
}

/* Backward cell for one row.
 *   z      IN  activations i, f, g, o;  OUT gate gradients dz (4*S)
 *   c      IN  c_t;  c_prev IN c_{t-1}
 *   dh     IN  gradient reaching h_t (recurrent + output), S
 *   dc     IN  gradient reaching c_t from step t+1; OUT gradient to c_{t-1}  */
#define LC_DEFINE_CELL_BACKWARD(NAME, T, TANH)                                 \
static inline void NAME(int W, int S, T *restrict z, const T *restrict c,            \
                        const T *restrict c_prev, const T *restrict dh,        \
                        T *restrict dc)                                         \
{                                                                               \
    T *restrict zi = z, *restrict zf = z + S, *restrict zg = z + 2 * S,        \
      *restrict zo = z + 3 * S;                                                 \
    for (int j = 0; j < W; j++) {                                               \
        T gi = zi[j], gf = zf[j], gg = zg[j], go = zo[j];                       \
        T tc = TANH(c[j]);                                                      \
        T dct = dc[j] + dh[j] * go * (1 - tc * tc);                             \
        zi[j] = dct * gg * gi * (1 - gi);                                       \
        zf[j] = dct * c_prev[j] * gf * (1 - gf);                                \
        zg[j] = dct * gi * (1 - gg * gg);                                       \
        zo[j] = dh[j] * tc * go * (1 - go);                                     \
        dc[j] = dct * gf;                                                       \
    }                                                                           \
}

#if defined(__AVX512F__)
#define LC_CELL_SIMD 1
#include "lstm_cell_avx512.h"
#elif defined(__AVX2__) && defined(__FMA__)
/* Eight lanes at a time with intrinsics, the same operations as the AVX-512 cell
 * (lstm_cell_avx512.h) in the same order, so both give the same bits: the exp polynomial's
 * FMAs, an IEEE division for the sigmoid (a reciprocal estimate refined by a Newton step, as
 * this cell had, was within an ulp of it but not always the same float, and vrcpps's table
 * differs between AMD and Intel), tanh as 2 sigmoid(2x) - 1.  A row's last n % 8 values go
 * through the same vector code, loaded masked and stored through a buffer (AMD microcodes
 * vmaskmovps stores), not through scalar code, whose contractions gcc chooses. */
#include <immintrin.h>
#define LC_CELL_SIMD 1

static inline __m256 lc_exp_neg8(__m256 x)
{
    /* The clamps' operand order keeps NaN: max/min return their second operand when either is
     * NaN, so NaN falls through as the reference's exp does (x first would turn NaN into a bound). */
    x = _mm256_min_ps(_mm256_set1_ps(LC_EXP_NEG_HIGH), _mm256_max_ps(_mm256_set1_ps(LC_EXP_NEG_LOW), x));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(-1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmsub_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^(n-1) times 2: n reaches 128, whose 2^n has no float32 bits (see lc_exp_negf) */
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(126)), 23);
    return _mm256_mul_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), _mm256_set1_ps(2.0f));
}

static inline __m256 lc_sigmoid8(__m256 x)
{
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), lc_exp_neg8(x)));
}

static inline __m256 lc_tanh8(__m256 x)
{
    return _mm256_fmsub_ps(_mm256_set1_ps(2.0f), lc_sigmoid8(_mm256_add_ps(x, x)), _mm256_set1_ps(1.0f));
}

/* The first n (1..8) floats from p, the rest zero; and the first n lanes of v stored to p. */
static inline __m256 lc_load8(const float *p, int n)
{
    if (n >= 8)
        return _mm256_loadu_ps(p);
    __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_maskload_ps(p, lanes);
}

static inline void lc_store8(float *p, __m256 v, int n)
{
    if (n >= 8) {
        _mm256_storeu_ps(p, v);
        return;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    memcpy(p, lanes, (size_t)n * sizeof(float));
}

/* The activation of the gates [j, j + n) (n <= 8): tanh for positions in [tanh_from, tanh_to),
 * the sigmoid elsewhere.  A vector holding lanes of both kinds (a gate block of a width that is
 * not a multiple of 8 ends inside it) scales each lane by 2 or 1: tanh(x) = 2 sigmoid(2x) - 1. */
static inline void lc_activate8(float *restrict z, const float *restrict bias, int j, int n,
                                int tanh_from, int tanh_to)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 x = _mm256_add_ps(lc_load8(z + j, n), lc_load8(bias + j, n));
    __m256 a;
    if (j + 8 <= tanh_from || j >= tanh_to) {
        a = lc_sigmoid8(x);
    } else if (j >= tanh_from && j + 8 <= tanh_to) {
        a = lc_tanh8(x);
    } else {
        __m256i index = _mm256_add_epi32(_mm256_set1_epi32(j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256i is_tanh = _mm256_and_si256(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(tanh_from - 1)),
                                           _mm256_cmpgt_epi32(_mm256_set1_epi32(tanh_to), index));
        __m256 scale = _mm256_add_ps(one, _mm256_and_ps(_mm256_castsi256_ps(is_tanh), one));
        a = _mm256_fmsub_ps(scale, lc_sigmoid8(_mm256_mul_ps(scale, x)), _mm256_sub_ps(scale, one));
    }
    lc_store8(z + j, a, n);
}

/* z[j] = activation(z[j] + bias[j]) for j in [0, n): whole vectors, then the last n % 8. */
static inline void lc_activate_f(int n, float *restrict z, const float *restrict bias,
                                 int tanh_from, int tanh_to)
{
    int j = 0;
    for (; j + 8 <= n; j += 8)
        lc_activate8(z, bias, j, 8, tanh_from, tanh_to);
    if (j < n)
        lc_activate8(z, bias, j, n - j, tanh_from, tanh_to);
}

/* c, tanh(c) and h of the cells [j, j + n) (n <= 8). */
static inline void lc_cell8(const float *restrict zi, const float *restrict zf, const float *restrict zg,
                            const float *restrict zo, const float *c_prev, float *c_out,
                            float *restrict h_out, float *restrict y, int j, int n)
{
    __m256 c = _mm256_fmadd_ps(lc_load8(zf + j, n), lc_load8(c_prev + j, n),
                               _mm256_mul_ps(lc_load8(zi + j, n), lc_load8(zg + j, n)));
    __m256 h = _mm256_mul_ps(lc_load8(zo + j, n), lc_tanh8(c));
    lc_store8(c_out + j, c, n);
    lc_store8(h_out + j, h, n);
    if (y) lc_store8(y + j, h, n);
}

/* Two passes, each with short independent iterations: the activations of all
 * gates, then c, tanh(c) and h.  One pass per 8 cells chained exp -> c ->
 * tanh(c) -> h in a ~150-instruction iteration that the out-of-order core
 * could not overlap with the next: 6.4 -> 5.0 ns/cell at B32 H50, 5.2 -> 4.8
 * at B64 H128 (C harness, memcpy of the gates included).  A full row (W == S)
 * has its four gate blocks side by side: one activation pass over 4W. */
static inline void lc_cell_forward_f(int W, int S, float *restrict z, const float *restrict bias,
                                     const float *c_prev, float *c_out, float *restrict h_out,
                                     float *restrict y)
{
    if (W == S) {
        lc_activate_f(4 * W, z, bias, 2 * W, 3 * W);
    } else {
        lc_activate_f(W, z, bias, 0, 0);
        lc_activate_f(W, z + S, bias + S, 0, 0);
        lc_activate_f(W, z + 2 * S, bias + 2 * S, 0, W);
        lc_activate_f(W, z + 3 * S, bias + 3 * S, 0, 0);
    }
    const float *zi = z, *zf = z + S, *zg = z + 2 * S, *zo = z + 3 * S;
    int j = 0;
    for (; j + 8 <= W; j += 8)
        lc_cell8(zi, zf, zg, zo, c_prev, c_out, h_out, y, j, 8);
    if (j < W)
        lc_cell8(zi, zf, zg, zo, c_prev, c_out, h_out, y, j, W - j);
}

/* The gate gradients (into z) and dc of the cells [j, j + n) (n <= 8). */
static inline void lc_cell_backward8(int S, float *restrict z, const float *restrict c,
                                     const float *restrict c_prev, const float *restrict dh,
                                     float *restrict dc, int j, int n)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 gi = lc_load8(z + j, n), gf = lc_load8(z + S + j, n);
    __m256 gg = lc_load8(z + 2 * S + j, n), go = lc_load8(z + 3 * S + j, n);
    __m256 tc = lc_tanh8(lc_load8(c + j, n));
    __m256 dhj = lc_load8(dh + j, n);
    __m256 dct = _mm256_fmadd_ps(_mm256_mul_ps(dhj, go), _mm256_fnmadd_ps(tc, tc, one), lc_load8(dc + j, n));
    lc_store8(z + j, _mm256_mul_ps(_mm256_mul_ps(dct, gg), _mm256_mul_ps(gi, _mm256_sub_ps(one, gi))), n);
    lc_store8(z + S + j, _mm256_mul_ps(_mm256_mul_ps(dct, lc_load8(c_prev + j, n)),
                                       _mm256_mul_ps(gf, _mm256_sub_ps(one, gf))), n);
    lc_store8(z + 2 * S + j, _mm256_mul_ps(_mm256_mul_ps(dct, gi), _mm256_fnmadd_ps(gg, gg, one)), n);
    lc_store8(z + 3 * S + j, _mm256_mul_ps(_mm256_mul_ps(dhj, tc), _mm256_mul_ps(go, _mm256_sub_ps(one, go))), n);
    lc_store8(dc + j, _mm256_mul_ps(dct, gf), n);
}

static inline void lc_cell_backward_f(int W, int S, float *restrict z, const float *restrict c,
                                      const float *restrict c_prev, const float *restrict dh,
                                      float *restrict dc)
{
    int j = 0;
    for (; j + 8 <= W; j += 8)
        lc_cell_backward8(S, z, c, c_prev, dh, dc, j, 8);
    if (j < W)
        lc_cell_backward8(S, z, c, c_prev, dh, dc, j, W - j);
}
#else
#define LC_CELL_SIMD 0
LC_DEFINE_CELL_FORWARD(lc_cell_forward_f, float, lc_sigmoidf, lc_tanhf)
LC_DEFINE_CELL_BACKWARD(lc_cell_backward_f, float, lc_tanhf)
#endif
LC_DEFINE_CELL_FORWARD(lc_cell_forward_d, double, lc_sigmoid, lc_tanh)
LC_DEFINE_CELL_BACKWARD(lc_cell_backward_d, double, lc_tanh)

/* Add `src` to `dst`, H elements (the output gradient joins the recurrent one). */
#define LC_DEFINE_ADD(NAME, T) \
static inline void NAME(int H, T *restrict dst, const T *restrict src) \
{ for (int j = 0; j < H; j++) dst[j] += src[j]; }
LC_DEFINE_ADD(lc_add_f, float)
LC_DEFINE_ADD(lc_add_d, double)

#endif
