/* The bfloat16 product on AMX tiles (Intel Xeon from Sapphire Rapids on), for blocks of at
 * least 16 rows.
 *
 * Why: on those Xeons vdpbf16ps (lstm_gemm_bf16.h) does no more multiply-adds a cycle than
 * float32 FMAs, so the opt-in bfloat16 path only saved the weights' bytes, and at batch 64 it
 * ran slower than float32 (big inference, family 6 model 207: 522 against 303 ms,
 * benchmarks/results/bench_bfloat16_intel_xeon.md) while torch's bfloat16 autocast took its
 * products to AMX (75 ms).  One tdpbf16ps multiplies a 16 x 32 tile of bfloat16 rows by a
 * 32 x 16 tile of weights into 16 x 16 float32 sums.
 *
 * The weights need no new layout: a panel of lstm_gemm_bf16.h (16 columns, pairs of k in
 * 64-byte rows) is a column of B tiles, 16 pair-rows each.  The rows of A are the same
 * bfloat16 pairs that the vdpbf16ps kernel reads.  The arithmetic is the same: products of
 * bfloat16 values summed in float32, denormals flushed; only the order of the float32 sums
 * differs, as between the native and emulated kernels.
 *
 * Linux gives a process the tiles' 8 KiB of register state only on request
 * (arch_prctl ARCH_REQ_XCOMP_PERM); before it, the first tile instruction raises SIGILL.
 * lc_amx_enable asks once, from the caller holding the GIL, before any team runs.
 */
#ifndef LSTMCORE_LSTM_GEMM_AMX_H
#define LSTMCORE_LSTM_GEMM_AMX_H

#include <stdint.h>
#include <string.h>

#if defined(__clang__)
#define LC_AMX_COMPILER (__clang_major__ >= 12)
#elif defined(__GNUC__)
#define LC_AMX_COMPILER (__GNUC__ >= 11)
#else
#define LC_AMX_COMPILER 0
#endif

#if defined(LC_AMX_EMULATE)
/* tests/native/amx_emulated.c defines the tile instructions in C, to check this file's
 * blocking and strides on a CPU without tiles: the tiles are always on. */
#define LC_HAVE_AMX 1
#define LC_AMX_TARGET
static int lc_amx_state = 1;
#elif LC_HAVE_BF16_KERNEL && LC_AMX_COMPILER && defined(__linux__) && defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define LC_HAVE_AMX 1
#define LC_AMX_TARGET __attribute__((target("amx-tile,amx-bf16")))

static int lc_amx_state = -1;   /* -1: not asked yet; 0: off; 1: on */

static int lc_amx_cpu(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return ((d >> 22) & 1u) && ((d >> 24) & 1u);      /* AMX-BF16 and AMX-TILE */
}

/* Whether the tile product is on, asking Linux for the tile state the first time. */
static int lc_amx_enable(void)
{
    if (lc_amx_state < 0)
        lc_amx_state = lc_amx_cpu() && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
                                                18 /* XFEATURE_XTILEDATA */) == 0;
    return lc_amx_state;
}

/* Test hook: turn the tile product off (0) or back on where the CPU and OS allow it (1). */
static int lc_amx_set(int on)
{
    lc_amx_state = on ? -1 : 0;
    return lc_amx_enable();
}
#else
#define LC_HAVE_AMX 0
#endif

#if LC_HAVE_AMX
#define LC_AMX_ROWS 16          /* a tile's rows: rows of A and C, pair-rows of B */
#define LC_AMX_PAIRS 16         /* pairs of k per tile: 64 bytes a row */

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} lc_amx_config;

/* Tiles: 0 1 = C of the first 16 rows (panels p0, p1), 2 3 = C of the next rows, 4 5 = A of
 * the two halves, 6 7 = B of the two panels.  `second` rows in the second half (0: unused). */
LC_AMX_TARGET static void lc_amx_configure(int first, int second)
{
    lc_amx_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    const int rows[8] = {first, first, second, second, first, second, LC_AMX_ROWS, LC_AMX_ROWS};
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = (uint8_t)rows[t];
        cfg.colsb[t] = rows[t] ? 64 : 0;
    }
    _tile_loadconfig(&cfg);
}

/* C[0:rows, 0:16 or 32] = [C +] A2 @ panels p0 (and p1), rows = the configured first (+ second)
 * half; A2 rows of `pairs` bfloat16 pairs, pairs a multiple of LC_AMX_PAIRS. */
