"""Thread control, show_config, and the message of an unbuilt tree."""
from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info

import lstmcore


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    lstmcore.set_num_threads(None)


def test_set_num_threads_governs_kernels_and_numpy_blas():
    lstmcore.set_num_threads(1)
    assert lstmcore.get_num_threads() == 1
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] == 1 for i in blas)
    lstmcore.set_num_threads(2)
    assert lstmcore.get_num_threads() == 2


def test_inside_lstmcore_calls_every_blas_runs_on_one_thread_and_is_restored_after():
    from lstmcore._threads import blas_pinned

    lstmcore.set_num_threads(2)
    with blas_pinned():
        with blas_pinned():  # re-entrant: fit() calls ops
            inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
        still_inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    after = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert set(inside) == {1} and set(still_inside) == {1}
    assert set(after) == {2}


def test_an_ops_call_leaves_the_users_blas_threads_as_they_were():
    import numpy as np

    from lstmcore import ops

    lstmcore.set_num_threads(2)
    ops.lstm_forward(np.zeros((2, 3, 1), np.float32), np.zeros((1, 8), np.float32),
                     np.zeros((2, 8), np.float32))
    assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {2}


def _blas_thread_counts():
    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_pinning_restores_a_count_the_user_set_outside_lstmcore():
    from threadpoolctl import threadpool_limits

    from lstmcore._threads import blas_pinned

    lstmcore.set_num_threads(2)
    with threadpool_limits(limits=1, user_api="blas"):      # the user's own choice, not lstmcore's
        with blas_pinned():
            assert _blas_thread_counts() == {1}
        assert _blas_thread_counts() == {1}
    with threadpool_limits(limits=2, user_api="blas"):
        with blas_pinned():
            assert _blas_thread_counts() == {1}
        assert _blas_thread_counts() == {2}


def test_set_num_threads_inside_a_pinned_block_applies_when_it_ends():
    from lstmcore._threads import blas_pinned

    lstmcore.set_num_threads(1)
    with blas_pinned():
        lstmcore.set_num_threads(2)
        assert _blas_thread_counts() == {1}
    assert _blas_thread_counts() == {2}


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True], ids=repr)
def test_set_num_threads_rejects_non_positive_integers(bad):
    with pytest.raises(ValueError, match=r"n must be a positive integer or None. Received: n="):
        lstmcore.set_num_threads(bad)


def test_default_threads_follow_omp_num_threads():
    code = "import lstmcore; print(lstmcore.get_num_threads())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": "3"})
    assert out.stdout.strip() == "3"


def test_show_config_reports_version_openmp_blas_and_threads():
    lstmcore.set_num_threads(2)
    buffer = io.StringIO()
    lstmcore.show_config(file=buffer)
    text = buffer.getvalue()
    assert lstmcore.__version__ in text
    assert "openmp: on" in text
    assert "openblas" in text.lower()
    assert "threads: 2" in text


def test_importing_an_unbuilt_tree_says_how_to_build(tmp_path):
    package = Path(lstmcore.__file__).parent
    copy = tmp_path / "lstmcore"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    out = subprocess.run([sys.executable, "-c", "import lstmcore"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "compiled kernels are not built" in out.stderr
    assert "pip install" in out.stderr


def test_malloc_is_tuned_unless_the_user_says_no():
    code = "import lstmcore._malloc as m, lstmcore; print(m.malloc_tuned())"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("MALLOC_")}
    tuned = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    untouched = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env={**env, "LSTMCORE_NO_MALLOPT": "1"})
    assert tuned.stdout.strip() == "True"
    assert untouched.stdout.strip() == "False"
