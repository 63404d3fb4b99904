"""The native LSTM kernel against the NumPy reference and finite differences, once per kernel variant
(baseline, avx2, avx512, ...) this CPU runs."""
from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest

import lstmcore
from lstmcore import _reference, ops
from lstmcore._native import dispatch
from kernel_cases import (TOLERANCE, forward_args, make_problem, upstream_gradients,
                          varied_lengths)

pytestmark = pytest.mark.usefixtures("kernel_variant")

DTYPES = [np.float32, np.float64]
CASES = list(itertools.product(DTYPES, [False, True], [False, True], [False, True]))


def case_id(case):
    dtype, lengths, reverse, state = case
    return "-".join([np.dtype(dtype).name, "lengths" if lengths else "full",
                     "reverse" if reverse else "forward", "state" if state else "zero-state"])


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    lstmcore.set_num_threads(None)


def run_both(problem, reverse, retain=False):
    args, kwargs = forward_args(problem)
    native = ops.lstm_forward(*args, **kwargs, reverse=reverse, training=True)
    reference = _reference.lstm_forward(*args, **kwargs, reverse=reverse, training=True)
    return native, reference


# (batch, steps, features, units, weight scale): long or wide problems get small
# weights, so that float32 rounding is not amplified by chaotic dynamics
SIZES = {
    "small": (6, 9, 3, 5, 0.5),
    "threads-split-rows": (33, 12, 4, 64, 0.5),
    "threads-few-rows": (2, 300, 3, 64, 0.15),
    "threads-split-units-wide": (5, 40, 3, 256, 0.1),
    "narrow-inputs-in-blocks": (5, 8, 13, 5, 0.3),      # 8 < D <= NARROW_INPUTS, G not a multiple of 8
    "wide-inputs-blas-gradients": (4, 7, 20, 6, 0.3),   # D > NARROW_INPUTS: d_kernel and dx by BLAS
    "batch-of-one-gemv": (1, 60, 3, 128, 0.15),          # float32: the packed 1-row kernel both ways
}


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_native_matches_reference_forward_and_backward(case, size):
    dtype, with_lengths, reverse, state = case
    batch, steps, features, units, scale = size
    lengths = varied_lengths(batch, steps) if with_lengths else None
    problem = make_problem(batch, steps, features, units, dtype, lengths=lengths, initial_state=state,
                           scale=scale)
    native, reference = run_both(problem, reverse)
    tol = TOLERANCE[dtype]
    for name, got, want in zip(("outputs", "h_n", "c_n"), native[:3], reference[:3]):
        np.testing.assert_allclose(got, want, err_msg=name, **tol)
    grads = upstream_gradients(problem)
    got = ops.lstm_backward(native.cache, *grads)
    want = _reference.lstm_backward(reference.cache, *grads)
    for name in got._fields:
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), err_msg=name,
                                   rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)


def test_inference_forward_equals_training_forward():
    problem = make_problem(9, 150, 2, 8, np.float32, lengths=varied_lengths(9, 150))
    args, kwargs = forward_args(problem)
    inference = ops.lstm_forward(*args, **kwargs)
    training = ops.lstm_forward(*args, **kwargs, training=True)
    assert inference.cache is None
    for got, want in zip(inference[:3], training[:3]):
        np.testing.assert_array_equal(got, want)


def test_outputs_past_length_are_zero_and_final_state_is_at_own_last_step():
    problem = make_problem(4, 6, 2, 3, np.float64, lengths=[6, 2, 0, 4])
    args, kwargs = forward_args(problem)
    result = ops.lstm_forward(*args, **kwargs)
    assert not result.outputs[1, 2:].any() and not result.outputs[2].any()
    np.testing.assert_array_equal(result.h_n[1], result.outputs[1, 1])
    np.testing.assert_array_equal(result.h_n[2], 0.0)
    reverse = ops.lstm_forward(*args, **kwargs, reverse=True)
    np.testing.assert_array_equal(reverse.h_n[3], reverse.outputs[3, 0])


def _loss(problem, reverse, weights):
    args, kwargs = forward_args(problem)
    out = ops.lstm_forward(*args, **kwargs, reverse=reverse)
    return sum(float(np.sum(a * w)) for a, w in zip(out[:3], weights))


