"""Shared fixtures of the lstmcore-motif tests: a small trained model on generated data, and the real data."""
from pathlib import Path

import numpy as np
import pytest

import lstmcore

SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "motif"


@pytest.fixture(scope="session")
def motif_task():
    from lstmcore import registry

    return registry.tasks.get("motif")


@pytest.fixture(scope="session")
def demo_model(tmp_path_factory, motif_task):
    """A model trained briefly on the demo data (CACGTG planted), loaded as `lstmcore predict` would."""
    from lstmcore.saving.task_models import load_task_model
    from lstmcore.tasks.workflows import train

    folder = tmp_path_factory.mktemp("demo")
    data = motif_task.make_example_data(folder / "data", seed=0)
    lstmcore.set_num_threads(1)
    train(motif_task, data.train, folder / "model.lstm", options=data.options,
          hyperparameters=dict(motif_task.demo_hyperparameters), epochs=motif_task.demo_epochs, seed=0)
    return load_task_model(folder / "model.lstm"), data


@pytest.fixture()
def real_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"real data absent: {SHARED_DATA}")
    return SHARED_DATA
