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


def test_kernel_blas_stays_on_one_thread_whatever_the_setting():
    lstmcore.set_num_threads(2)
    scipy_blas = [i for i in threadpool_info()
                  if i["user_api"] == "blas" and "scipy.libs" in i["filepath"]]
    assert all(i["num_threads"] == 1 for i in scipy_blas)


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
