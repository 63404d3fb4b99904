/* The recurrence with the hidden units split across threads (float32).
 *
 * When a batch has fewer sequences than threads can share well (batch 1 is
 * common in genomics), or the recurrent kernel is too big for one core's L2
 * cache (H = 512 is 4 MiB), splitting the rows of the batch leaves cores idle
 * or makes every core stream the whole kernel each step.  Here thread t owns
 * the units [u0, u1) (whole 16-column panels of the packed kernel): it
 * computes only its gate columns, runs the cell for its units, and the team
 * meets at one barrier per step, because the next step needs all of h.
 * Written in C because it needs a barrier inside the parallel region, which
 * Cython does not offer.
 */
#ifndef LSTMCORE_LSTM_UNITS_H
#define LSTMCORE_LSTM_UNITS_H

#include <stdint.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "lstm_cell.h"
#include "lstm_gemm.h"
#include "lstm_gemm_bf16.h"
#include "lstm_narrow_inputs.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define lc_pause() _mm_pause()
#else
#define lc_pause() ((void)0)
#endif

typedef struct {
    int64_t B, T, H, ldy;                /* ldy: elements between rows of y (H, or more) */
    int reverse, training, threads;
    int bf16;                            /* forward inference: LC_BF16_* (lstm_gemm_bf16.h) */
    const int64_t *order, *lengths;      /* rows sorted by length, longest first */
    const float *bias;
    const float *packed;                 /* forward: kernel U packed; backward: U^T packed */
    float *y;                            /* forward: outputs (B, T, H) with rows ldy apart;
                                            backward: d_outputs (the same layout) or NULL */
    float *gates;                        /* forward: the block's projections; backward: the cache */
    float *hs, *cs;                      /* training: (S, B, H) caches;
                                            inference: two h buffers (2, B, H) and the c state (B, H) */
    const float *h0, *c0;                /* sorted initial state */
    float *dh, *dc;                      /* backward: gradient state, sorted rows (B, H) */
    const float *x_steps;                /* forward, narrow inputs: the block's inputs (steps, B, D),
                                            projected by each thread for its own columns; NULL when
                                            `gates` arrives projected */
    const float *kernel;                 /* (D, 4H) */
    int D;
    int skip_step0_product;              /* no recurrent product at step 0: forward, h0 is zeros
                                            (and `packed` finite); backward, d_h0 is not wanted */
} lc_unit_job;

/* The units thread t of nt owns: whole panels, as even as panels allow. */
static inline void lc_unit_range(int64_t H, int t, int nt, int64_t *u0, int64_t *u1)
{
    int64_t panels = H / LC_NR;
    *u0 = LC_NR * (panels * t / nt);
    *u1 = LC_NR * (panels * (t + 1) / nt);
}

static inline int64_t lc_active_rows(const int64_t *lengths, int64_t n, int64_t step)
{
    while (n > 0 && lengths[n - 1] <= step) n--;
    return n;
}

static inline int64_t lc_position(int reverse, int64_t length, int64_t step)
{
    return reverse ? length - 1 - step : step;
}

static inline void lc_team(int *t, int *nt)
{
#ifdef _OPENMP
    *t = omp_get_thread_num();
    *nt = omp_get_num_threads();
#else
    *t = 0;
    *nt = 1;
#endif
}

/* The team's per-step barrier: each thread announces the barriers it has passed in a cache
 * line of its own and spins, with `pause`, until every teammate's count has caught up.  An
 * order of magnitude cheaper than libgomp's `omp barrier`, which at batch 1 (microseconds of
 * work per step) cost a sixth of the time (benchmarks/results/kernel_design_measurements.md,
 * "barrier").  A line per thread rather than one shared counter: a counter's line went to
 * every arriving thread and back (an atomic add each, then the release), about four transfers
 * between cores on a step's critical path against two here (the count's line, then h's), and a
 * transfer is 60 ns between cores of one CCX of an EPYC but 330 ns across CCDs (measured on
 * this project's 2-core VM, whose cores the host moves between CCDs).  After 2000 pauses a
 * waiting thread yields its core at every check, so a team larger than the machine (two Python
 * threads each asking for every core) still makes progress. */
