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

/* exp for float32, Cephes-style: range reduction by round(x/ln2), a degree-6
 * polynomial on [-ln2/2, ln2/2] and a scale built in the exponent bits.
 * Relative error about 2 ulp on [-87, 88]; inputs outside are clamped. */
static inline float lc_expf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } scale;
    scale.i = (int32_t)((n + 127.0f) * 8388608.0f);   /* 2^n as IEEE bits, no integer shift */
    return p * scale.f;
}

static inline float lc_sigmoidf(float x) { return 1.0f / (1.0f + lc_expf(-x)); }
static inline float lc_tanhf(float x) { return 1.0f - 2.0f / (1.0f + lc_expf(2.0f * x)); }

static inline double lc_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static inline double lc_tanh(double x) { return tanh(x); }

/* Forward cell for one row.
 *   z      IN  pre-activations without bias (x W + h U), 4*H
 *          OUT activations i, f, g, o (kept for backward)
 *   bias   IN  4*H
 *   c_prev IN  H;   c_out OUT H (may alias c_prev)
 *   h_out  OUT H;   y OUT H (the output position; may be NULL)        */
#define LC_DEFINE_CELL_FORWARD(NAME, T, SIGMOID, TANH)                         \
static inline void NAME(int H, T *restrict z, const T *restrict bias,         \
                        const T *c_prev, T *c_out, T *restrict h_out,          \
                        T *restrict y)                                          \
{                                                                               \
    T *restrict zi = z, *restrict zf = z + H, *restrict zg = z + 2 * H,        \
      *restrict zo = z + 3 * H;                                                 \
    const T *bi = bias, *bf = bias + H, *bg = bias + 2 * H, *bo = bias + 3 * H; \
    for (int j = 0; j < H; j++) {                                               \
        T gi = SIGMOID(zi[j] + bi[j]);                                          \
        T gf = SIGMOID(zf[j] + bf[j]);                                          \
        T gg = TANH(zg[j] + bg[j]);                                             \
        T go = SIGMOID(zo[j] + bo[j]);                                          \
        T c = gf * c_prev[j] + gi * gg;                                         \
        zi[j] = gi; zf[j] = gf; zg[j] = gg; zo[j] = go;                         \
        c_out[j] = c;                                                           \
        h_out[j] = go * TANH(c);                                                \
    }                                                                           \
    if (y) memcpy(y, h_out, (size_t)H * sizeof(T));                            \
}

/* Backward cell for one row.
 *   z      IN  activations i, f, g, o;  OUT gate gradients dz (4*H)
 *   c      IN  c_t;  c_prev IN c_{t-1}
 *   dh     IN  gradient reaching h_t (recurrent + output), H
 *   dc     IN  gradient reaching c_t from step t+1; OUT gradient to c_{t-1}  */
#define LC_DEFINE_CELL_BACKWARD(NAME, T, TANH)                                 \
static inline void NAME(int H, T *restrict z, const T *restrict c,            \
                        const T *restrict c_prev, const T *restrict dh,        \
                        T *restrict dc)                                         \
{                                                                               \
    T *restrict zi = z, *restrict zf = z + H, *restrict zg = z + 2 * H,        \
      *restrict zo = z + 3 * H;                                                 \
    for (int j = 0; j < H; j++) {                                               \
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

LC_DEFINE_CELL_FORWARD(lc_cell_forward_f, float, lc_sigmoidf, lc_tanhf)
LC_DEFINE_CELL_FORWARD(lc_cell_forward_d, double, lc_sigmoid, lc_tanh)
LC_DEFINE_CELL_BACKWARD(lc_cell_backward_f, float, lc_tanhf)
LC_DEFINE_CELL_BACKWARD(lc_cell_backward_d, double, lc_tanh)

/* Add `src` to `dst`, H elements (the output gradient joins the recurrent one). */
#define LC_DEFINE_ADD(NAME, T) \
static inline void NAME(int H, T *restrict dst, const T *restrict src) \
{ for (int j = 0; j < H; j++) dst[j] += src[j]; }
LC_DEFINE_ADD(lc_add_f, float)
LC_DEFINE_ADD(lc_add_d, double)

#endif
