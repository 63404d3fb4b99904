/* Best-of-trials timing shared by the C harnesses in this folder. */
#ifndef LSTMCORE_BENCH_TIMING_H
#define LSTMCORE_BENCH_TIMING_H
#include <time.h>

static double lc_bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Seconds per repeat of `body`, the best of `trials` runs of `repeats` repeats: the machine is
 * shared, and the fastest run is the one least disturbed. */
#define LC_BEST_SECONDS(result, trials, repeats, body)                      \
    do {                                                                    \
        double best_ = 1e30;                                                \
        for (int trial_ = 0; trial_ < (trials); trial_++) {                 \
            double start_ = lc_bench_now();                                 \
            for (long repeat_ = 0; repeat_ < (repeats); repeat_++) { body; } \
            double took_ = (lc_bench_now() - start_) / (repeats);           \
            if (took_ < best_) best_ = took_;                               \
        }                                                                   \
        (result) = best_;                                                   \
    } while (0)

#endif