typedef struct {
    int64_t passed;
    char pad[64 - sizeof(int64_t)];
} lc_arrival;

/* Room for a team's arrival lines, one cache line each (NULL when out of memory). */
static inline lc_arrival *lc_arrivals_new(int nt)
{
    lc_arrival *arrivals = aligned_alloc(64, (size_t)(nt > 0 ? nt : 1) * sizeof(lc_arrival));
    if (arrivals) memset(arrivals, 0, (size_t)(nt > 0 ? nt : 1) * sizeof(lc_arrival));
    return arrivals;
}

/* Thread t's `passed`-th barrier (1, 2, ...): returns when every teammate has reached it. */
static inline void lc_barrier_wait(lc_arrival *arrivals, int t, int nt, int64_t passed)
{
    if (nt <= 1)
        return;
    __atomic_store_n(&arrivals[t].passed, passed, __ATOMIC_RELEASE);
    int spins = 0;
    for (int u = 0; u < nt; u++) {
        while (u != t && __atomic_load_n(&arrivals[u].passed, __ATOMIC_ACQUIRE) < passed) {
            if (spins < 2000) {       /* tens of microseconds: a step's imbalance */
                lc_pause();
                spins++;
            } else {                  /* a teammate is descheduled: let it run */
                sched_yield();
            }
        }
    }
}

/* Ask for the lines of h (or dh) that teammates wrote in the step before, all at once, before
 * the product reads them in order: each is a miss to another core's cache, and in k order they
 * came one after another (a round trip between cores is 60 ns on one CCX of an EPYC, 330 ns
 * across CCDs, measured here).  The first LC_PREFETCH_MAX bytes only: beyond, the product is long
 * enough for the hardware prefetcher. */
#define LC_PREFETCH_MAX 8192
static inline void lc_prefetch_rows(const float *p, int64_t count)
{
#if defined(__x86_64__) || defined(__i386__)
    int64_t bytes = count * (int64_t)sizeof(float);
    if (bytes > LC_PREFETCH_MAX) bytes = LC_PREFETCH_MAX;
    for (int64_t b = 0; b < bytes; b += 64)
        _mm_prefetch((const char *)p + b, _MM_HINT_T0);
#else
    (void)p; (void)count;
#endif
}

/* Step s of the block that starts at s0, for the units [u0, u1) (every unit when one thread
 * runs `alone`): the inputs' projection, the product and the cell of this thread's columns.
 * Alone, a row goes through the products a panel at a time (the row split's entries, one stream
 * of weights from L2; the same bits): single inference on two threads of AMD Zen 5 with the
 * team's verdict "alone" took 1.50-1.67 ms against 1.73-2.11 with two panels.  In a team it took
 * 2.10-2.31 ms against 1.87-2.01 with the cores far apart (a round trip of 500 ns) and 1.10-1.14
 * against 1.06-1.10 with them near (100 ns), so a teammate keeps two panels. */