@pytest.mark.parametrize("reverse", [False, True], ids=["forward", "reverse"])
def test_float64_gradients_match_central_finite_differences(reverse):
    problem = make_problem(3, 5, 2, 3, np.float64, lengths=[5, 2, 4], initial_state=True, scale=0.8)
    weights = upstream_gradients(problem, seed=5)
    args, kwargs = forward_args(problem)
    result = ops.lstm_forward(*args, **kwargs, reverse=reverse, training=True)
    grads = ops.lstm_backward(result.cache, *weights)
    names = dict(x="d_x", kernel="d_kernel", recurrent_kernel="d_recurrent_kernel",
                 bias="d_bias", h0="d_h0", c0="d_c0")
    eps = 1e-6
    for name, grad_name in names.items():
        array = problem[name]
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + eps
            up = _loss(problem, reverse, weights)
            array[index] = saved - eps
            down = _loss(problem, reverse, weights)
            array[index] = saved
            numeric[index] = (up - down) / (2 * eps)
        np.testing.assert_allclose(getattr(grads, grad_name), numeric, rtol=1e-6, atol=1e-8,
                                   err_msg=grad_name)


def test_without_bias_has_no_bias_gradient():
    problem = make_problem(2, 3, 2, 3, np.float64)
    result = ops.lstm_forward(problem["x"], problem["kernel"], problem["recurrent_kernel"],
                              None, training=True)
    reference = _reference.lstm_forward(problem["x"], problem["kernel"],
                                        problem["recurrent_kernel"], None)
    np.testing.assert_allclose(result.outputs, reference.outputs, rtol=1e-12)
    assert ops.lstm_backward(result.cache, np.ones_like(result.outputs)).d_bias is None


