/* The float32 cell passes for AVX-512 builds (included by lstm_cell.h).
 *
 * The same arithmetic as the AVX2 cell, sixteen lanes at a time: the same
 * exp polynomial and clamps (so NaN propagates as in the reference), 2^n
 * applied with vscalefps instead of building the exponent bits (exact for
 * the clamped range, so the same value in one instruction instead of five),
 * the same IEEE division and tanh formula (so the same bits), and a row's last
 * units done by masked loads and stores instead of a scalar loop (AVX-512
 * masked stores are not microcoded on Zen 4, unlike AVX2's vmaskmovps).  Each
 * pass runs its whole vectors with a constant mask (plain loads and stores once
 * inlined) and masks only the last one.
 */
#ifndef LSTMCORE_LSTM_CELL_AVX512_H
#define LSTMCORE_LSTM_CELL_AVX512_H

#include <immintrin.h>

/* exp(-x), x clamped to [LC_EXP_NEG_LOW, LC_EXP_NEG_HIGH] (the operand order keeps NaN, see
 * lc_exp_neg8).  The negation is folded into the reduction (n = round(x * -log2 e), r = -x - n ln2 by
 * one fnmsub: the value of r for -x, so the same bits as negating first).  2^n by vscalefps, which
 * overflows to inf as the product would: -x past ln(FLT_MAX) gives inf, and the sigmoid 1 / (1 + inf)
 * its exact 0 without a compare. */
static inline __m512 lc_exp_neg16(__m512 x)
{
    x = _mm512_min_ps(_mm512_set1_ps(LC_EXP_NEG_HIGH), _mm512_max_ps(_mm512_set1_ps(LC_EXP_NEG_LOW), x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(-1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmsub_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* 1 / (1 + exp(-x)) with an IEEE division.  Every operation of the activations is a correctly
 * rounded IEEE one (the exp polynomial's FMAs, this division), so the AVX2 cell, this one and any
 * CPU running either give the same bits: a reciprocal estimate (vrcp14ps here, vrcpps in AVX2, each
 * CPU's own table) refined by Newton steps was within an ulp, not the same float (lstm_cell.h says
 * more). */
static inline __m512 lc_sigmoid16(__m512 x)
{
    return _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), lc_exp_neg16(x)));
}

/* tanh(x) = 2 sigmoid(2x) - 1, one rounding after the sigmoid's (see lc_tanhf). */
static inline __m512 lc_tanh16(__m512 x)
{
    return _mm512_fmsub_ps(_mm512_set1_ps(2.0f), lc_sigmoid16(_mm512_add_ps(x, x)), _mm512_set1_ps(1.0f));
}

/* The lanes [0, n) of a vector, for a row's last (n < 16) units. */
static inline __mmask16 lc_lanes(int n) { return (__mmask16)((1u << n) - 1u); }

/* The activation of the 16 gates from position j (lanes m of them): tanh for positions in
 * [tanh_from, tanh_to), the sigmoid elsewhere; a vector holding lanes of both kinds scales each
 * lane by 2 or 1 (see the AVX2 version). */
static inline void lc_activate16(float *restrict z, const float *restrict bias, int j, __mmask16 m,
                                 int tanh_from, int tanh_to)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, z + j), _mm512_maskz_loadu_ps(m, bias + j));
    __m512 a;
    if (j + 16 <= tanh_from || j >= tanh_to) {
        a = lc_sigmoid16(x);
    } else if (j >= tanh_from && j + 16 <= tanh_to) {
        a = lc_tanh16(x);
    } else {
        const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        __m512i index = _mm512_add_epi32(_mm512_set1_epi32(j), lane);
        __mmask16 is_tanh = _mm512_cmpge_epi32_mask(index, _mm512_set1_epi32(tanh_from))
                          & _mm512_cmplt_epi32_mask(index, _mm512_set1_epi32(tanh_to));
        __m512 scale = _mm512_mask_add_ps(one, is_tanh, one, one);
        a = _mm512_fmsub_ps(scale, lc_sigmoid16(_mm512_mul_ps(scale, x)), _mm512_sub_ps(scale, one));
    }
    _mm512_mask_storeu_ps(z + j, m, a);
}

/* z[j] = activation(z[j] + bias[j]) for j in [0, n): whole vectors, then the last n % 16 lanes.
 * Whole vectors with a constant mask, which compiles to plain loads and stores: the mask worked
 * out in the loop (a compare, a shift, a move to a mask register) and the masked loads cost 12 %
 * of the pass on AMD Zen 4 (5.46 -> 4.79 ns per 16 gates, benchmarks/native/cell_passes.c). */