static void lc_forward_step_units(const lc_unit_job *job, int64_t s0, int64_t s, int64_t n,
                                  int64_t u0, int64_t u1, int alone)
{
    const int64_t B = job->B, H = job->H, G = 4 * job->H;
    float *gates_s = job->gates + (s - s0) * B * G;
    const float *h_prev, *c_prev;
    float *h_out, *c_out;
    if (job->training) {
        h_prev = s == 0 ? job->h0 : job->hs + (s - 1) * B * H;
        c_prev = s == 0 ? job->c0 : job->cs + (s - 1) * B * H;
        h_out = job->hs + s * B * H;
        c_out = job->cs + s * B * H;
    } else {                                 /* h alternates between two buffers */
        h_prev = job->hs + (s & 1) * B * H;
        h_out = job->hs + ((s + 1) & 1) * B * H;
        c_prev = c_out = job->cs;
    }
    if (u1 <= u0)
        return;
    lc_prefetch_rows(h_prev, n * H);
    int product = s > 0 || !job->skip_step0_product;
    const float *x_s = job->x_steps ? job->x_steps + (s - s0) * B * job->D : NULL;
    int fused = x_s && product && !job->bf16;    /* the projection inside the product: same bits */
    int splits = lc_k_splits(B);
    if (x_s && !fused)
        for (int64_t q = 0; q < 4; q++)
            lc_project_narrow_f(n, (int)G, (int)(u1 - u0), job->D, x_s, job->kernel + q * H + u0,
                                gates_s + q * H + u0);
    for (int64_t q = 0; q < 4 && product; q++) {
        /* H % LC_NR == 0 here: a panel is H floats of LC_NR, or H / 2 pairs of them */
        size_t panel = (size_t)(q * H + u0) / LC_NR * H * LC_NR;
        if (fused && alone)
            lc_gemm_packed_narrow_alone_f((int)n, (int)H, (int)(u1 - u0), (int)G, h_prev, (int)H,
                                          job->packed + panel, gates_s + q * H + u0, x_s, job->D,
                                          job->kernel + q * H + u0, splits);
        else if (fused)
            lc_gemm_packed_narrow_f((int)n, (int)H, (int)(u1 - u0), (int)G, h_prev, (int)H, job->packed + panel,
                                    gates_s + q * H + u0, x_s, job->D, job->kernel + q * H + u0, splits);
        else if (job->bf16)     /* native bfloat16 panels are pairs of 16-bit halves, emulated ones floats */
            lc_gemm_packed_bf16_on(job->bf16, (int)n, (int)H, (int)(u1 - u0), h_prev, (int)H,
                                   job->bf16 == LC_BF16_NATIVE ? (const void *)((const uint16_t *)job->packed + panel)
                                                               : (const void *)(job->packed + panel),
                                   gates_s + q * H + u0, (int)G, 1, splits, alone);
        else if (alone)
            lc_gemm_packed_alone_f((int)n, (int)H, (int)(u1 - u0), h_prev, (int)H, job->packed + panel,
                                   gates_s + q * H + u0, (int)G, 1, splits);
        else
            lc_gemm_packed_f((int)n, (int)H, (int)(u1 - u0), h_prev, (int)H, job->packed + panel,
                             gates_s + q * H + u0, (int)G, 1, splits);
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t p = lc_position(job->reverse, job->lengths[i], s);
        lc_cell_forward_f((int)(u1 - u0), (int)H, gates_s + i * G + u0, job->bias + u0,
                          c_prev + i * H + u0, c_out + i * H + u0, h_out + i * H + u0,
                          job->y + (job->order[i] * job->T + p) * job->ldy + u0);
    }
}

/* Steps [from, to) of the block that starts at s0 for thread t of a team of `team` (1: every
 * unit, no barrier); `passed` counts this thread's barriers. */
static void lc_forward_run(const lc_unit_job *job, int64_t s0, int64_t from, int64_t to,
                           lc_arrival *arrivals, int t, int team, int64_t *passed)
{
    int64_t u0, u1, n = job->B;
    lc_unit_range(job->H, t, team, &u0, &u1);
    for (int64_t s = from; s < to; s++) {
        n = lc_active_rows(job->lengths, n, s);
        if (n == 0)
            break;                           /* every thread sees the same n */
        lc_forward_step_units(job, s0, s, n, u0, u1, team == 1);
        if (team > 1)
            lc_barrier_wait(arrivals, t, team, ++*passed);
    }
}

/* Whether a team pays for a small step, measured.  The team meets once a step, and what a
 * meeting costs depends on where the cores are: two cores of one CCX of an EPYC swap a line in
 * 60 ns, two CCDs in 330, and there batch 1 with 128 units took 3.3 ms on two threads against
 * 2.7 on one (1.7 on one CCX); a VM's host may move its cores between the two at any time.
 * So for steps of fewer than LC_SMALL_STEP multiply-adds inference now and then times
 * LC_TRIAL_STEPS steps by the team (after as many untimed) and as many by its first thread
 * alone, and keeps the faster for the next LC_VERDICT_CALLS calls.  Either way each unit's
 * arithmetic is the same, so the outputs are the same bits; only the time differs. */
