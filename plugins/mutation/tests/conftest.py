"""Shared fixtures of the lstmcore-mutation tests: a generated reference, its FASTA file, and the real data."""
import os
from pathlib import Path

import numpy as np
import pytest

from lstmcore_mutation.planting import random_reference
from lstmcore_mutation.sequences import Reference

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = Path(os.environ.get("LSTMCORE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")) / "mutation"


@pytest.fixture(scope="session")
def reference_sequence():
    """3 kb of seeded random DNA with four homopolymer runs of 6."""
    return random_reference(3000, np.random.default_rng(7), homopolymers=4)


@pytest.fixture(scope="session")
def reference(reference_sequence):
    return Reference("ref", reference_sequence, "ref.fasta")


@pytest.fixture()
def reference_file(tmp_path, reference_sequence):
    path = tmp_path / "ref.fasta"
    path.write_text(f">ref test reference\n{reference_sequence}\n")
    return path


@pytest.fixture()
def real_data():
    if not SHARED_DATA.exists():
        pytest.skip(f"real data absent: {SHARED_DATA}")
    return SHARED_DATA