static inline void lc_activate_f(int n, float *restrict z, const float *restrict bias,
                                 int tanh_from, int tanh_to)
{
    int j = 0;
    for (; j + 16 <= n; j += 16)
        lc_activate16(z, bias, j, (__mmask16)0xFFFF, tanh_from, tanh_to);
    if (j < n)
        lc_activate16(z, bias, j, lc_lanes(n - j), tanh_from, tanh_to);
}

/* c, tanh(c) and h of the 16 cells from unit j (lanes m of them). */
static inline void lc_cell16(const float *restrict zi, const float *restrict zf, const float *restrict zg,
                             const float *restrict zo, const float *c_prev, float *c_out,
                             float *restrict h_out, float *restrict y, int j, __mmask16 m)
{
    __m512 c = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, zf + j), _mm512_maskz_loadu_ps(m, c_prev + j),
                               _mm512_mul_ps(_mm512_maskz_loadu_ps(m, zi + j), _mm512_maskz_loadu_ps(m, zg + j)));
    __m512 h = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, zo + j), lc_tanh16(c));
    _mm512_mask_storeu_ps(c_out + j, m, c);
    _mm512_mask_storeu_ps(h_out + j, m, h);
    if (y) _mm512_mask_storeu_ps(y + j, m, h);
}

/* Two passes, as in the AVX2 cell: every gate's activation, then c, tanh(c) and h. */
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
    for (; j + 16 <= W; j += 16)
        lc_cell16(zi, zf, zg, zo, c_prev, c_out, h_out, y, j, (__mmask16)0xFFFF);
    if (j < W)
        lc_cell16(zi, zf, zg, zo, c_prev, c_out, h_out, y, j, lc_lanes(W - j));
}

/* The gate gradients (into z) and dc of the 16 cells from unit j (lanes m of them). */
static inline void lc_cell_backward16(int S, float *restrict z, const float *restrict c,
                                      const float *restrict c_prev, const float *restrict dh,
                                      float *restrict dc, int j, __mmask16 m)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 gi = _mm512_maskz_loadu_ps(m, z + j), gf = _mm512_maskz_loadu_ps(m, z + S + j);
    __m512 gg = _mm512_maskz_loadu_ps(m, z + 2 * S + j), go = _mm512_maskz_loadu_ps(m, z + 3 * S + j);
    __m512 tc = lc_tanh16(_mm512_maskz_loadu_ps(m, c + j));
    __m512 dhj = _mm512_maskz_loadu_ps(m, dh + j);
    __m512 dct = _mm512_fmadd_ps(_mm512_mul_ps(dhj, go), _mm512_fnmadd_ps(tc, tc, one),
                                 _mm512_maskz_loadu_ps(m, dc + j));
    _mm512_mask_storeu_ps(z + j, m, _mm512_mul_ps(_mm512_mul_ps(dct, gg),
                                                  _mm512_mul_ps(gi, _mm512_sub_ps(one, gi))));
    _mm512_mask_storeu_ps(z + S + j, m,
                          _mm512_mul_ps(_mm512_mul_ps(dct, _mm512_maskz_loadu_ps(m, c_prev + j)),
                                        _mm512_mul_ps(gf, _mm512_sub_ps(one, gf))));
    _mm512_mask_storeu_ps(z + 2 * S + j, m, _mm512_mul_ps(_mm512_mul_ps(dct, gi),
                                                          _mm512_fnmadd_ps(gg, gg, one)));
    _mm512_mask_storeu_ps(z + 3 * S + j, m, _mm512_mul_ps(_mm512_mul_ps(dhj, tc),
                                                          _mm512_mul_ps(go, _mm512_sub_ps(one, go))));
    _mm512_mask_storeu_ps(dc + j, m, _mm512_mul_ps(dct, gf));
}

static inline void lc_cell_backward_f(int W, int S, float *restrict z, const float *restrict c,
                                      const float *restrict c_prev, const float *restrict dh,
                                      float *restrict dc)
{
    int j = 0;
    for (; j + 16 <= W; j += 16)
        lc_cell_backward16(S, z, c, c_prev, dh, dc, j, (__mmask16)0xFFFF);
    if (j < W)
        lc_cell_backward16(S, z, c, c_prev, dh, dc, j, lc_lanes(W - j));
}

#endif