LC_AMX_TARGET static void lc_amx_block(int two_halves, int two_panels, int pairs,
                                        const uint16_t *A2, const uint16_t *p0, const uint16_t *p1,
                                        float *C, int ldc, int accumulate)
{
    const size_t a_stride = (size_t)4 * pairs, c_stride = (size_t)4 * ldc;
    const uint16_t *A2_low = A2 + (size_t)LC_AMX_ROWS * 2 * pairs;
    float *C_low = C + (size_t)LC_AMX_ROWS * ldc;
    if (accumulate) {
        _tile_loadd(0, C, c_stride);
        if (two_panels) _tile_loadd(1, C + LC_NR, c_stride);
        if (two_halves) _tile_loadd(2, C_low, c_stride);
        if (two_halves && two_panels) _tile_loadd(3, C_low + LC_NR, c_stride);
    } else {
        _tile_zero(0);
        if (two_panels) _tile_zero(1);
        if (two_halves) _tile_zero(2);
        if (two_halves && two_panels) _tile_zero(3);
    }
    for (int k = 0; k < pairs; k += LC_AMX_PAIRS) {
        _tile_loadd(4, A2 + (size_t)2 * k, a_stride);
        _tile_loadd(6, p0 + (size_t)k * 2 * LC_NR, 64);
        _tile_dpbf16ps(0, 4, 6);
        if (two_halves) {
            _tile_loadd(5, A2_low + (size_t)2 * k, a_stride);
            _tile_dpbf16ps(2, 5, 6);
        }
        if (two_panels) {
            _tile_loadd(7, p1 + (size_t)k * 2 * LC_NR, 64);
            _tile_dpbf16ps(1, 4, 7);
            if (two_halves) _tile_dpbf16ps(3, 5, 7);
        }
    }
    _tile_stored(0, C, c_stride);
    if (two_panels) _tile_stored(1, C + LC_NR, c_stride);
    if (two_halves) _tile_stored(2, C_low, c_stride);
    if (two_halves && two_panels) _tile_stored(3, C_low + LC_NR, c_stride);
}

/* Rows [r0, r1) (one configuration: whole blocks of 32, or the last block) across every
 * column pair of panels. */
LC_AMX_TARGET static void lc_amx_rows(int r0, int r1, int pairs, int N, const uint16_t *A2,
                                       const uint16_t *P, float *C, int ldc, int accumulate)
{
    int panels = N / LC_NR;
    for (int p = 0; p < panels; p += 2) {
        const uint16_t *p0 = P + (size_t)p * pairs * 2 * LC_NR;
        int two_panels = p + 1 < panels;
        for (int i = r0; i < r1; i += 2 * LC_AMX_ROWS)
            lc_amx_block(r1 - i > LC_AMX_ROWS, two_panels, pairs, A2 + (size_t)i * 2 * pairs, p0,
                         p0 + (size_t)pairs * 2 * LC_NR, C + (size_t)i * ldc + (size_t)p * LC_NR, ldc,
                         accumulate);
    }
}

/* Whether a block of M rows goes to the tiles: on, at least one tile of rows, k in whole
 * tiles and whole panels of columns (the recurrent product's H multiple of 32 qualifies). */
static inline int lc_amx_takes(int M, int pairs, int N)
{
    return lc_amx_state == 1 && M >= LC_AMX_ROWS && pairs % LC_AMX_PAIRS == 0 && N % LC_NR == 0;
}

/* C = [C +] A2 @ P for M rows (lc_amx_takes): whole blocks of 32 rows, then the rest. */
LC_AMX_TARGET static void lc_gemm_bf16_amx(int M, int pairs, int N, const uint16_t *A2,
                                            const uint16_t *P, float *C, int ldc, int accumulate)
{
    int whole = M / (2 * LC_AMX_ROWS) * (2 * LC_AMX_ROWS), rest = M - whole;
    if (whole) {
        lc_amx_configure(LC_AMX_ROWS, LC_AMX_ROWS);
        lc_amx_rows(0, whole, pairs, N, A2, P, C, ldc, accumulate);
    }
    if (rest) {
        int first = rest < LC_AMX_ROWS ? rest : LC_AMX_ROWS;
        lc_amx_configure(first, rest - first);
        lc_amx_rows(whole, M, pairs, N, A2, P, C, ldc, accumulate);
    }
    _tile_release();
}
#else
static inline int lc_amx_enable(void) { return 0; }
static inline int lc_amx_set(int on) { (void)on; return 0; }
#endif

#endif
