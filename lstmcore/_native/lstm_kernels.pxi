"""Fused LSTM forward and backward over whole sequences.

Design note
-----------
One call runs one layer, one direction, over a whole batch.  The Python side
(lstmcore/ops.py) has already checked every argument and sorted the batch by
length, longest first (`order`, `lengths` sorted); here nothing is checked.

Inside, the work is time-major and in sorted row order, so that at step s the
sequences still running are the prefix [0, n_s) of the rows: the per-step
GEMM and pointwise pass cover exactly the real work, and a padded tail costs
no arithmetic.  Row i at step s consumes position p = s (forward) or
p = len_i - 1 - s (reverse) of sequence order[i].

Forward (all without the GIL):
  1. x is gathered time-major (x_steps, zero rows for padding) and projected
     with one GEMM:      gates[s, i] = x_steps[s, i] @ kernel
     (BLAS sgemm/dgemm, or for float32 where lc_own_large_products() says so
     (AMD with AVX-512, measured faster) the micro-kernel on the kernel packed
     once per call; inputs of at most NARROW_INPUTS features are projected
     inside each step instead, lstm_narrow_inputs.h)
  2. per step:         gates[s, :n] += h[s-1, :n] @ recurrent_kernel
     (float32: a register-blocked micro-kernel over the recurrent kernel packed
     once per call, lstm_gemm.h, since OpenBLAS repacks it on every call;
     float64: BLAS), then the fused pointwise cell (lstm_cell.h), leaving the
     gate activations in `gates` and writing c, h and the output.
  Threads: the rows are independent sequences, so each OpenMP thread takes a
  contiguous block of rows (balanced by total length) through every step with
  no barrier.  With fewer than two sequences per thread, or a recurrent kernel
  too big for one core's cache (H >= 256), the team splits the hidden units
  instead, one barrier a step (lstm_units.h, float32; an arrival line per
  thread spun on, ten times cheaper than `omp barrier` here; in inference
  with small steps, timed trials choose between the team and its first
  thread alone, because a meeting across CCDs costs more than batch 1's
  step).  The big products before and after the loop are cut into row or
  column blocks, one single-threaded BLAS call per thread.
  Inference keeps one h and c row per sequence and projects the inputs in
  blocks of steps, so its memory does not grow with the sequence length
  beyond the output; training keeps gates, c and h of every step: the cache.

Backward (without the GIL), per step in reverse: the pointwise pass turns the
activations in `gates` into gate gradients in place, one GEMM gives the
gradient reaching h[s-1].  After the loop one GEMM each for the kernel, the
recurrent kernel and the inputs, and a fixed-order sum for the bias.  The two
weight gradients are A^T B with both operands k-major (steps x batch rows): on
AVX2 and AVX-512 builds a kernel of our own (lstm_gemm_tn.h) where they are at
most 1024 wide, BLAS otherwise.  Every reduction the team shares is cut into
blocks fixed by the problem, not by the team, and the blocks' sums are added in
block order: float32 results are the same bits at any thread count, and on the
avx2 and avx512 variants alike (tests/test_kernel_same_bits.py).

Every BLAS is pinned to one thread for the length of a call (lstmcore/_threads.py),
so the BLAS calls that the team makes inside a prange, one block each, never
start threads of their own.  Arrays are marked IN / OUT; the Python wrappers
allocate every output, except that the outputs may go into a caller's array
whose rows are `ldy` apart (a Bidirectional layer's two halves of one buffer;
the backward reads d_outputs in the same layout).
"""
import numpy as np

cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport prange
from libc.stdint cimport int64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv

cnp.import_array()

from lstmcore._native.lstm_native cimport *   # the C kernels' signatures (lstm_native.pxd)

cdef extern from "<stdlib.h>" nogil:
    void* aligned_alloc(size_t alignment, size_t size)   # C11; freed by free()

# Inference projects the inputs a block of steps at a time, the block's gates
# (counted as float64) kept under this size, so memory does not grow with the
# sequence.  Each block is one BLAS call that packs the whole kernel, so a
# block must be large enough for the packing to be a small part of it
# (benchmarks/results/kernel_design_measurements.md, "inference block");
# the packed projection (lc_own_large_products) packs it once per call instead.
# Narrow inputs project per step and do not care.
DEF INFERENCE_BLOCK_BYTES = 8388608
# A call's recurrence stays on one thread below this many gate elements
# (steps x rows x 4H summed over the rows): waking a team costs a few
# microseconds.  With at least MIN_ROWS_PER_THREAD rows (one micro-kernel
# tile) per thread the team pays off early (the seed model, B32 T10 H50, is
# worth splitting); threads with fewer rows each stream the whole recurrent
# kernel for little arithmetic and keep the higher bar
# (benchmarks/results/kernel_design_measurements.md, "team bars").
DEF TEAM_MIN_ELEMENTS = 16384
DEF TEAM_MIN_ELEMENTS_FEW_ROWS = 131072
DEF MIN_ROWS_PER_THREAD = 6
# The input-gradient pass (lstm_narrow_inputs.h) splits its rows across the
# team from this many elements of gate gradients and partial sums on.
DEF GRADIENT_PASS_MIN_ELEMENTS = 524288
# Reductions and products the team shares are cut into blocks whose number is a function of the
# problem, never of the team (so the bits are the same at any thread count), and a power of two
# up to MAX_BLOCKS (so 2, 4, 8 or 16 threads get equal shares: 9 blocks of big's weight gradient
# left one of two threads with 5, and 2048-row blocks of 6400 rows one with 4096; big's 2-thread
# training ran 12 % slower).  _blocks(extent, least) gives the count: blocks of at least `least`.
DEF MAX_BLOCKS = 16
DEF GRADIENT_ROWS_LEAST = 256     # the input-gradient pass (up to 64 blocks: its partials are small)
DEF GRADIENT_ROWS_MAX_BLOCKS = 64
DEF K_BLOCK_LEAST = 64            # the weight gradients' A^T B, k rows a block
DEF PARTIALS_MAX_BYTES = 33554432 # ... and their partial sums, all blocks together
DEF GEMM_ROWS_LEAST = 1024        # _parallel_gemm: each block packs the other operand again
DEF GEMM_COLUMNS_LEAST = 512
# Inputs at most this wide are projected inside each thread's step loop, and
# get d_kernel, dx and d_bias in one pass over the gate gradients
# (lstm_narrow_inputs.h), instead of BLAS products that each pack a whole
# (steps x batch, 4H) matrix for a handful of multiply-adds.
DEF NARROW_INPUTS = 16
DEF CACHE_LINE = 64


def openmp_enabled():
    """True when the kernels were compiled with OpenMP."""
    return bool(LC_OPENMP)


def simd_kernel():
    """The recurrent micro-kernel this variant uses ("avx512", "avx2+fma" or "portable C")."""
    if LC_HAVE_AVX512:
        return "avx512"
    return "avx2+fma" if LC_HAVE_AVX2 else "portable C"


def variant():
    """The name of this variant of the kernels (setup.py's VARIANTS)."""
    return LC_VARIANT.decode()


def cpu_features():
    """The instruction sets of the dispatch table (cpu_features.h) that this CPU supports."""
    return frozenset(lc_feature_names[i].decode() for i in range(LC_FEATURE_COUNT) if lc_cpu_has(i))


def built_for():
    """The instruction sets of the dispatch table this variant's compiler targeted."""
    return frozenset(lc_feature_names[i].decode() for i in range(LC_FEATURE_COUNT) if lc_built_for(i))


cdef inline void _recurrent_product(bint backward, Py_ssize_t m, Py_ssize_t B, Py_ssize_t H, floating* a,
                                    floating* packed, floating* rkernel, floating* c) noexcept nogil:
    """One step's recurrent product for m rows of a batch of B (which fixes each row's order of
    summation, lc_k_splits: the same bits whatever rows a thread was given).

    forward:  c (m, 4H) += a (m, H) @ recurrent_kernel
    backward: c (m, H)   = a (m, 4H) @ recurrent_kernel^T
    float32 uses the kernel packed once per call (lstm_gemm.h), a single row (GEMV,
    bound by reading the weights from L2) included: with the panels on cache lines
    its 1-row kernel streams the weights faster than OpenBLAS's sgemv (figures in
    benchmarks/results/kernel_design_measurements.md, "batch 1"), a panel at a time
    (lc_gemm_packed_alone_f: one stream).  float64 uses BLAS.
    """
    cdef Py_ssize_t G = 4 * H
    if floating is float:
        if backward:
            lc_gemm_packed_alone_f(<int>m, <int>G, <int>H, a, <int>G, packed, c, <int>H, 0, lc_k_splits(B))
        else:
            lc_gemm_packed_alone_f(<int>m, <int>H, <int>G, a, <int>H, packed, c, <int>G, 1, lc_k_splits(B))
    else:
        if backward:
            _rows_times(True, <int>m, <int>H, <int>G, a, rkernel, <int>G, <floating>0, c)
        else:
            _rows_times(False, <int>m, <int>G, <int>H, a, rkernel, <int>G, <floating>1, c)


cdef inline void _pack_bf16(int mode, int K, int N, float* b, float* packed) noexcept nogil:
    """Pack a K x N row-major kernel for the bfloat16 product (lstm_gemm_bf16.h): pairs, or rounded floats."""
    if mode == LC_BF16_NATIVE:
        lc_pack_bf16(K, N, b, N, 0, <unsigned short*>packed)
    else:
        lc_pack_bf16_emulated(K, N, b, N, 0, packed)


