/* How fast one core reads a buffer that sits in its L1, L2 or L3: the bound on the batch-1
 * recurrent product, which reads the whole packed recurrent kernel every step (H = 128: 256 KiB).
 * Four 64-byte loads per iteration into four FMA chains, the product kernel's access pattern
 * without its arithmetic.
 *
 *   gcc -O2 -mavx512f -mfma benchmarks/native/stream_read.c -o /tmp/stream_read
 *   /tmp/stream_read 16 128 256 512 4096      # buffer sizes in KiB
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include "timing.h"

static float read_all(const float *buffer, size_t count)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, x = _mm512_set1_ps(1.0001f);
    for (size_t i = 0; i < count; i += 64) {
        a0 = _mm512_fmadd_ps(x, _mm512_load_ps(buffer + i), a0);
        a1 = _mm512_fmadd_ps(x, _mm512_load_ps(buffer + i + 16), a1);
        a2 = _mm512_fmadd_ps(x, _mm512_load_ps(buffer + i + 32), a2);
        a3 = _mm512_fmadd_ps(x, _mm512_load_ps(buffer + i + 48), a3);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

int main(int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        size_t bytes = (size_t)atoi(argv[a]) * 1024, count = bytes / sizeof(float);
        float *buffer = aligned_alloc(64, bytes), sink = 0.0f;
        for (size_t i = 0; i < count; i++) buffer[i] = 1e-3f * (float)(i % 7);
        double seconds;
        LC_BEST_SECONDS(seconds, 5, (long)(4e9 / bytes) + 1, sink += read_all(buffer, count));
        printf("%6zu KiB: %6.1f GB/s  (%.3f us a pass)%s\n", bytes / 1024, bytes / seconds / 1e9,
               seconds * 1e6, sink == 12345.0f ? " " : "");
        free(buffer);
    }
    return 0;
}