@pytest.mark.parametrize("size", [(64, 40, 4, 64, 0.15), (2, 300, 3, 64, 0.15), (5, 40, 3, 256, 0.1),
                                  (1, 80, 3, 512, 0.05), (1, 300, 3, 128, 0.1)],
                         ids=["split-rows", "few-rows", "split-units-wide", "split-units-one-row",
                              "split-units-batch-of-one"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_one_and_two_threads_agree_and_repeats_are_bit_identical(dtype, size):
    batch, steps, features, units, scale = size
    problem = make_problem(batch, steps, features, units, dtype, lengths=varied_lengths(batch, steps),
                           scale=scale)
    grads = upstream_gradients(problem)
    args, kwargs = forward_args(problem)

    def run():
        result = ops.lstm_forward(*args, **kwargs, training=True)
        return list(result[:3]) + list(ops.lstm_backward(result.cache, *grads))

    results = {}
    for threads in (1, 2):
        lstmcore.set_num_threads(threads)
        first, second = run(), run()
        for a, b in zip(first, second):
            np.testing.assert_array_equal(a, b)
        results[threads] = first
    for a, b in zip(results[1], results[2]):  # sums in another order: equal to rounding
        scale = float(np.abs(b).max())
        np.testing.assert_allclose(a, b, rtol=TOLERANCE[dtype]["rtol"],
                                   atol=TOLERANCE[dtype]["atol"] * max(scale, 1.0))


@pytest.mark.parametrize("policy", ["measure", "team", "alone"])
@pytest.mark.parametrize("size", [(1, 120, 4, 128), (1, 200, 3, 64), (1, 40, 1, 256), (3, 20, 16, 512)],
                         ids=["batch-of-one", "small-steps", "one-feature", "sixteen-features"])
def test_the_unit_split_forward_gives_one_threads_bits_with_narrow_inputs(kernel_variant, size, policy):
    """Splitting the units computes each gate as one thread does: the same narrow projection
    (each thread its own columns), the same product and cell per element.  (With the
    projection in one BLAS call before the loop, 2 threads differed from 1 by 4e-7.)  So does
    the team's first thread alone, which small steps use when the trial steps say it is faster
    (lstm_units.h), and a call that switches to it after the trial."""
    batch, steps, features, units = size
    problem = make_problem(batch, steps, features, units, np.float32, scale=0.1)
    args, kwargs = forward_args(problem)
    native = dispatch.active()
    native._set_team_policy(policy)
    try:
        for training in (False, True):
            one = ops.lstm_forward(*args, **kwargs, training=training, threads=1)
            two = ops.lstm_forward(*args, **kwargs, training=training, threads=2)
            for a, b in zip(one[:3], two[:3]):
                np.testing.assert_array_equal(a, b)
    finally:
        native._set_team_policy("measure")


def test_the_core_round_trip_probe_times_two_threads():
    """The benchmarks' probe of where the cores are (lstm_units.h): a cache line between two
    threads and back takes tens to hundreds of nanoseconds, never nothing and never a stall."""
    native = dispatch.active()
    nanoseconds = native._core_round_trip_ns(2000)
    if native.openmp_enabled():
        assert 1.0 < nanoseconds < 1e6
    else:
        assert nanoseconds == -1.0


def test_a_team_larger_than_the_machine_still_finishes_and_agrees():
    """Eight threads on this 2-core machine split the units of a batch of one: the spin barrier
    must yield to descheduled teammates rather than wait out their time slices."""
    problem = make_problem(1, 300, 3, 128, np.float32, scale=0.1)
    args, kwargs = forward_args(problem)
    one = ops.lstm_forward(*args, **kwargs, threads=1)
    many = ops.lstm_forward(*args, **kwargs, threads=8)
    np.testing.assert_allclose(many.outputs, one.outputs, rtol=1e-5, atol=1e-6)
    trained = ops.lstm_forward(*args, **kwargs, training=True, threads=8)
    gradients = ops.lstm_backward(trained.cache, np.ones_like(trained.outputs), threads=8)
    reference = ops.lstm_backward(ops.lstm_forward(*args, **kwargs, training=True, threads=1).cache,
                                  np.ones_like(trained.outputs), threads=1)
    np.testing.assert_allclose(gradients.d_recurrent_kernel, reference.d_recurrent_kernel, rtol=1e-4, atol=1e-4)


EDGES = {
    "one-step": (3, 1, 2, 4, None),
    "batch-of-one": (1, 6, 2, 4, None),
    "one-unit": (3, 6, 2, 1, None),
    "one-feature": (3, 6, 1, 4, None),
    "all-lengths-zero": (3, 5, 2, 4, [0, 0, 0]),
    "no-steps": (2, 0, 2, 3, None),
}


@pytest.mark.parametrize("edge", EDGES.values(), ids=EDGES.keys())
def test_edges_match_reference(edge):
    batch, steps, features, units, lengths = edge
    problem = make_problem(batch, steps, features, units, np.float64, lengths=lengths,
                           initial_state=True)
    native, reference = run_both(problem, reverse=False)
    for got, want in zip(native[:3], reference[:3]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    grads = upstream_gradients(problem)
    got = ops.lstm_backward(native.cache, *grads)
    want = _reference.lstm_backward(reference.cache, *grads)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_very_long_sequence_needs_no_more_memory_than_its_cache():
    import tracemalloc

    steps, units = 30_000, 16
    problem = make_problem(1, steps, 4, units, np.float32)
    args, kwargs = forward_args(problem)
    output_bytes = steps * units * 4
    tracemalloc.start()
    try:
        result = ops.lstm_forward(*args, **kwargs)
        _, inference_peak = tracemalloc.get_traced_memory()
        del result
        tracemalloc.reset_peak()
        result = ops.lstm_forward(*args, **kwargs, training=True)
        cache = result.cache
        cache_bytes = sum(a.nbytes for a in (cache.gates, cache.cells, cache.hiddens, cache.x_steps))
        ops.lstm_backward(cache, np.ones_like(result.outputs))
        _, training_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # inference: the outputs plus one block of projected steps, whatever the length
    assert inference_peak < output_bytes + 1_000_000
    # training: the cache, the outputs and the gradients (d_x, its time-major twin), nothing per step
    grad_bytes = 2 * steps * 4 * 4
    assert training_peak < cache_bytes + 2 * output_bytes + grad_bytes + 1_000_000


def test_cache_is_consumed_unless_retained():
    problem = make_problem(2, 4, 2, 3, np.float64)
    args, kwargs = forward_args(problem)
    result = ops.lstm_forward(*args, **kwargs, training=True)
    grad = np.ones_like(result.outputs)
    first = ops.lstm_backward(result.cache, grad, retain_cache=True)
    second = ops.lstm_backward(result.cache, grad)
    np.testing.assert_array_equal(first.d_kernel, second.d_kernel)
    with pytest.raises(ValueError, match="already consumed"):
        ops.lstm_backward(result.cache, grad)


def test_gil_is_released_during_the_whole_call():
    problem = make_problem(4, 20_000, 4, 32, np.float32)
    args, kwargs = forward_args(problem)
    started, finished = threading.Event(), threading.Event()

    def work():
        started.set()
        ops.lstm_forward(*args, **kwargs)
        finished.set()

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    python_steps = 0
    while not finished.is_set():
        python_steps += 1
    worker.join()
    assert python_steps > 1000


@pytest.mark.parametrize("size", [(5, 9, 3, 6, 0.5), (1, 300, 3, 128, 0.1)],
                         ids=["split-rows", "split-units-batch-of-one"])
def test_directions_write_and_read_halves_of_one_buffer(size):
    """`out=` and a strided d_outputs (a Bidirectional layer's halves) give the same bits
    as contiguous arrays, forward and backward, with padded sequences."""
    batch, steps, features, units, scale = size
    lengths = varied_lengths(batch, steps) if batch > 1 else None
    problem = make_problem(batch, steps, features, units, np.float32, lengths=lengths, scale=scale)
    args, kwargs = forward_args(problem)
    upstream = upstream_gradients(problem)[0]
    both = np.full((batch, steps, 2 * units), np.nan, np.float32)   # stale values must not leak
    d_both = np.concatenate([upstream, upstream * 2], axis=-1)
    for half, reverse in ((slice(0, units), False), (slice(units, None), True)):
        alone = ops.lstm_forward(*args, **kwargs, reverse=reverse, training=True, threads=2)
        shared = ops.lstm_forward(*args, **kwargs, reverse=reverse, training=True, threads=2,
                                  out=both[..., half])
        assert shared.outputs.base is both
        np.testing.assert_array_equal(both[..., half], alone.outputs)
        d_half = d_both[..., half]
        got = ops.lstm_backward(shared.cache, d_half, threads=2)
        want = ops.lstm_backward(alone.cache, np.ascontiguousarray(d_half), threads=2)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def test_out_must_have_evenly_spaced_rows_and_be_writeable():
    problem = make_problem(2, 4, 3, 5, np.float32)
    args, kwargs = forward_args(problem)
    wide = np.zeros((2, 4, 10), np.float32)
    with pytest.raises(ValueError, match=r"out must have contiguous, evenly spaced rows"):
        ops.lstm_forward(*args, out=wide[:, ::-1, :5])
    with pytest.raises(ValueError, match=r"out must have contiguous, evenly spaced rows"):
        ops.lstm_forward(*args, out=wide[..., ::2])
    with pytest.raises(ValueError, match=r"out must have shape \(2, 4, 5\)"):
        ops.lstm_forward(*args, out=wide)
    memory = np.zeros(64, np.float32)
    with pytest.raises(ValueError, match=r"out must not overlap x"):
        ops.lstm_forward(memory[:24].reshape(2, 4, 3), *args[1:], out=memory[20:60].reshape(2, 4, 5))
    wide.flags.writeable = False
    with pytest.raises(ValueError, match=r"out must be writeable"):
        ops.lstm_forward(*args, out=wide[..., :5])


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("size", [(5, 7, 3, 13, True), (1, 9, 2, 256, False), (4, 6, 20, 16, True)],
                         ids=["rows-varied-lengths", "units", "wide-inputs"])
def test_a_backward_without_initial_state_gradients_skips_them_and_changes_nothing_else(kernel_variant,
                                                                                        size, threads):
    """initial_state_gradients=False returns d_h0 and d_c0 as None and leaves out the last step's
    product (into d_h0); every other gradient keeps its bits.  With and without a given initial
    state (whose zeros also skip the forward's first product)."""
    batch, steps, features, units, varied = size
    for initial_state in (False, True):
        problem = make_problem(batch, steps, features, units, np.float32, scale=0.3,
                               lengths=varied_lengths(batch, steps) if varied else None,
                               initial_state=initial_state)
        args, kwargs = forward_args(problem)
        d_outputs, d_h_n, d_c_n = upstream_gradients(problem)
        grads = {}
        for wanted in (True, False):
            cache = ops.lstm_forward(*args, **kwargs, training=True, threads=threads).cache
            grads[wanted] = ops.lstm_backward(cache, d_outputs, d_h_n, d_c_n, threads=threads,
                                              initial_state_gradients=wanted)
        assert grads[False].d_h0 is None and grads[False].d_c0 is None
        assert grads[True].d_h0.shape == (batch, units)
        for name in ("d_x", "d_kernel", "d_recurrent_kernel", "d_bias"):
            np.testing.assert_array_equal(getattr(grads[False], name), getattr(grads[True], name), err_msg=name)