cdef inline void _pack_recurrent_bf16(int mode, Py_ssize_t H, float* rkernel, float* packed) noexcept nogil:
    """Pack recurrent_kernel for the bfloat16 product."""
    _pack_bf16(mode, <int>H, <int>(4 * H), rkernel, packed)


cdef void _project_bf16(Dims* d, CallArrays* a, Py_ssize_t rows, int threads) noexcept nogil:
    """gates (rows, 4H) = x_steps (rows, D) @ kernel with both in bfloat16 (packed once per call), the
    rows split over the team: the input kernel is packed once, so no thread repacks it per block
    (torch's bfloat16 autocast rounds this product too; float32 for wide inputs, it was the half of
    big inference's time that bfloat16 did not touch).  Every row's sum is one chain (no k-split),
    so the bits do not depend on how the rows were cut."""
    cdef Py_ssize_t t, lo, hi, G = 4 * d.H
    cdef float* x_steps = <float*>a.x_steps
    cdef float* gates = <float*>a.gates
    if threads < 2 or rows < 2 * threads:
        lc_gemm_packed_bf16(d.bf16, <int>rows, <int>d.D, <int>G, x_steps, <int>d.D, a.packed_in, gates,
                            <int>G, 0, 1)
        return
    for t in prange(threads, num_threads=threads, schedule="static", chunksize=1):
        lo = rows * t // threads
        hi = rows * (t + 1) // threads
        lc_gemm_packed_bf16(d.bf16, <int>(hi - lo), <int>d.D, <int>G, x_steps + lo * d.D, <int>d.D,
                            a.packed_in, gates + lo * G, <int>G, 0, 1)


cdef void _project_packed(Dims* d, CallArrays* a, Py_ssize_t rows, int threads) noexcept nogil:
    """gates (rows, 4H) = x_steps (rows, D) @ kernel through the packed micro-kernel, where
    lc_own_large_products() chose it over sgemm (lstm_gemm.h says when and why), the rows split
    over the team (the same bits at any thread count: each row is summed in k order)."""
    cdef Py_ssize_t t, lo, hi, G = 4 * d.H
    cdef float* x_steps = <float*>a.x_steps
    cdef float* gates = <float*>a.gates
    cdef float* packed_in = <float*>a.packed_in
    lc_count_own_product(LC_OWN_PROJECTION)
    if threads < 2 or rows < 8 * threads:
        lc_project_packed_f(<int>rows, <int>d.D, <int>G, x_steps, packed_in, gates)
        return
    for t in prange(threads, num_threads=threads, schedule="static", chunksize=1):
        lo = rows * t // threads
        hi = rows * (t + 1) // threads
        lc_project_packed_f(<int>(hi - lo), <int>d.D, <int>G, x_steps + lo * d.D, packed_in, gates + lo * G)


cdef inline void _pack_recurrent(bint backward, Py_ssize_t H, floating* rkernel,
                                 floating* packed) noexcept nogil:
    """Pack recurrent_kernel (forward) or its transpose (backward) for the float32 kernel."""
    if floating is float:
        if backward:
            lc_pack_f(<int>(4 * H), <int>H, rkernel, <int>(4 * H), 1, packed)
        else:
            lc_pack_f(<int>H, <int>(4 * H), rkernel, <int>(4 * H), 0, packed)


# --------------------------------------------------------------------------
# BLAS on row-major arrays: swap the operands instead of copying.

cdef inline void _gemm(bint trans_a, bint trans_b, int m, int n, int k,
                       floating alpha, floating* a, int lda, floating* b, int ldb,
                       floating beta, floating* c, int ldc) noexcept nogil:
    """Row-major C (m, n) = alpha * op(A) (m, k) @ op(B) (k, n) + beta * C.

    The weight gradients' A^T B (both operands k-major, k long) goes through
    lstm_gemm_tn.h where the build has it: BLAS spent a third of that product
    copying its operands.  Past LC_TN_MAX_N columns only where lc_own_large_products() says so."""
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    if m <= 0 or n <= 0:
        return
    if floating is float:
        if (LC_HAVE_GEMM_TN and trans_a and not trans_b and alpha == 1 and (beta == 0 or beta == 1)
                and m >= LC_TN_MIN_M and (n <= LC_TN_MAX_N or lc_own_large_products())):
            if lc_gemm_tn_f(m, n, k, a, lda, b, ldb, c, ldc, beta == 1):
                if n > LC_TN_MAX_N:
                    lc_count_own_product(LC_OWN_WIDE_WEIGHT_GRADIENT)
                return
        sgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc)


cdef inline void _rows_times(bint trans_b, int m, int n, int k, floating* a, floating* b,
                             int ldb, floating beta, floating* c) noexcept nogil:
    """Row-major C (m, n) = A (m, k) @ op(B) + beta * C, dense rows; GEMV when m == 1."""
    cdef char t = b'N' if not trans_b else b'T'
    cdef int one = 1
    cdef floating alpha = 1
    if m != 1:
        _gemm(False, trans_b, m, n, k, alpha, a, k, b, ldb, beta, c, n)
        return
    # one row: c = op(B)^T a; row-major B (k, n) is column-major (n, k)
    cdef int rows = n if not trans_b else k
    cdef int cols = k if not trans_b else n
    if floating is float:
        sgemv(&t, &rows, &cols, &alpha, b, &ldb, a, &one, &beta, c, &one)
    else:
        dgemv(&t, &rows, &cols, &alpha, b, &ldb, a, &one, &beta, c, &one)


# --------------------------------------------------------------------------
# Pointwise passes over the active rows of one step.

cdef inline void _cell_forward(int H, floating* z, floating* bias, floating* c_prev,
                               floating* c_out, floating* h_out, floating* y) noexcept nogil:
    if floating is float:
        lc_cell_forward_f(H, H, z, bias, c_prev, c_out, h_out, y)
    else:
        lc_cell_forward_d(H, H, z, bias, c_prev, c_out, h_out, y)


cdef inline void _cell_backward(int H, floating* z, floating* c, floating* c_prev,
                                floating* dh, floating* dc) noexcept nogil:
    if floating is float:
        lc_cell_backward_f(H, H, z, c, c_prev, dh, dc)
    else:
        lc_cell_backward_d(H, H, z, c, c_prev, dh, dc)


cdef inline void _add(int H, floating* dst, floating* src) noexcept nogil:
    if floating is float:
        lc_add_f(H, dst, src)
    else:
        lc_add_d(H, dst, src)


cdef inline Py_ssize_t _position(bint reverse, int64_t length, Py_ssize_t step) noexcept nogil:
    return length - 1 - step if reverse else step


DEF MAX_THREADS = 256


cdef struct Dims:
    Py_ssize_t B, T, D, H, S
    Py_ssize_t ldy                    # elements between output rows (H, or more in a shared buffer)
    bint reverse
    int threads                       # team size; row_begin[t] .. row_begin[t+1] are team t's rows
    bint split_units                  # float32 only: the team splits the units, not the rows
    int bf16                          # float32 inference: LC_BF16_* (lstm_gemm_bf16.h)
    bint skip_step0_product           # no recurrent product at step 0: forward, h0 is zeros
                                      # (_no_first_product); backward, d_h0 is not wanted
    Py_ssize_t row_begin[MAX_THREADS + 1]


cdef struct CallArrays:
    # Every array of one forward or backward call, as untyped pointers: float or double by the
    # call's dtype (a struct member cannot be fused), cast back by the functions that take it.
    # Built once by `forward` / `backward` from the arrays they allocated or were given, so that
    # what the work needs travels as one pointer instead of a dict and long argument lists.
    int64_t* order      # IN sorted row -> sequence
    int64_t* lengths    # IN sorted lengths, longest first
    void* x             # IN (B, T, D)
    void* kernel        # IN (D, 4H)
    void* rkernel       # IN (H, 4H)
    void* packed        # work: the recurrent kernel packed (float32), on a cache line
    void* packed_in     # wide inputs, bfloat16 inference or float32 on the packed projection
                        # (lc_own_large_products): the input kernel packed, on a cache line;
                        # backward: its transpose, for the input gradient of wide inputs
    void* bias          # IN (4H,)
    void* h0            # IN the caller's initial state (B, H), or NULL for zeros
    void* c0
    void* h0s           # the initial state in sorted row order (B, H)
    void* c0s
    void* y             # forward OUT (B, T, H), rows ldy apart; backward IN d_outputs, or NULL
    void* gates         # forward: gate activations (the cache); backward: becomes the gate gradients
    void* x_steps       # the inputs gathered time-major
    void* hs            # training: (S, B, H) hidden states; inference: the current state
    void* cs            # the same for the cell states
    void* h_n           # forward OUT (B, H)
    void* c_n
    void* dx            # backward OUT (B, T, D)
    void* dx_steps      # backward work (S, B, D)
    void* d_kernel      # backward OUT
    void* d_rkernel
    void* d_bias
    void* dh            # backward: the gradient reaching h, sorted rows (B, H)
    void* dc
    void* d_h0          # backward OUT (B, H)
    void* d_c0


cdef inline Py_ssize_t _inference_block_steps(Dims* d) noexcept nogil:
    """Steps per projected block in inference: what fits INFERENCE_BLOCK_BYTES, 1 to 256."""
    cdef Py_ssize_t per_step = d.B * 4 * d.H * 8
    cdef Py_ssize_t steps = INFERENCE_BLOCK_BYTES // per_step if per_step > 0 else 256
    return 1 if steps < 1 else (256 if steps > 256 else steps)