#define LC_SMALL_STEP 262144
#define LC_TRIAL_STEPS 32
#define LC_VERDICT_CALLS 64
enum { LC_TEAM_MEASURE = 0, LC_TEAM_YES = 1, LC_TEAM_NO = 2 };
static int lc_team_policy = LC_TEAM_MEASURE;   /* tests force YES or NO (lc_set_team_policy) */
static int lc_team_verdict_threads;            /* team size of the verdict; 0: none yet */
static int lc_team_verdict;
static int lc_team_verdict_calls;

static inline void lc_set_team_policy(int policy)
{
    __atomic_store_n(&lc_team_policy, policy, __ATOMIC_RELAXED);
    __atomic_store_n(&lc_team_verdict_threads, 0, __ATOMIC_RELAXED);
}

/* LC_TEAM_YES, LC_TEAM_NO, or LC_TEAM_MEASURE: time a trial in this call. */
static int lc_team_choice(const lc_unit_job *job, int64_t steps)
{
    int policy = __atomic_load_n(&lc_team_policy, __ATOMIC_RELAXED);
    if (policy != LC_TEAM_MEASURE)
        return policy;
    /* training: the backward runs as a team, and it was slower still when the forward's gates
     * and states had been left in the first core's cache (across CCDs, 7.5 ms against 7.0) */
    if (job->training || job->B * 4 * job->H * job->H >= LC_SMALL_STEP || job->threads < 2)
        return LC_TEAM_YES;
    int calls = __atomic_add_fetch(&lc_team_verdict_calls, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&lc_team_verdict_threads, __ATOMIC_RELAXED) == job->threads
            && calls < LC_VERDICT_CALLS)
        return __atomic_load_n(&lc_team_verdict, __ATOMIC_RELAXED);
    return steps >= 4 * LC_TRIAL_STEPS ? LC_TEAM_MEASURE : LC_TEAM_YES;
}

static void lc_team_record(int threads, int verdict)
{
    __atomic_store_n(&lc_team_verdict, verdict, __ATOMIC_RELAXED);
    __atomic_store_n(&lc_team_verdict_threads, threads, __ATOMIC_RELAXED);
    __atomic_store_n(&lc_team_verdict_calls, 0, __ATOMIC_RELAXED);
}

static inline double lc_now(void)
{
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return 0.0;
#endif
}

/* Nanoseconds for one cache line to go from one thread of a team of two to the other and
 * back (mean over `rounds`), or -1 without OpenMP or a second thread: what one meeting of
 * the unit split pays per transfer (60 ns on one CCX of an EPYC, 330 across CCDs).  For
 * benchmarks, which report it beside their two-thread figures. */
static double lc_team_round_trip_ns(int rounds)
{
    lc_arrival *lines = lc_arrivals_new(2);
    double seconds = -1.0;
    if (lines == NULL)
        return -1.0;
#pragma omp parallel num_threads(2) shared(lines, seconds)
    {
        int t, nt;
        lc_team(&t, &nt);
        if (nt == 2) {
            double start = lc_now();
            for (int64_t i = 1; i <= rounds; i++) {
                if (t == 0) {
                    __atomic_store_n(&lines[0].passed, i, __ATOMIC_RELEASE);
                    while (__atomic_load_n(&lines[1].passed, __ATOMIC_ACQUIRE) < i) lc_pause();
                } else {
                    while (__atomic_load_n(&lines[0].passed, __ATOMIC_ACQUIRE) < i) lc_pause();
                    __atomic_store_n(&lines[1].passed, i, __ATOMIC_RELEASE);
                }
            }
            if (t == 0)
                seconds = lc_now() - start;
        }
    }
    free(lines);
    return seconds < 0 ? -1.0 : seconds * 1e9 / rounds;
}

