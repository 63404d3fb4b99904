"""Shared fixtures of the lstmcore-signal tests: the task, small hand-made files, and the real data."""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("LSTMCORE_SHARED_DATA",
                                  Path(__file__).resolve().parents[3].parent / "shared" / "data")) / "signal"


@pytest.fixture(scope="session")
def signal_task():
    from lstmcore import registry

    return registry.tasks.get("signal")


@pytest.fixture()
def write(tmp_path):
    """write(name, text) -> the path of a new file in the test's folder."""
    def writer(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path
    return writer


@pytest.fixture()
def ecg_data():
    folder = SHARED_DATA / "ucr_ecg"
    if not folder.exists():
        pytest.skip(f"real data absent: {folder}")
    return folder
