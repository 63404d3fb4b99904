"""From the tagger's per-position probabilities to calls in reference coordinates, without aligning.

A run of consecutive tagged positions (probability >= threshold, an A, C,
G or T in the genome: an ambiguity code is never a mutation) is read with
the two anchor projections of `features.py` around it:

- no anchor on one side (the first or last ~17 bases of a genome, or next
  to a long N run): no call, since the position cannot be placed;
- the same offset on both sides: substitutions, at each tagged position
  whose base differs from the reference base it projects onto;
- the right offset larger by d: a deletion of d reference bases; smaller
  by d: an insertion of d genome bases.  Where the offset changes is the
  split that leaves the fewest mismatches with the reference near the run
  (a linear scan over at most a few dozen split points, not an alignment),
  and the run's positions that still differ are substitutions (an indel
  next to a substitution is common: Alpha's 28271 deletion and G28280C).

Indels are then left-aligned on the reference (the VCF rule), as the
alignment calls are, so both sets compare position for position.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from .calls import Call
from .features import _NONE, GenomeFeatures

__all__ = ["decode_calls"]

SEARCH_PAD = 12   # genome positions either side of a tagged run where an indel may be placed


def decode_calls(sequence: str, features: GenomeFeatures, probability: np.ndarray, reference: str,
                 threshold: float = 0.5) -> List[Tuple[Call, float]]:
    """(call, probability) of every call the tagged positions make, sorted, each once."""
    tagged = np.flatnonzero((probability >= threshold) & features.callable_base)
    found = {}
    for start, end in _consecutive_runs(tagged):
        score = float(probability[start:end].max())
        for call in _run_calls(sequence, features, reference, start, end):
            found[call] = max(score, found.get(call, 0.0))
    return sorted(found.items())


def _consecutive_runs(positions: np.ndarray):
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    return [(int(run[0]), int(run[-1]) + 1) for run in np.split(positions, breaks)]


def _run_calls(sequence: str, features: GenomeFeatures, reference: str, start: int, end: int) -> List[Call]:
    left, right = int(features.left_offset[start]), int(features.right_offset[end - 1])
    if left == _NONE or right == _NONE:
        return []      # within ~17 nt of a genome end or an N run: no anchor on one side, no call
    if left == right:
        return _substitutions(sequence, reference, range(start, end), lambda i: i + left)
    return _indel_and_substitutions(sequence, reference, start, end, left, right)


def _substitutions(sequence: str, reference: str, positions, target_of) -> List[Call]:
    calls = []
    for index in positions:
        target = target_of(index)
        if 0 <= target < len(reference) and reference[target] != sequence[index] and sequence[index] in "ACGT":
            calls.append(Call(target + 1, "substitution", reference[target], sequence[index]))
    return calls


def _indel_and_substitutions(sequence: str, reference: str, start: int, end: int, left: int, right: int):
    """One indel between the anchors, placed where it leaves the fewest mismatches (no alignment: a
    linear scan of the split points), and substitutions at the run's positions that still differ."""
    size = abs(right - left)
    low, high = max(0, start - SEARCH_PAD), min(len(sequence), end + SEARCH_PAD + (size if right < left else 0))
    split = _best_split(sequence, reference, low, high, left, right, size)
    if right > left:   # deletion: positions before `split` sit at `left`, from `split` on at `right`
        indel = _deletion(reference, sequence, split + left, size, left)
        target_of = lambda i: i + (left if i < split else right)  # noqa: E731
        skip = range(0)
    else:              # insertion of sequence[split:split + size]
        indel = _insertion(sequence, reference, split, left, size)
        target_of = lambda i: i + (left if i < split else right)  # noqa: E731
        skip = range(split, split + size)
    kept = [i for i in range(start, end) if i not in skip]
    return [indel] + _substitutions(sequence, reference, kept, target_of)


def _best_split(sequence: str, reference: str, low: int, high: int, left: int, right: int, size: int) -> int:
    """The genome index where the offset changes from `left` to `right` with the fewest mismatches."""
    genome = np.frombuffer(sequence[low:high].encode("ascii"), dtype=np.uint8)
    ref = np.frombuffer(reference.encode("ascii"), dtype=np.uint8)
    index = np.arange(low, high)

    def mismatches(offset):
        target = index + offset
        inside = (target >= 0) & (target < len(ref))
        return np.where(inside, genome != ref[np.clip(target, 0, len(ref) - 1)], True).astype(np.int32)

    before = np.concatenate([[0], np.cumsum(mismatches(left))])             # mismatches of [low, p) at left
    after = np.concatenate([np.cumsum(mismatches(right)[::-1])[::-1], [0]])  # of [p (+size), high) at right
    inserted = size if right < left else 0
    splits = np.arange(0, high - low - inserted + 1)
    cost = before[splits] + after[splits + inserted]
    return low + int(splits[np.argmin(cost)])


def _deletion(reference: str, sequence: str, first: int, length: int, left: int) -> Call:
    """Deletion of reference[first:first+length] (0-based), shifted left while the reference and the
    genome base before it allow (the VCF rule)."""
    first = max(0, min(first, len(reference) - length))
    while first > 0 and reference[first - 1] == reference[first + length - 1] and \
            0 <= first - 1 - left < len(sequence) and sequence[first - 1 - left] == reference[first - 1]:
        first -= 1
    return Call(first + 1, "deletion", reference[first:first + length], "-")


def _insertion(sequence: str, reference: str, start: int, offset: int, length: int) -> Call:
    """`length` genome bases from `start`, inserted after reference index start - 1 + offset, left-aligned."""
    inserted = sequence[start:start + length]
    after = start - 1 + offset                 # 0-based reference index of the base before the insertion
    while after >= 0 and reference[after] == inserted[-1] and sequence[after - offset] == reference[after]:
        inserted = inserted[-1] + inserted[:-1]
        after -= 1
    return Call(after + 1, "insertion", "-", inserted)