/* Steps [s0, s1); `gates` holds the projected inputs of those steps. */
static void lc_forward_units_f(const lc_unit_job *job, int64_t s0, int64_t s1)
{
    int64_t passed = 0;
    int choice = lc_team_choice(job, s1 - s0);
    lc_arrival *arrivals = choice == LC_TEAM_NO ? NULL : lc_arrivals_new(job->threads);
    if (arrivals == NULL) {
        lc_forward_run(job, s0, s0, s1, NULL, 0, 1, &passed);
        return;
    }
    int active = job->threads;
#pragma omp parallel num_threads(job->threads) shared(arrivals, active) firstprivate(passed)
    {
        int t, nt;
        int64_t s = s0;
        lc_team(&t, &nt);
        if (choice == LC_TEAM_MEASURE && nt > 1) {
            /* untimed steps first: each teammate's first step fetches its part of the packed
             * kernel from the core that packed it */
            lc_forward_run(job, s0, s, s + LC_TRIAL_STEPS, arrivals, t, nt, &passed);
            s += LC_TRIAL_STEPS;
            double start = lc_now();
            lc_forward_run(job, s0, s, s + LC_TRIAL_STEPS, arrivals, t, nt, &passed);
            s += LC_TRIAL_STEPS;
            if (t == 0) {
                double team = lc_now() - start;
                start = lc_now();
                lc_forward_run(job, s0, s, s + LC_TRIAL_STEPS, NULL, 0, 1, &passed);
                active = lc_now() - start < team ? 1 : nt;
                lc_team_record(nt, active == 1 ? LC_TEAM_NO : LC_TEAM_YES);
            }
            lc_barrier_wait(arrivals, t, nt, ++passed);
            s += LC_TRIAL_STEPS;
        }
        if (t < active)
            lc_forward_run(job, s0, s, s1, arrivals, t, active < nt ? active : nt, &passed);
    }
    free(arrivals);
}

/* Inference: move each row's final h into buffer 0 (it ends in buffer length % 2). */
static void lc_settle_units_f(const lc_unit_job *job)
{
    for (int64_t i = 0; i < job->B; i++)
        if (job->lengths[i] & 1)
            memcpy(job->hs + i * job->H, job->hs + (job->B + i) * job->H, job->H * sizeof(float));
}

/* Every step in reverse: cell for own units, barrier, own columns of dh. */
static void lc_backward_units_f(const lc_unit_job *job, int64_t S)
{
    const int64_t B = job->B, H = job->H, G = 4 * job->H;
    lc_arrival *arrivals = lc_arrivals_new(job->threads);
#pragma omp parallel num_threads(arrivals ? job->threads : 1) shared(arrivals)
    {
        int t, nt;
        int64_t u0, u1, n = 0;
        lc_team(&t, &nt);
        lc_unit_range(H, t, nt, &u0, &u1);
        for (int64_t s = S - 1; s >= 0; s--) {
            while (n < B && job->lengths[n] > s) n++;
            if (n == 0)
                continue;
            float *gates_s = job->gates + s * B * G;
            const float *c_prev = s == 0 ? job->c0 : job->cs + (s - 1) * B * H;
            if (u1 > u0)
                for (int64_t i = 0; i < n; i++) {
                    if (job->y) {
                        int64_t p = lc_position(job->reverse, job->lengths[i], s);
                        lc_add_f((int)(u1 - u0), job->dh + i * H + u0,
                                 job->y + (job->order[i] * job->T + p) * job->ldy + u0);
                    }
                    lc_cell_backward_f((int)(u1 - u0), (int)H, gates_s + i * G + u0,
                                       job->cs + (s * B + i) * H + u0, c_prev + i * H + u0,
                                       job->dh + i * H + u0, job->dc + i * H + u0);
                }
            if (s == 0 && job->skip_step0_product)
                break;                       /* d_h0 not wanted: no meeting, no product */
            lc_barrier_wait(arrivals, t, nt, S - s);
            lc_prefetch_rows(gates_s, n * G);
            if (u1 > u0)
                lc_gemm_packed_f((int)n, (int)G, (int)(u1 - u0), gates_s, (int)G,
                                 job->packed + u0 / LC_NR * G * LC_NR, job->dh + u0, (int)H, 0,
                                 lc_k_splits(B));
        }
    }
}

#endif