cdef inline Py_ssize_t _active_rows(int64_t* lengths, Py_ssize_t n, Py_ssize_t step) noexcept nogil:
    """Shrink `n` (rows active before) to the rows whose length exceeds `step`."""
    while n > 0 and lengths[n - 1] <= step:
        n -= 1
    return n


cdef void _split_work(Dims* d, int64_t* lengths, int threads, bint units_allowed) noexcept nogil:
    """Choose how the team shares the recurrence: by units or by rows.

    By units (lstm_units.h, one barrier a step) when the recurrent kernel is
    too big for one core's cache (H >= 256, 1 MiB and more: each thread then
    reads only its part), or when there are fewer than two sequences per
    thread and a step has at least 64K multiply-adds to share.  Otherwise by
    rows, with no barrier.  Splitting by units pays at batch 1 only because the
    1-row micro-kernel keeps its accumulators in registers and the barrier is a
    spin on a counter (benchmarks/results/kernel_design_measurements.md, "batch 1").
    """
    cdef Py_ssize_t i, total = 0
    for i in range(d.B):
        total += lengths[i]
    d.split_units = False
    cdef bint big_step = d.B * d.H * 4 * d.H >= 65536
    if (units_allowed and threads > 1 and d.H % 16 == 0
            and (d.H >= 256 or (d.B < 2 * threads and big_step))
            and total * d.H * 4 >= TEAM_MIN_ELEMENTS):
        d.split_units = True
        d.threads = threads if threads < d.H // 16 else <int>(d.H // 16)
        return
    _split_rows(d, lengths, threads, total)


cdef void _split_rows(Dims* d, int64_t* lengths, int threads, Py_ssize_t total) noexcept nogil:
    """Give each thread a contiguous block of rows with about equal total length.

    Rows are independent sequences, so a thread runs its block through every
    step with no barrier.  Small problems stay on one thread: waking a team
    costs more than it saves.
    """
    cdef Py_ssize_t i, t = 1, acc = 0
    if threads > MAX_THREADS:
        threads = MAX_THREADS
    if threads > d.B:
        threads = <int>d.B
    cdef Py_ssize_t min_elements = (TEAM_MIN_ELEMENTS if d.B >= MIN_ROWS_PER_THREAD * threads
                                    else TEAM_MIN_ELEMENTS_FEW_ROWS)
    if total * d.H * 4 < min_elements or threads < 1:
        threads = 1
    d.threads = threads
    d.row_begin[0] = 0
    for i in range(d.B):
        acc += lengths[i]
        if t < threads and acc * threads >= total * t and i + 1 < d.B:
            d.row_begin[t] = i + 1
            t += 1
    while t <= threads:
        d.row_begin[t] = d.B
        t += 1


cdef void _gather_steps(Dims* d, floating* x, int64_t* order, int64_t* lengths,
                        Py_ssize_t s0, Py_ssize_t s1, floating* x_steps) noexcept nogil:
    """x_steps[s - s0, i] = x[order[i], position(i, s)] for active rows; others untouched."""
    cdef Py_ssize_t s, i, n = d.B
    for s in range(s0, s1):
        n = _active_rows(lengths, n, s)
        for i in range(n):
            memcpy(x_steps + ((s - s0) * d.B + i) * d.D,
                   x + (order[i] * d.T + _position(d.reverse, lengths[i], s)) * d.D,
                   d.D * sizeof(floating))


cdef inline Py_ssize_t _blocks(Py_ssize_t extent, Py_ssize_t least, Py_ssize_t most) noexcept nogil:
    """The largest power of two, at most `most`, of blocks of at least `least` in `extent` (1 at
    least).  Block i covers [extent * i // blocks, extent * (i + 1) // blocks)."""
    cdef Py_ssize_t blocks = 1
    while blocks * 2 <= most and extent // (blocks * 2) >= least:
        blocks *= 2
    return blocks


cdef inline int _team_size(int threads, Py_ssize_t multiply_adds, Py_ssize_t blocks) noexcept nogil:
    """The threads a product's blocks go to: one below 1M multiply-adds (tens of microseconds on
    one core), where waking the team costs more than it saves (the seed model's second layer,
    3.2M each, must be split: benchmarks/results/kernel_design_measurements.md, "team bars");
    never more than the blocks."""
    if multiply_adds < 1048576 or threads < 2:
        return 1
    return <int>blocks if threads > blocks else threads


cdef void _parallel_gemm(int threads, bint split_columns, bint trans_a, bint trans_b,
                         Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                         floating* a, Py_ssize_t lda, floating* b, Py_ssize_t ldb,
                         floating beta, floating* c, Py_ssize_t ldc) noexcept nogil:
    """Row-major C = op(A) @ op(B) + beta C, cut into _blocks blocks of rows (or columns) that the
    team shares.

    The blocks do not depend on the team, so neither do the bits: OpenBLAS picks its kernels by
    a call's shape, and one block per thread gave 2 threads other bits than 1 (dx of wide inputs).
    Every BLAS call is single-threaded (lstmcore pins the kernels' BLAS to one thread), so the
    team never oversubscribes the cores.
    """
    cdef Py_ssize_t i, lo, hi, extent = n if split_columns else m
    cdef Py_ssize_t blocks = _blocks(extent, GEMM_COLUMNS_LEAST if split_columns else GEMM_ROWS_LEAST,
                                     MAX_BLOCKS)
    threads = _team_size(threads, m * n * k, blocks)
    if blocks == 1:
        _gemm(trans_a, trans_b, <int>m, <int>n, <int>k, <floating>1, a, <int>lda, b, <int>ldb,
              beta, c, <int>ldc)
        return
    for i in prange(blocks, num_threads=threads, schedule="static"):
        lo = extent * i // blocks
        hi = extent * (i + 1) // blocks
        if split_columns:
            _gemm(trans_a, trans_b, <int>m, <int>(hi - lo), <int>k, <floating>1, a, <int>lda,
                  b + (lo * ldb if trans_b else lo), <int>ldb, beta, c + lo, <int>ldc)
        else:
            _gemm(trans_a, trans_b, <int>(hi - lo), <int>n, <int>k, <floating>1,
                  a + (lo if trans_a else lo * lda), <int>lda, b, <int>ldb, beta,
                  c + lo * ldc, <int>ldc)


cdef void _packed_rows_gemm(int threads, Py_ssize_t m, Py_ssize_t k, Py_ssize_t n, float* a,
                           float* packed, float* c) noexcept nogil:
    """Row-major C (m, n) = A (m, k) @ the packed operand, through lc_project_packed_f, in
    _parallel_gemm's blocks of rows shared by the team (each row is summed in k order whatever
    its block: the same bits at any thread count)."""
    cdef Py_ssize_t i, lo, hi, blocks = _blocks(m, GEMM_ROWS_LEAST, MAX_BLOCKS)
    threads = _team_size(threads, m * n * k, blocks)
    for i in prange(blocks, num_threads=threads, schedule="static"):
        lo = m * i // blocks
        hi = m * (i + 1) // blocks
        lc_project_packed_f(<int>(hi - lo), <int>k, <int>n, a + lo * k, packed, c + lo * n)


cdef void _add_partials(floating* dst, floating* partials, Py_ssize_t count, Py_ssize_t size,
                        Py_ssize_t stride) noexcept nogil:
    """dst[:size] += partials[t * stride:][:size] for t = 0 .. count-1, in that order.

    The blocks' partial sums of a split reduction are added in block order; the blocks are
    fixed by the problem (not by the team), so any thread count gives the same bits."""
    cdef Py_ssize_t t, i
    for t in range(count):
        for i in range(size):
            dst[i] += partials[t * stride + i]


cdef bint _no_first_product(Py_ssize_t n_state, floating* state, Py_ssize_t n_other,
                            floating* other) noexcept nogil:
    """True when a product of `state` (the initial h) with `other` is exactly zero, so it can be
    skipped: the forward's first recurrent product (other: the recurrent kernel) and the h0
    term of the recurrent kernel's gradient (other: step 0's gate gradients).  Not when
    `other` holds an inf or NaN: zeros times those are NaN, as in the reference.  Called with
    no initial state (zeros) this saves one step's product of T: a tenth of the seed model's."""
    cdef Py_ssize_t i
    cdef bint nonzero = False, not_finite = False
    for i in range(n_state):
        nonzero |= state[i] != 0
    if nonzero:
        return False
    for i in range(n_other):
        not_finite |= not (other[i] - other[i] == 0)      # inf - inf and NaN are NaN
    return not not_finite


cdef inline Py_ssize_t _k_blocks(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, Py_ssize_t itemsize) noexcept nogil:
    """How many blocks of k rows a weight gradient's product is cut into: _blocks of at least
    K_BLOCK_LEAST rows, no more than PARTIALS_MAX_BYTES of partial sums allow.  A function of the
    problem alone, never of the team, so the bits are the same at any thread count."""
    cdef Py_ssize_t affordable = 1 + PARTIALS_MAX_BYTES // max(m * n * itemsize, 1)
    return _blocks(k, K_BLOCK_LEAST, MAX_BLOCKS if affordable > MAX_BLOCKS else affordable)


