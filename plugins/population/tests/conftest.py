"""Fixtures of the lstmcore-population tests: the task, one thread, --config files, the CLI, the real data."""
import json

import pytest

import lstmcore

from population_testdata import QUICK, SHARED_DATA


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    lstmcore.set_num_threads(1)


@pytest.fixture(scope="session")
def task():
    from lstmcore import registry

    return registry.tasks.get("population")


@pytest.fixture()
def config(tmp_path):
    """Write a --config JSON and return its path."""
    def make(**overrides):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(dict(QUICK, **overrides)))
        return str(path)
    return make


@pytest.fixture()
def cli(capsys):
    """Run `lstmcore ARGS` in-process: (exit status, stdout, stderr)."""
    from lstmcore.cli import main

    def run(*args):
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err
    return run


@pytest.fixture()
def real_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"real data absent: {SHARED_DATA}")
    return SHARED_DATA
