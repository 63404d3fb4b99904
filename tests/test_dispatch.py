"""The kernel variants: which one runs, how a user forces one, and what an impossible choice says."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from lstmcore import ops
from lstmcore._native import dispatch

REQUIRED = dict(dispatch.VARIANTS)

# Asked for in a child process: the choice is made once per process.
CHILD = """
import io, numpy as np, lstmcore
from lstmcore import ops
from lstmcore._native import dispatch
module = dispatch.active()
calls = []
real_forward = module.forward
module.forward = lambda *a, **k: calls.append(1) or real_forward(*a, **k)
x = np.ones((2, 3, 1), np.float32)
ops.lstm_forward(x, np.ones((1, 8), np.float32), np.ones((2, 8), np.float32), np.zeros(8, np.float32))
text = io.StringIO(); lstmcore.show_config(file=text)
kernel_line = [line for line in text.getvalue().splitlines() if line.strip().startswith("kernel:")][0]
print(module.variant(), len(calls), ",".join(sorted(module.built_for())) or "-", kernel_line.split()[1])
"""


def _child(**env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LSTMCORE_")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=environment)


def test_the_default_is_the_widest_variant_the_cpu_runs_and_show_config_names_it():
    result = _child()
    assert result.returncode == 0, result.stderr
    name, calls, built_for, reported = result.stdout.split()
    assert name == reported == dispatch.supported_variants()[0]
    assert calls == "1"
    assert REQUIRED[name] <= set(built_for.split(","))


@pytest.mark.parametrize("name", dispatch.supported_variants())
def test_a_forced_variant_is_the_one_that_runs(name):
    """Fails if the dispatch fell back silently: the named module runs the call, and its compiler
    targeted the instruction sets the variant stands for."""
    result = _child(LSTMCORE_KERNEL=name)
    assert result.returncode == 0, result.stderr
    ran, calls, built_for, reported = result.stdout.split()
    assert ran == reported == name and calls == "1"
    assert REQUIRED[name] <= set(built_for.split(","))


def test_an_x86_build_has_every_portable_variant():
    if not {"avx2", "fma"} <= dispatch.cpu_features():
        pytest.skip("this CPU reports no AVX2: it may not be x86-64")
    assert {"baseline", "avx2", "avx512"} <= set(dispatch.built_variants())


def test_a_variant_the_cpu_lacks_is_an_error_that_lists_what_it_has(monkeypatch):
    monkeypatch.setattr(dispatch, "cpu_features", lambda: frozenset({"avx2", "fma"}))
    with pytest.raises(dispatch.KernelChoiceError) as error:
        dispatch._load("avx512")
    message = str(error.value)
    assert "'avx512' needs avx512bw, avx512dq, avx512f, avx512vl, which this CPU lacks" in message
    runs = [name for name in dispatch.built_variants() if REQUIRED[name] <= {"avx2", "fma"}]
    assert "(it has: avx2, fma)" in message and f"variants it runs: {', '.join(runs)}" in message


def test_an_unknown_or_unbuilt_variant_is_an_error_that_lists_the_variants():
    with pytest.raises(dispatch.KernelChoiceError, match="unknown kernel variant 'avx3': the variants are "
                                                         "native, avx512, avx2, baseline"):
        dispatch._load("avx3")
    if "native" not in dispatch.built_variants():
        with pytest.raises(dispatch.KernelChoiceError, match="'native' was not built: this build has"):
            dispatch._load("native")


def test_a_bad_lstmcore_kernel_is_one_line_and_exit_status_2_from_the_command():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LSTMCORE_")}
    environment["LSTMCORE_KERNEL"] = "avx3"
    result = subprocess.run([sys.executable, "-m", "lstmcore", "show-config"], capture_output=True, text=True,
                            env=environment)
    assert result.returncode == 2
    assert result.stderr == ("error: LSTMCORE_KERNEL=avx3: unknown kernel variant 'avx3': the variants are "
                             "native, avx512, avx2, baseline\n")


def test_variants_agree_to_float32_rounding_and_float64_closely():
    """The same call on every variant: the variants differ in rounding only."""
    rng = np.random.default_rng(0)
    for dtype, tolerance in ((np.float32, 2e-5), (np.float64, 1e-12)):
        x = rng.standard_normal((4, 30, 3)).astype(dtype)
        weights = [rng.standard_normal(shape).astype(dtype) * 0.3 for shape in ((3, 32), (8, 32), (32,))]
        outputs = {}
        for name in dispatch.supported_variants():
            with dispatch.using(name):
                outputs[name] = ops.lstm_forward(x, *weights).outputs
        first = next(iter(outputs.values()))
        for name, output in outputs.items():
            np.testing.assert_allclose(output, first, rtol=tolerance, atol=tolerance, err_msg=name)