cdef void _split_k_gemm(int threads, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                        floating* a, Py_ssize_t lda, floating* b, Py_ssize_t ldb,
                        floating beta, floating* c) noexcept nogil:
    """C (m, n; contiguous) = beta C + A^T B for row-major A (k, m) and B (k, n), with the k rows
    cut into _k_blocks blocks whose products are added in block order, the blocks shared by the
    team (contiguous runs of them, so each thread reads one stretch of the operands).

    For the recurrent-kernel gradient (m x n = H x 4H, k = steps x batch): cutting m or n
    instead made every thread pack the whole of A or B (OpenBLAS itcopy/otcopy 11 % of dna
    training at 2 threads, half of it duplicated; lstm_gemm_tn.h's own copies of A made long's
    2-thread training 4 % slower); a k block packs only its own rows.  The blocks used to be one
    per thread, so 2 threads added other partial sums than 1 and gave other bits.
    """
    cdef Py_ssize_t i, lo, hi, size = m * n, blocks = _k_blocks(m, n, k, sizeof(floating))
    cdef floating* partials = NULL
    # a k block packs only its own rows, so even the seed model's 2.9M pays for the team
    threads = _team_size(threads, m * n * k, blocks)
    if blocks > 1:              # one thread adds each block as it is done, through one buffer
        partials = <floating*>malloc((blocks - 1 if threads > 1 else 1) * size * sizeof(floating))
    if partials == NULL:
        blocks = 1                    # one product: the sums in another order, out of memory only
    if blocks == 1:
        _gemm(True, False, <int>m, <int>n, <int>k, <floating>1, a, <int>lda, b, <int>ldb, beta, c, <int>n)
        return
    if threads == 1:
        _gemm(True, False, <int>m, <int>n, <int>(k // blocks), <floating>1, a, <int>lda, b, <int>ldb, beta,
              c, <int>n)
        for i in range(1, blocks):
            lo = k * i // blocks
            hi = k * (i + 1) // blocks
            _gemm(True, False, <int>m, <int>n, <int>(hi - lo), <floating>1, a + lo * lda, <int>lda,
                  b + lo * ldb, <int>ldb, <floating>0, partials, <int>n)
            _add_partials(c, partials, 1, size, size)
        free(partials)
        return
    for i in prange(blocks, num_threads=threads, schedule="static"):
        lo = k * i // blocks
        hi = k * (i + 1) // blocks
        if i == 0:
            _gemm(True, False, <int>m, <int>n, <int>hi, <floating>1, a, <int>lda, b, <int>ldb, beta, c, <int>n)
        else:
            _gemm(True, False, <int>m, <int>n, <int>(hi - lo), <floating>1, a + lo * lda, <int>lda,
                  b + lo * ldb, <int>ldb, <floating>0, partials + (i - 1) * size, <int>n)
    # each element's partials in block order, the elements shared (big's 8 partials of 4 MiB
    # were a single-threaded pass over 32 MiB for each of its weight gradients)
    for i in prange(threads, num_threads=threads, schedule="static"):
        lo = size * i // threads
        hi = size * (i + 1) // threads
        _add_partials(c + lo, partials + lo, blocks - 1, hi - lo, size)
    free(partials)


cdef void _forward_rows(floating* tag, Dims* d, CallArrays* a, Py_ssize_t r0, Py_ssize_t r1,
                        Py_ssize_t s0, Py_ssize_t s1, bint training, floating* narrow) noexcept nogil:
    """Run rows [r0, r1) through steps [s0, s1): one GEMM (or GEMV) and one cell pass a step.

    `gates` holds the projected inputs of steps [s0, s1) (the block), or, when
    `narrow` (the gathered inputs) is given, each step's rows are projected here first.
    """
    cdef Py_ssize_t B = d.B, H = d.H, G = 4 * d.H
    cdef Py_ssize_t s, i, n = r1
    cdef int64_t* order = a.order
    cdef int64_t* lengths = a.lengths
    cdef floating* gates = <floating*>a.gates
    cdef floating* hs = <floating*>a.hs
    cdef floating* cs = <floating*>a.cs
    cdef floating* y = <floating*>a.y
    cdef floating* bias = <floating*>a.bias
    cdef floating* packed = <floating*>a.packed
    cdef floating* rkernel = <floating*>a.rkernel
    cdef floating* kernel = <floating*>a.kernel
    cdef floating* gates_s
    cdef floating* h_prev
    cdef floating* c_prev
    cdef floating* h_out
    cdef floating* c_out
    cdef bint product, fused
    for s in range(s0, s1):
        n = _active_rows(lengths, n, s)
        if n <= r0:
            break
        gates_s = gates + (s - s0) * B * G
        if training:
            h_prev = <floating*>a.h0s if s == 0 else hs + (s - 1) * B * H
            c_prev = <floating*>a.c0s if s == 0 else cs + (s - 1) * B * H
            h_out = hs + s * B * H
            c_out = cs + s * B * H
        else:
            h_prev = h_out = hs
            c_prev = c_out = cs
        product = not (s == 0 and d.skip_step0_product)
        fused = False
        if floating is float:
            fused = narrow != NULL and product and not d.bf16
            if fused:       # the projection inside the product: one pass over the gates, same bits
                lc_gemm_packed_narrow_alone_f(<int>(n - r0), <int>H, <int>G, <int>G, h_prev + r0 * H, <int>H,
                                              packed, gates_s + r0 * G, narrow + ((s - s0) * B + r0) * d.D,
                                              <int>d.D, kernel, lc_k_splits(B))
        if not fused:
            if narrow != NULL:
                _project_narrow(n - r0, G, d.D, narrow + ((s - s0) * B + r0) * d.D, kernel, gates_s + r0 * G)
            if not product:
                pass
            elif floating is float and d.bf16:
                lc_gemm_packed_bf16_alone(d.bf16, <int>(n - r0), <int>H, <int>G, h_prev + r0 * H, <int>H, packed,
                                          gates_s + r0 * G, <int>G, 1, lc_k_splits(B))
            else:
                _recurrent_product(False, n - r0, B, H, h_prev + r0 * H, packed, rkernel, gates_s + r0 * G)
        for i in range(r0, n):
            _cell_forward(<int>H, gates_s + i * G, bias, c_prev + i * H, c_out + i * H, h_out + i * H,
                          y + (order[i] * d.T + _position(d.reverse, lengths[i], s)) * d.ldy)


cdef void _run_forward(floating* tag, Dims* d, CallArrays* a, bint training, int threads) noexcept nogil:
    """Project the inputs a block of steps at a time (one GEMM), then run the recurrence on it."""
    cdef Py_ssize_t G = 4 * d.H, t, block0 = 0, block1
    cdef Py_ssize_t block = d.S if training else _inference_block_steps(d)
    cdef lc_unit_job job
    cdef floating* x_steps = <floating*>a.x_steps
    cdef floating* narrow = NULL     # x_steps when the rows' loops project their own inputs
    if floating is float and d.bf16:
        _pack_recurrent_bf16(d.bf16, d.H, <float*>a.rkernel, <float*>a.packed)
        if a.packed_in != NULL:
            _pack_bf16(d.bf16, <int>d.D, <int>G, <float*>a.kernel, <float*>a.packed_in)
    else:
        _pack_recurrent(False, d.H, <floating*>a.rkernel, <floating*>a.packed)
        if floating is float and a.packed_in != NULL:
            lc_pack_f(<int>d.D, <int>G, <float*>a.kernel, <int>G, 0, <float*>a.packed_in)
    if d.D <= NARROW_INPUTS:
        narrow = x_steps
    if floating is float:
        job = _unit_job(d, a, training)
        job.x_steps = <float*>narrow
    while block0 < d.S:
        block1 = block0 + block if block0 + block < d.S else d.S
        _gather_steps(d, <floating*>a.x, a.order, a.lengths, block0, block1, x_steps)
        if floating is float and a.packed_in != NULL and d.bf16:
            _project_bf16(d, a, (block1 - block0) * d.B, threads)
        elif floating is float and a.packed_in != NULL:
            _project_packed(d, a, (block1 - block0) * d.B, threads)
        elif narrow == NULL:
            # split by columns when the block has few rows for its kernel: a row split made every
            # thread pack the whole (D, 4H) kernel for each block (big inference, 8 steps of 64
            # rows against a 4 MiB kernel: 2 threads ran at 0.79 of 1 thread's efficiency)
            _parallel_gemm(threads, (block1 - block0) * d.B < G, False, False, (block1 - block0) * d.B, G,
                           d.D, x_steps, d.D, <floating*>a.kernel, G, <floating>0, <floating*>a.gates, G)
        if floating is float:
            if d.split_units:
                lc_forward_units_f(&job, block0, block1)
                block0 = block1
                continue
        if d.threads == 1:
            _forward_rows(tag, d, a, 0, d.B, block0, block1, training, narrow)
        else:
            for t in prange(d.threads, num_threads=d.threads, schedule="static", chunksize=1):
                _forward_rows(tag, d, a, d.row_begin[t], d.row_begin[t + 1], block0, block1, training, narrow)
        block0 = block1
    if floating is float:
        if d.split_units and not training:
            lc_settle_units_f(&job)


cdef lc_unit_job _unit_job(Dims* d, CallArrays* a, bint training) noexcept nogil:
    """The arguments of the unit-split recurrence (lstm_units.h), float32 only: forward when
    `a.dh` is NULL, backward otherwise."""
    cdef lc_unit_job job
    cdef bint backward = a.dh != NULL
    job.B, job.T, job.H, job.ldy = d.B, d.T, d.H, d.ldy
    job.bf16 = 0 if backward else d.bf16
    job.reverse, job.training, job.threads = d.reverse, training, d.threads
    job.order, job.lengths, job.packed = a.order, a.lengths, <float*>a.packed
    job.bias = NULL if backward else <float*>a.bias
    job.y, job.gates, job.cs = <float*>a.y, <float*>a.gates, <float*>a.cs
    job.hs = NULL if backward else <float*>a.hs
    job.h0 = NULL if backward else <float*>a.h0s
    job.c0 = <float*>a.c0s
    job.dh, job.dc = <float*>a.dh, <float*>a.dc
    job.x_steps, job.kernel, job.D = NULL, <float*>a.kernel, <int>d.D
    job.skip_step0_product = d.skip_step0_product
    return job


cdef void _final_state(Dims* d, int64_t* order, int64_t* lengths, floating* h0, floating* c0,
                       floating* hs, floating* cs, bint training,
                       floating* h_n, floating* c_n) noexcept nogil:
    """h_n[order[i]] = state after row i's own last step (h0 when its length is 0)."""
    cdef Py_ssize_t i, H = d.H
    cdef floating* h_src
    cdef floating* c_src
    for i in range(d.B):
        if not training:
            h_src, c_src = hs + i * H, cs + i * H
        elif lengths[i] == 0:
            h_src, c_src = h0 + i * H, c0 + i * H
        else:
            h_src = hs + ((lengths[i] - 1) * d.B + i) * H
            c_src = cs + ((lengths[i] - 1) * d.B + i) * H
        memcpy(h_n + order[i] * H, h_src, H * sizeof(floating))
        memcpy(c_n + order[i] * H, c_src, H * sizeof(floating))


cdef void _backward_rows(floating* tag, Dims* d, CallArrays* a, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    """Rows [r0, r1) through every step in reverse: cell pass, then one GEMM for dh."""
    cdef Py_ssize_t B = d.B, H = d.H, G = 4 * d.H
    cdef Py_ssize_t s, i, n = r0
    cdef int64_t* order = a.order
    cdef int64_t* lengths = a.lengths
    cdef floating* gates = <floating*>a.gates
    cdef floating* cs = <floating*>a.cs
    cdef floating* dy = <floating*>a.y
    cdef floating* dh = <floating*>a.dh
    cdef floating* dc = <floating*>a.dc
    cdef floating* packed = <floating*>a.packed
    cdef floating* rkernel = <floating*>a.rkernel
    cdef floating* gates_s
    cdef floating* c_prev
    for s in range(d.S - 1, -1, -1):
        while n < r1 and lengths[n] > s:
            n += 1
        if n == r0:
            continue
        gates_s = gates + s * B * G
        c_prev = <floating*>a.c0s if s == 0 else cs + (s - 1) * B * H
        for i in range(r0, n):
            if dy != NULL:
                _add(<int>H, dh + i * H, dy + (order[i] * d.T + _position(d.reverse, lengths[i], s)) * d.ldy)
            _cell_backward(<int>H, gates_s + i * G, cs + (s * B + i) * H, c_prev + i * H,
                           dh + i * H, dc + i * H)
        if s > 0 or not d.skip_step0_product:
            _recurrent_product(True, n - r0, B, H, gates_s + r0 * G, packed, rkernel, dh + r0 * H)


cdef void _run_backward(floating* tag, Dims* d, CallArrays* a) noexcept nogil:
    """The recurrence in reverse: `gates` become the gate gradients, `dh` / `dc` the state's."""
    cdef Py_ssize_t t
    cdef lc_unit_job job
    _pack_recurrent(True, d.H, <floating*>a.rkernel, <floating*>a.packed)
    if floating is float:
        if d.split_units:
            job = _unit_job(d, a, True)
            lc_backward_units_f(&job, d.S)
            return
    if d.threads == 1:
        _backward_rows(tag, d, a, 0, d.B)
    else:
        for t in prange(d.threads, num_threads=d.threads, schedule="static", chunksize=1):
            _backward_rows(tag, d, a, d.row_begin[t], d.row_begin[t + 1])


cdef inline void _input_gradient_rows(Py_ssize_t rows, Py_ssize_t G, Py_ssize_t D, floating* gates,
                                      floating* x, floating* kernel, floating* dx, floating* d_kernel,
                                      floating* d_bias) noexcept nogil:
    if floating is float:
        lc_input_gradients_f(rows, <int>G, <int>D, gates, x, kernel, dx, d_kernel, d_bias)
    else:
        lc_input_gradients_d(rows, <int>G, <int>D, gates, x, kernel, dx, d_kernel, d_bias)


cdef inline void _project_narrow(Py_ssize_t rows, Py_ssize_t G, Py_ssize_t D, floating* x,
                                 floating* kernel, floating* out) noexcept nogil:
    if floating is float:
        lc_project_narrow_f(rows, <int>G, <int>G, <int>D, x, kernel, out)
    else:
        lc_project_narrow_d(rows, <int>G, <int>G, <int>D, x, kernel, out)


cdef inline size_t _whole_lines(size_t size) noexcept nogil:
    """`size` bytes rounded up to whole cache lines (aligned_alloc's sizes are multiples of its
    alignment)."""
    return (size + CACHE_LINE - 1) // CACHE_LINE * CACHE_LINE


cdef void _input_gradients(int threads, Py_ssize_t rows, Py_ssize_t G, Py_ssize_t D, floating* gates,
                           floating* x, floating* kernel, floating* dx, floating* d_kernel,
                           floating* d_bias) noexcept nogil:
    """d_bias, and for D > 0 d_kernel and dx, from the (rows, G) gate gradients in one pass
    (lstm_narrow_inputs.h).  The rows go in _blocks blocks (of GRADIENT_ROWS_LEAST rows or more),
    each with its own d_kernel and d_bias, added in block order afterwards; threads take runs of
    blocks.  The blocks do not depend on the team, so neither do the bits (blocks of one per
    thread did: 2 threads summed d_kernel in another order than 1).

    Every row loads and stores each vector of d_kernel and d_bias and loads the kernel's, so all
    three start on cache lines (the kernel copied there when it does not): vectors across two lines
    made the pass up to twice as slow on AMD Zen 5 (G = 512, D = 4, /tmp harness of
    lc_input_gradients_f: 99 -> 52 ns a row with the gates in L2, 184 -> 85-87 from memory, where
    the kernel alone off its line gave 134-142; NumPy and calloc start 16 bytes past a line)."""
    cdef Py_ssize_t per = (D + 1) * G, i, lo, hi
    cdef Py_ssize_t blocks = _blocks(rows, GRADIENT_ROWS_LEAST, GRADIENT_ROWS_MAX_BLOCKS)
    cdef floating* partials = NULL
    memset(d_bias, 0, G * sizeof(floating))
    if D > 0:
        memset(d_kernel, 0, D * G * sizeof(floating))
    if rows * per < GRADIENT_PASS_MIN_ELEMENTS or threads < 2:
        threads = 1
    cdef floating* kernel_lines = NULL      # the layer's kernel, copied onto a cache line
    if D > 0 and (<size_t>kernel) % CACHE_LINE:
        kernel_lines = <floating*>aligned_alloc(CACHE_LINE, _whole_lines(D * G * sizeof(floating)))
        if kernel_lines != NULL:
            memcpy(kernel_lines, kernel, D * G * sizeof(floating))
            kernel = kernel_lines
    if blocks > 1:      # on a cache line, as d_kernel and d_bias (backward())
        partials = <floating*>aligned_alloc(CACHE_LINE, _whole_lines((blocks - 1) * per * sizeof(floating)))
    if partials != NULL:
        memset(partials, 0, (blocks - 1) * per * sizeof(floating))
        for i in prange(blocks, num_threads=threads, schedule="static"):
            lo = rows * i // blocks
            hi = rows * (i + 1) // blocks
            if i == 0:
                _input_gradient_rows(hi - lo, G, D, gates, x, kernel, dx, d_kernel, d_bias)
            else:
                _input_gradient_rows(hi - lo, G, D, gates + lo * G, x + lo * D, kernel, dx + lo * D,
                                     partials + (i - 1) * per + G, partials + (i - 1) * per)
        _add_partials(d_bias, partials, blocks - 1, G, per)
        _add_partials(d_kernel, partials + G, blocks - 1, D * G, per)
        free(partials)
    else:               # one block, or no memory for the partials (then other bits)
        for i in range(blocks):
            lo = rows * i // blocks
            hi = rows * (i + 1) // blocks
            _input_gradient_rows(hi - lo, G, D, gates + lo * G, x + lo * D, kernel, dx + lo * D,
                                 d_kernel, d_bias)
    free(kernel_lines)


cdef void _parameter_gradients(Dims* d, int threads, floating* kernel, floating* gates,
                               floating* hs, floating* h0, floating* x_steps, floating* dx_steps,
                               floating* d_kernel, floating* d_rkernel, floating* d_bias,
                               floating* packed_in) noexcept nogil:
    """One GEMM each for the recurrent kernel (and, for wide inputs, the kernel and the inputs);
    one pass for the bias (and narrow inputs).  Padding rows are zero.  `packed_in`, when not
    NULL (float32 on lc_own_large_products()), is room for the kernel packed transposed: dx then
    goes through the packed micro-kernel instead of sgemm."""
    cdef Py_ssize_t B = d.B, H = d.H, G = 4 * d.H, D = d.D, S = d.S
    # d_rkernel = h0^T dgates[0] + sum_s h[s-1]^T dgates[s]; the first term is zero when h0 is zeros
    if _no_first_product(B * H, h0, B * G, gates):
        _split_k_gemm(threads, H, G, (S - 1) * B, hs, H, gates + B * G, G, <floating>0, d_rkernel)
    else:
        _split_k_gemm(threads, H, G, B, h0, H, gates, G, <floating>0, d_rkernel)
        _split_k_gemm(threads, H, G, (S - 1) * B, hs, H, gates + B * G, G, <floating>1, d_rkernel)
    if D <= NARROW_INPUTS:
        _input_gradients(threads, S * B, G, D, gates, x_steps, kernel, dx_steps, d_kernel, d_bias)
        return
    _split_k_gemm(threads, D, G, S * B, x_steps, D, gates, G, <floating>0, d_kernel)
    if floating is float and packed_in != NULL:
        lc_pack_f(<int>G, <int>D, kernel, <int>G, 1, packed_in)
        _packed_rows_gemm(threads, S * B, G, D, gates, packed_in, dx_steps)
        lc_count_own_product(LC_OWN_INPUT_GRADIENT)
    else:
        _parallel_gemm(threads, False, False, True, S * B, D, G, gates, G, kernel, G,
                       <floating>0, dx_steps, D)
    _input_gradients(threads, S * B, G, 0, gates, x_steps, kernel, dx_steps, d_kernel, d_bias)


cdef void _scatter_steps(Dims* d, int64_t* order, int64_t* lengths, floating* dx_steps,
                         floating* dx) noexcept nogil:
    """dx[order[i], position(i, s)] = dx_steps[s, i] for active rows (the inverse of gather)."""
    cdef Py_ssize_t s, i, n = d.B
    for s in range(d.S):
        n = _active_rows(lengths, n, s)
        for i in range(n):
            memcpy(dx + (order[i] * d.T + _position(d.reverse, lengths[i], s)) * d.D,
                   dx_steps + (s * d.B + i) * d.D, d.D * sizeof(floating))


cdef void _sort_rows(Py_ssize_t B, Py_ssize_t H, int64_t* order, floating* src,
                     floating* dst) noexcept nogil:
    """dst[i] = src[order[i]]; zeros when src is NULL (no initial state given)."""
    cdef Py_ssize_t i
    if src == NULL:
        memset(dst, 0, B * H * sizeof(floating))
        return
    for i in range(B):
        memcpy(dst + i * H, src + order[i] * H, H * sizeof(floating))


cdef void _unsort_rows(Py_ssize_t B, Py_ssize_t H, int64_t* order, floating* src,
                       floating* dst) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(B):
        memcpy(dst + order[i] * H, src + i * H, H * sizeof(floating))


# --------------------------------------------------------------------------
# Python entry points (arguments already checked by lstmcore.ops).

cdef inline void* _ptr(cnp.ndarray a):
    return cnp.PyArray_DATA(a)



def _packed_buffer(int K, int N, dtype):
    """Room for a packed K x N operand (float32) plus a cache line to align it in.

    NumPy's large arrays start 16 bytes past a 64-byte boundary (malloc's
    header), so every other 32-byte load of a panel row would straddle two
    cache lines, which slows the 1-row GEMV of batch 1 ("batch 1" in
    benchmarks/results/kernel_design_measurements.md).
    """
    if dtype != np.float32:
        return np.empty(1, dtype)
    return np.empty(lc_packed_size(K, N) + CACHE_LINE // sizeof(float), dtype)


cdef inline bint _shared_by_threads(Dims* d):
    """Whether two threads write neighbouring rows or columns of the step buffers, which
    then go on cache lines (_on_lines): a unit split, or a row split whose rows are whole lines."""
    return d.split_units or (d.threads > 1 and d.H % 16 == 0)


cdef _on_lines(bint aligned, alloc, tuple shape, dtype):
    """alloc(shape, dtype) (np.empty or np.zeros), starting on a cache line when `aligned`.

    When the team splits the units, each thread writes its own columns of the gates, h, c and
    the outputs, which start on cache lines only if each row does; when it splits the rows,
    the rows at a border between two threads share a line unless the array starts on one
    (and a row is a whole number of lines: H a multiple of 16).  NumPy starts small arrays 16
    bytes past a line, so a line at each border was written by both threads every step
    (batch 1, 2 threads: a line moved between the cores several times a step, 60 ns each on
    one CCX of an EPYC, 330 ns across CCDs).  Otherwise NumPy's own allocation (this costs
    microseconds, a tenth of a small model's call).
    """
    if not aligned:
        return alloc(shape, dtype)
    cdef Py_ssize_t count = 1, extent
    for extent in shape:
        count *= extent
    cdef Py_ssize_t itemsize = np.dtype(dtype).itemsize
    cdef cnp.ndarray flat = alloc(count + CACHE_LINE // itemsize, dtype)
    cdef size_t past = (<size_t>cnp.PyArray_DATA(flat)) % CACHE_LINE
    cdef Py_ssize_t start = <Py_ssize_t>((CACHE_LINE - past) % CACHE_LINE) // itemsize
    return flat[start:start + count].reshape(shape)


cdef _sorted_state(bint aligned, given, cnp.ndarray order, tuple shape, dtype):
    """The backward's gradient state rows in sorted order: given[order], or zeros when None."""
    if not aligned:
        return np.zeros(shape, dtype) if given is None else given[order]
    rows = _on_lines(True, np.zeros, shape, dtype)
    if given is not None:
        rows[...] = given[order]
    return rows


def _packed_product(cnp.ndarray a, cnp.ndarray b, bint transpose, cnp.ndarray c, bint accumulate,
                    batch=None, bint alone=False):
    """c[:, :N] = [c[:, :N] +] a @ op(b) through the packed micro-kernel of this variant.

    For tests only: the recurrence calls lc_gemm_packed_f on its own buffers.
    a (M, K), b (K, N), or (N, K) when `transpose`, and c (M, >= N) are
    C-contiguous float32; columns of c past N must be left as they are.  `batch`: the rows
    of the call a's rows belong to (default M), which fixes each row's summation order.
    `alone`: through lc_gemm_packed_alone_f, the row split's entry (one row: a panel at a time).
    """
    cdef int M = a.shape[0], K = a.shape[1]
    cdef int N = b.shape[0] if transpose else b.shape[1]
    cdef cnp.ndarray buffer = _packed_buffer(K, N, np.float32)
    cdef float* packed = _on_cache_line(<float*>_ptr(buffer))
    lc_pack_f(K, N, <float*>_ptr(b), <int>b.shape[1], transpose, packed)
    if alone:
        lc_gemm_packed_alone_f(M, K, N, <float*>_ptr(a), K, packed, <float*>_ptr(c), <int>c.shape[1],
                               accumulate, lc_k_splits(M if batch is None else batch))
    else:
        lc_gemm_packed_f(M, K, N, <float*>_ptr(a), K, packed, <float*>_ptr(c), <int>c.shape[1], accumulate,
                         lc_k_splits(M if batch is None else batch))


def column_sums_f32(float[:, ::1] matrix, float[::1] out):
    """out[j] = sum over rows r, in row order, of matrix[r, j] (float32): a fixed order of exact
    IEEE additions whatever the vector width, where the BLAS product with a ones vector that
    lstmcore.layers.base.column_sums used summed in its own kernel's order (the CPU's)."""
    cdef Py_ssize_t r, j, rows = matrix.shape[0], columns = matrix.shape[1]
    with nogil:
        for j in range(columns):
            out[j] = 0
        for r in range(rows):
            for j in range(columns):
                out[j] = out[j] + matrix[r, j]


def last_axis_sums_f32(float[:, ::1] values, float[::1] out):
    """out[r] = sum over k, in order, of values[r, k] (float32): a fixed order, as column_sums_f32."""
    cdef Py_ssize_t r, k, rows = values.shape[0], width = values.shape[1]
    cdef float total
    with nogil:
        for r in range(rows):
            total = 0
            for k in range(width):
                total = total + values[r, k]
            out[r] = total


HAS_WEIGHT_GRADIENT_KERNEL = bool(LC_HAVE_GEMM_TN)   # lstm_gemm_tn.h in this variant (else BLAS)
# Dense and Conv1D products on these kernels (lstmcore/_products.py): the SIMD variants; baseline,
# with neither FMA nor the tiles, keeps NumPy's BLAS.
LAYER_PRODUCTS = bool(LC_HAVE_AVX2)


def layer_product(cnp.ndarray a, cnp.ndarray b, cnp.ndarray out, int threads):
    """out = a @ b for the Dense and Conv1D layers, float32, on lstmcore's kernels: the same
    bits on every CPU and SIMD variant and at any thread count, where the BLAS's order depends on
    the CPU it recognises (scipy's and NumPy's OpenBLAS run their Haswell kernel on AMD Zen 5 and
    their SkylakeX one on Zen 4, and the motif evaluation's median moved from 93.4 to 91.5 %
    between the two).

    a (M, K) C-contiguous, or the transpose of a C-contiguous (K, M) array (a weight gradient,
    x^T dz: lstm_gemm_tn.h in _split_k_gemm's fixed k blocks, as the LSTM's weight gradients);
    b (K, N) C-contiguous or the transpose of one (packed accordingly); out (M, N) C-contiguous.
    Other rows go through the packed micro-kernel in _packed_rows_gemm's fixed blocks of rows.
    """
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef float* pa
    cdef float* pb
    cdef float* po = <float*>_ptr(out)
    cdef float* packed
    cdef bint transposed_b
    if (not a.flags.c_contiguous and a.T.flags.c_contiguous and b.flags.c_contiguous
            and LC_HAVE_GEMM_TN and M >= LC_TN_MIN_M):
        pa, pb = <float*>_ptr(a.T), <float*>_ptr(b)
        with nogil:
            _split_k_gemm(threads, M, N, K, pa, M, pb, N, <float>0, po)
        return out
    a = np.ascontiguousarray(a)
    transposed_b = not b.flags.c_contiguous and b.T.flags.c_contiguous
    if not transposed_b:
        b = np.ascontiguousarray(b)
    buffer = _packed_buffer(K, N, np.float32)
    packed = _on_cache_line(<float*>_ptr(buffer))
    pa = <float*>_ptr(a)
    pb = <float*>_ptr(b.T if transposed_b else b)
    with nogil:
        lc_pack_f(K, N, pb, K if transposed_b else N, transposed_b, packed)
        _packed_rows_gemm(threads, M, K, N, pa, packed, po)
    return out


def _weight_gradient_product(cnp.ndarray a, cnp.ndarray b, cnp.ndarray c, bint accumulate):
    """c = [c +] a^T @ b, a (K, M) and b (K, N) row-major float32, c (M, >= N), by the path
    the weight gradients take (lstm_gemm_tn.h where this variant has it, else BLAS).

    For tests only; columns of c past N must be left as they are."""
    cdef int K = a.shape[0], M = a.shape[1], N = b.shape[1], ldc = c.shape[1]
    cdef float* pa = <float*>_ptr(a)
    cdef float* pb = <float*>_ptr(b)
    cdef float* pc = <float*>_ptr(c)
    with nogil:
        _gemm(True, False, M, N, K, <float>1, pa, M, pb, N, <float>(1 if accumulate else 0), pc, ldc)


def _time_weight_gradient_product(cnp.ndarray a, cnp.ndarray b, int repeats):
    """Seconds per call of c = a^T @ b through _gemm.  For benchmarks/bench_products.py only."""
    import time
    cdef int K = a.shape[0], M = a.shape[1], N = b.shape[1], i
    cdef cnp.ndarray c = np.empty((M, N), np.float32)
    cdef float* pa = <float*>_ptr(a)
    cdef float* pb = <float*>_ptr(b)
    cdef float* pc = <float*>_ptr(c)
    start = time.perf_counter()
    with nogil:
        for i in range(repeats):
            _gemm(True, False, M, N, K, <float>1, pa, M, pb, N, <float>0, pc, N)
    return (time.perf_counter() - start) / repeats


def _time_packed_product(cnp.ndarray a, cnp.ndarray b, int repeats, bint projection=False):
    """Seconds per call of c = a @ b through the packed micro-kernel, b packed once (as the
    recurrence does once per call); `projection`: in the input projection's blocks of rows
    (lc_project_packed_f).  For benchmarks/bench_products.py only."""
    import time
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1], i
    cdef cnp.ndarray buffer = _packed_buffer(K, N, np.float32)
    cdef cnp.ndarray c = np.empty((M, N), np.float32)
    cdef float* packed = _on_cache_line(<float*>_ptr(buffer))
    cdef float* pa = <float*>_ptr(a)
    cdef float* pc = <float*>_ptr(c)
    lc_pack_f(K, N, <float*>_ptr(b), N, 0, packed)
    start = time.perf_counter()
    with nogil:
        for i in range(repeats):
            if projection:
                lc_project_packed_f(M, K, N, pa, packed, pc)
            else:
                lc_gemm_packed_f(M, K, N, pa, K, packed, pc, N, 0, lc_k_splits(M))
    return (time.perf_counter() - start) / repeats


cdef inline floating* _on_cache_line(floating* p) noexcept nogil:
    """The first address at or after p on a cache-line boundary (see _packed_buffer)."""
    return <floating*>((<size_t>p + CACHE_LINE - 1) & ~(<size_t>(CACHE_LINE - 1)))


cdef Py_ssize_t _row_stride(cnp.ndarray y):
    """Elements between consecutive (sequence, step) rows of a (B, T, H) array whose rows
    are evenly spaced (ops checked it): H when contiguous, 2H for half of a shared buffer."""
    if y.shape[1] > 1:
        return y.strides[1] // y.itemsize
    if y.shape[0] > 1:
        return y.strides[0] // y.itemsize
    return y.shape[2]


cdef Dims _dims(cnp.ndarray x, cnp.ndarray rkernel, cnp.ndarray lengths, bint reverse, int threads):
    """Sizes, and how the team will share the work."""
    cdef Dims d
    d.ldy = rkernel.shape[0]
    d.B, d.T, d.D = x.shape[0], x.shape[1], x.shape[2]
    d.H = rkernel.shape[0]
    d.S = lengths[0] if d.B > 0 else 0
    d.reverse = reverse
    d.bf16 = LC_BF16_OFF
    d.skip_step0_product = False      # the forward decides once the initial state is sorted
    _split_work(&d, <int64_t*>_ptr(lengths), threads, x.dtype == np.float32)
    return d


cdef inline void* _maybe_ptr(object a):
    """The data of an optional array: NULL for None."""
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


_TEAM_POLICIES = {"measure": LC_TEAM_MEASURE, "team": LC_TEAM_YES, "alone": LC_TEAM_NO}


def _set_team_policy(str policy):
    """Test hook: whether a unit split with small steps (batch 1) runs as a team ("team"), on its
    first thread ("alone"), or as timed trials choose ("measure", the default; lstm_units.h)."""
    lc_set_team_policy(_TEAM_POLICIES[policy])


def _set_large_products(str product):
    """Test hook: the large float32 products (wide inputs' projection and input gradient, weight
    gradients wider than LC_TN_MAX_N) through "blas" (sgemm), lstmcore's "own" kernels, or as
    this CPU prefers ("auto", the default; lstm_gemm.h)."""
    lc_set_large_products({"auto": -1, "blas": 0, "own": 1}[product])


def _packed_narrow_product(cnp.ndarray a, cnp.ndarray b, cnp.ndarray x, cnp.ndarray w, bint fused,
                           batch=None):
    """Test hook: x (M, D) @ w (D, N) + a (M, K) @ b (K, N), float32, C order: `fused` through
    lc_gemm_packed_narrow_f (the row split's step), else the projection stored by
    lc_project_narrow_f and the product accumulated onto it (the unit split's).  `batch` as
    _packed_product's."""
    cdef int splits = lc_k_splits(a.shape[0] if batch is None else batch)
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1], D = x.shape[1]
    cdef cnp.ndarray buffer = _packed_buffer(K, N, np.float32)
    cdef cnp.ndarray c = np.empty((M, N), np.float32)
    cdef float* packed = _on_cache_line(<float*>_ptr(buffer))
    lc_pack_f(K, N, <float*>_ptr(b), N, 0, packed)
    if fused:
        lc_gemm_packed_narrow_f(M, K, N, N, <float*>_ptr(a), K, packed, <float*>_ptr(c),
                                <float*>_ptr(x), D, <float*>_ptr(w), splits)
    else:
        lc_project_narrow_f(M, N, N, D, <float*>_ptr(x), <float*>_ptr(w), <float*>_ptr(c))
        lc_gemm_packed_f(M, K, N, <float*>_ptr(a), K, packed, <float*>_ptr(c), N, 1, splits)
    return c


def _own_product_calls():
    """Test hook: how many calls of each large product this variant has run on its own kernels
    (lstm_gemm.h), by name."""
    return {"projection": lc_own_product_calls[LC_OWN_PROJECTION],
            "input gradient": lc_own_product_calls[LC_OWN_INPUT_GRADIENT],
            "wide weight gradient": lc_own_product_calls[LC_OWN_WIDE_WEIGHT_GRADIENT]}


def _packed_projection(cnp.ndarray a, cnp.ndarray b):
    """Test hook: a (M, K) @ b (K, N) through lc_project_packed_f, b packed once; float32, C order."""
    cdef int M = a.shape[0], K = a.shape[1], N = b.shape[1]
    cdef cnp.ndarray buffer = _packed_buffer(K, N, np.float32)
    cdef cnp.ndarray c = np.empty((M, N), np.float32)
    cdef float* packed = _on_cache_line(<float*>_ptr(buffer))
    lc_pack_f(K, N, <float*>_ptr(b), N, 0, packed)
    lc_project_packed_f(M, K, N, <float*>_ptr(a), packed, <float*>_ptr(c))
    return c


def own_large_products():
    """True when the large float32 products (wide inputs' projection and input gradient, weight
    gradients wider than LC_TN_MAX_N) run on lstmcore's kernels here rather than the BLAS's
    sgemm (lstm_gemm.h: measured faster on AMD Zen 4 and Zen 5)."""
    return bool(lc_own_large_products())


def _core_round_trip_ns(int rounds=100000):
    """Nanoseconds for a cache line between two OpenMP threads and back (lstm_units.h), or -1
    when there is no second thread: where the host put the cores, for benchmarks to report."""
    cdef double ns
    with nogil:
        ns = lc_team_round_trip_ns(rounds)
    return ns


def bfloat16_native():
    """True when this variant on this CPU runs the bfloat16 product with AVX512-BF16
    instructions; otherwise `forward(..., bfloat16=True)` emulates it in float32."""
    return bool(lc_bf16_native_available())


def bfloat16_amx():
    """True when the native bfloat16 product also runs on AMX tiles here (blocks of 16 rows
    and more, lstm_gemm_amx.h): an Intel Xeon from Sapphire Rapids on, whose Linux granted the
    tile state.  The first call asks Linux for it."""
    return bool(lc_bf16_native_available() and lc_amx_enable())


def _set_bfloat16_amx(bint on):
    """Test hook: the native bfloat16 product on AMX tiles (where the CPU allows) or never.
    Returns whether the tiles are now in use."""
    return bool(lc_amx_set(on))


def forward(cnp.ndarray x, cnp.ndarray kernel, cnp.ndarray rkernel, bias,
            h0, c0, cnp.ndarray order, cnp.ndarray lengths,
            bint reverse, bint training, int threads, out=None, bint bfloat16=False):
    """Native forward; returns (outputs, h_n, c_n, cache arrays or None).

    bfloat16: float32 inference with the recurrent product in bfloat16 (lstm_gemm_bf16.h);
    lstmcore.ops checked that it is float32, not training, and H <= LC_BF16_MAX_K.

    h0, c0: (B, H) or None for zeros.  out: None, or the (B, T, H) array to write
    the outputs into, rows evenly spaced (e.g. half of a Bidirectional layer's
    (B, T, 2H) buffer; lstmcore.ops checked it).  Buffers that padded positions
    would leave unwritten are zeroed only when some sequence is shorter than T.
    """
    cdef Dims d = _dims(x, rkernel, lengths, reverse, threads)
    dtype = x.dtype
    if bfloat16:
        d.bf16 = LC_BF16_NATIVE if lc_bf16_native_available() else LC_BF16_EMULATED
        if d.bf16 == LC_BF16_NATIVE:
            lc_amx_enable()     # with the GIL, before any team: Linux grants the tiles once a process
    cdef Py_ssize_t steps_kept = d.S if training else min(d.S, _inference_block_steps(&d))
    padded = d.B > 0 and (<int64_t*>_ptr(lengths))[d.B - 1] < d.T
    maybe_zeros = np.zeros if padded else np.empty
    bias = np.zeros(4 * d.H, dtype) if bias is None else bias
    lines = _shared_by_threads(&d)
    y = _on_lines(lines, maybe_zeros, (d.B, d.T, d.H), dtype) if out is None else out
    h_n, c_n = np.empty((d.B, d.H), dtype), np.empty((d.B, d.H), dtype)
    h0s, c0s = _on_lines(lines, np.empty, (d.B, d.H), dtype), _on_lines(lines, np.empty, (d.B, d.H), dtype)
    # training: the backward's parameter GEMMs read padding rows, which must hold zeros
    gates = _on_lines(lines, maybe_zeros if training else np.empty, (steps_kept, d.B, 4 * d.H), dtype)
    x_steps = maybe_zeros((steps_kept, d.B, d.D), dtype)
    packed = _packed_buffer(<int>d.H, <int>(4 * d.H), dtype)
    packed_in = None
    if d.D > NARROW_INPUTS and (bfloat16 or (dtype == np.float32 and lc_own_large_products())):
        packed_in = _packed_buffer(<int>d.D, <int>(4 * d.H), dtype)
    if out is not None:
        if padded:
            out[...] = 0
        d.ldy = _row_stride(out)
    if training:
        hs = _on_lines(lines, maybe_zeros, (d.S, d.B, d.H), dtype)
        cs = _on_lines(lines, np.empty, (d.S, d.B, d.H), dtype)
    elif d.split_units:                     # h alternates between two buffers, c in place
        hs, cs = _on_lines(True, np.empty, (2, d.B, d.H), dtype), c0s
    else:                                   # the sorted state rows are updated in place
        hs, cs = h0s, c0s
    cdef CallArrays a
    memset(&a, 0, sizeof(CallArrays))
    a.order, a.lengths = <int64_t*>_ptr(order), <int64_t*>_ptr(lengths)
    a.x, a.kernel, a.rkernel, a.bias, a.packed = _ptr(x), _ptr(kernel), _ptr(rkernel), _ptr(bias), _ptr(packed)
    a.packed_in = _maybe_ptr(packed_in)
    a.h0, a.c0, a.h0s, a.c0s = _maybe_ptr(h0), _maybe_ptr(c0), _ptr(h0s), _ptr(c0s)
    a.y, a.gates, a.x_steps, a.hs, a.cs = _ptr(y), _ptr(gates), _ptr(x_steps), _ptr(hs), _ptr(cs)
    a.h_n, a.c_n = _ptr(h_n), _ptr(c_n)
    if dtype == np.float32:
        _forward_typed(<float*>NULL, &d, &a, training, threads)
    else:
        _forward_typed(<double*>NULL, &d, &a, training, threads)
    state = (gates, cs, hs, x_steps, h0s, c0s) if training else None
    return y, h_n, c_n, state


cdef void _forward_typed(floating* tag, Dims* d, CallArrays* a, bint training, int threads):
    """Sort the initial state, run the whole forward and gather the final state, without the GIL."""
    a.packed = _on_cache_line(<floating*>a.packed)
    if a.packed_in != NULL:
        a.packed_in = _on_cache_line(<floating*>a.packed_in)
    with nogil:
        _sort_rows(d.B, d.H, a.order, <floating*>a.h0, <floating*>a.h0s)
        _sort_rows(d.B, d.H, a.order, <floating*>a.c0, <floating*>a.c0s)
        d.skip_step0_product = _no_first_product(d.B * d.H, <floating*>a.h0s, d.H * 4 * d.H, <floating*>a.rkernel)
        if d.split_units and not training:
            memcpy(a.hs, a.h0s, d.B * d.H * sizeof(floating))
        _run_forward(tag, d, a, training, threads)
        _final_state(d, a.order, a.lengths, <floating*>a.h0s, <floating*>a.c0s, <floating*>a.hs,
                     <floating*>a.cs, training, <floating*>a.h_n, <floating*>a.c_n)


def backward(cnp.ndarray x, cnp.ndarray kernel, cnp.ndarray rkernel, cnp.ndarray order,
             cnp.ndarray lengths, bint reverse, cnp.ndarray gates, cnp.ndarray cs,
             cnp.ndarray hs, cnp.ndarray x_steps, cnp.ndarray h0s, cnp.ndarray c0s,
             d_outputs, d_h_n, d_c_n, int threads, bint state_gradients=True):
    """Native backward; `gates` is overwritten.  Returns (dx, dK, dU, db, dh0, dc0), the last
    two None without `state_gradients` (then the last step's product, into dh0, is skipped)."""
    cdef Dims d = _dims(x, rkernel, lengths, reverse, threads)
    d.skip_step0_product = not state_gradients
    dtype = x.dtype
    dx = np.zeros((d.B, d.T, d.D), dtype)
    dx_steps = np.empty((d.S, d.B, d.D), dtype)
    # on cache lines: the input-gradient pass adds into d_kernel and d_bias a vector at a time,
    # every row (see _input_gradients)
    d_kernel, d_rkernel = _on_lines(True, np.zeros, (d.D, 4 * d.H), dtype), np.zeros((d.H, 4 * d.H), dtype)
    d_bias = _on_lines(True, np.zeros, (4 * d.H,), dtype)
    dh = _sorted_state(_shared_by_threads(&d), d_h_n, order, (d.B, d.H), dtype)
    dc = _sorted_state(_shared_by_threads(&d), d_c_n, order, (d.B, d.H), dtype)
    d_h0, d_c0 = (np.empty((d.B, d.H), dtype), np.empty((d.B, d.H), dtype)) if state_gradients else (None, None)
    packed = _packed_buffer(<int>(4 * d.H), <int>d.H, dtype)
    packed_in = None     # the kernel transposed, for dx of wide inputs on lstmcore's product
    if d.D > NARROW_INPUTS and dtype == np.float32 and lc_own_large_products():
        packed_in = _packed_buffer(<int>(4 * d.H), <int>d.D, dtype)
    if d_outputs is not None:
        d.ldy = _row_stride(d_outputs)
    cdef CallArrays a
    memset(&a, 0, sizeof(CallArrays))
    a.order, a.lengths = <int64_t*>_ptr(order), <int64_t*>_ptr(lengths)
    a.kernel, a.rkernel, a.packed, a.packed_in = _ptr(kernel), _ptr(rkernel), _ptr(packed), _maybe_ptr(packed_in)
    a.gates, a.cs, a.hs, a.x_steps, a.h0s, a.c0s = _ptr(gates), _ptr(cs), _ptr(hs), _ptr(x_steps), _ptr(h0s), _ptr(c0s)
    a.y = _maybe_ptr(d_outputs)
    a.dx, a.dx_steps, a.d_kernel, a.d_rkernel, a.d_bias = (_ptr(dx), _ptr(dx_steps), _ptr(d_kernel),
                                                           _ptr(d_rkernel), _ptr(d_bias))
    a.dh, a.dc, a.d_h0, a.d_c0 = _ptr(dh), _ptr(dc), _maybe_ptr(d_h0), _maybe_ptr(d_c0)
    if dtype == np.float32:
        _backward_typed(<float*>NULL, &d, &a, threads)
    else:
        _backward_typed(<double*>NULL, &d, &a, threads)
    return dx, d_kernel, d_rkernel, d_bias, d_h0, d_c0


cdef void _backward_typed(floating* tag, Dims* d, CallArrays* a, int threads):
    """The whole backward without the GIL: the recurrence, the parameter gradients, the scatter."""
    a.packed = _on_cache_line(<floating*>a.packed)
    if a.packed_in != NULL:
        a.packed_in = _on_cache_line(<floating*>a.packed_in)
    with nogil:
        _run_backward(tag, d, a)
        if d.S > 0:
            _parameter_gradients(d, threads, <floating*>a.kernel, <floating*>a.gates, <floating*>a.hs,
                                 <floating*>a.h0s, <floating*>a.x_steps, <floating*>a.dx_steps,
                                 <floating*>a.d_kernel, <floating*>a.d_rkernel, <floating*>a.d_bias,
                                 <floating*>a.packed_in)
            _scatter_steps(d, a.order, a.lengths, <floating*>a.dx_steps, <floating*>a.dx)
        if a.d_h0 != NULL:
            _unsort_rows(d.B, d.H, a.order, <floating*>a.dh, <floating*>a.d_h0)
            _unsort_rows(d.B, d.H, a.order, <floating*>a.dc, <floating*>a.d_c0)
