"""Genomes with planted substitutions, insertions and deletions, and the calls they must give.

The demo and the tests check the aligners against what was planted, so a
planted indel must have exactly one right answer: each is planted where it
is already left-aligned (the base before a deletion differs from the last
deleted base; the base before an insertion differs from the last inserted
base), and events keep `spacing` bases apart so that no two of them can be
aligned another way.  Deletions and insertions in homopolymer runs are
planted at the run's right end and expected at its left end.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .calls import Call

__all__ = ["PlantedGenome", "random_reference", "plant_mutations", "apply_calls", "homopolymer_cases"]

_BASES = np.array(list("ACGT"))


@dataclass
class PlantedGenome:
    id: str
    sequence: str
    calls: List[Call]


def random_reference(length: int, rng: np.random.Generator, homopolymers: int = 0) -> str:
    """Random ACGT, with `homopolymers` runs of 6 identical bases spread along it."""
    bases = _BASES[rng.integers(0, 4, size=length)]
    for start in np.linspace(length * 0.1, length * 0.9, homopolymers).astype(int) if homopolymers else []:
        base = bases[start - 1]
        while base == bases[start - 1] or base == bases[start + 6]:
            base = _BASES[rng.integers(0, 4)]
        bases[start:start + 6] = base
    return "".join(bases)


def apply_calls(reference: str, calls: Sequence[Call]) -> str:
    """The genome that `calls` describe (substitutions, insertions, deletions; ambiguous codes written in)."""
    parts, cursor = [], 0
    for call in sorted(calls, key=lambda c: (c.position, c.type == "insertion")):
        index = call.position - 1
        if call.type == "insertion":
            parts.append(reference[cursor:index + 1] + call.alt)
            cursor = index + 1
        else:
            parts.append(reference[cursor:index])
            parts.append("" if call.type == "deletion" else call.alt)
            cursor = index + len(call.ref)
    parts.append(reference[cursor:])
    return "".join(parts)


def plant_mutations(reference: str, rng: np.random.Generator, *, substitutions: int = 5, insertions: int = 2,
                    deletions: int = 2, spacing: int = 25, margin: int = 30) -> List[Call]:
    """Random, unambiguous, left-aligned calls spread over `reference` (none within `margin` of the ends)."""
    kinds = ["substitution"] * substitutions + ["insertion"] * insertions + ["deletion"] * deletions
    rng.shuffle(kinds)
    slots = _spaced_positions(len(reference), len(kinds), spacing, margin, rng)
    calls = []
    for kind, position in zip(kinds, slots):
        call = _call_at(reference, kind, int(position), rng)
        if call is not None:
            calls.append(call)
    return sorted(calls)


def _spaced_positions(length: int, count: int, spacing: int, margin: int, rng) -> np.ndarray:
    usable = length - 2 * margin - spacing * count
    if count == 0:
        return np.array([], dtype=int)
    if usable < count:
        raise ValueError(f"a reference of {length} nt has no room for {count} events {spacing} apart")
    offsets = np.sort(rng.choice(usable, size=count, replace=False))
    return margin + offsets + spacing * np.arange(count) + 1


def _call_at(reference: str, kind: str, position: int, rng) -> Optional[Call]:
    """One call at 1-based `position`, or None where the neighbourhood allows no unambiguous one."""
    before, here = reference[position - 2], reference[position - 1]
    if kind == "substitution":
        return Call(position, kind, here, str(rng.choice([b for b in "ACGT" if b != here])))
    if kind == "deletion":
        length = int(rng.integers(1, 7))
        deleted = reference[position - 1:position - 1 + length]
        return Call(position, kind, deleted, "-") if before != deleted[-1] else None
    inserted = "".join(rng.choice(list("ACGT"), size=int(rng.integers(1, 7))))
    # Inserted after `position`: left-aligned iff the base at `position` differs from the last inserted base.
    return Call(position, kind, "-", inserted) if here != inserted[-1] else None


def homopolymer_cases(reference: str) -> List[Tuple[str, Call]]:
    """(genome, expected call) for each 6-base run: one base deleted at its right end, one inserted there."""
    cases = []
    for start in range(1, len(reference) - 7):
        run = reference[start:start + 6]
        if len(set(run)) == 1 and reference[start - 1] != run[0] and reference[start + 6] != run[0]:
            base = run[0]
            deleted = reference[:start + 5] + reference[start + 6:]
            inserted = reference[:start + 6] + base + reference[start + 6:]
            cases.append((deleted, Call(start + 1, "deletion", base, "-")))
            cases.append((inserted, Call(start, "insertion", "-", base)))
    return cases
