"""Generated example data for the tasks' demos and tests: random DNA with sites planted.

Nothing is downloaded: every `lstmcore demo` runs on data made here from a
seed.  A plugin that needs another kind of example data (counts, signals,
genomes) adds its generator beside its task; these are the sequence ones
that several tasks share.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np

__all__ = ["random_dna", "planted_sequences"]


def random_dna(rng: np.random.Generator, length: int, avoid: Optional[str] = None) -> str:
    """A uniformly random ACGT sequence of `length` that does not contain `avoid`."""
    while True:
        sequence = "".join(rng.choice(list("ACGT"), size=length))
        if not avoid or avoid not in sequence:
            return sequence


def planted_sequences(rng: np.random.Generator, count: int, sites: Sequence[str], lengths=(40, 61),
                      prefix: str = "seq", labels=("background", "motif"),
                      avoid: Optional[str] = None) -> List[Tuple[str, str, str]]:
    """(id, sequence, label) tuples alternating labels[0] (random DNA) and labels[1] (one of `sites`
    planted at a random position); lengths uniform in [lengths[0], lengths[1]); no sequence holds
    `avoid` (default: the first site) except where planted."""
    avoid = sites[0] if avoid is None else avoid
    records = []
    for i in range(count):
        length = int(rng.integers(*lengths))
        sequence = random_dna(rng, length, avoid)
        planted = i % 2 == 1
        if planted:
            site = sites[int(rng.integers(len(sites)))]
            start = int(rng.integers(0, length - len(site) + 1))
            sequence = sequence[:start] + site + sequence[start + len(site):]
        records.append((f"{prefix}{i:04d}", sequence, labels[1] if planted else labels[0]))
    return records
