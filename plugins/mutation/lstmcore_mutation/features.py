"""What the tagger sees at each position of a genome: its base, and what the reference's k-mer index says there.

An LSTM cannot hold a 30 kb reference in its state, and the tagger must find
mutated sites without aligning.  So the encoder keeps what is derived from
the reference (its state, saved in the model file): the reference itself
and its k-mer index, every k-mer (k = 12 by default) with its position if
it occurs once.  For a genome, numpy then gives at each position, without
any dynamic programming:

- the genome's base, one-hot (an IUPAC code as fractions, N = 0.25 each);
- whether the k-mer ending at the position, and the k-mer starting there,
  occur in the reference (0.5 when they hold an ambiguity code): a
  substitution or an indel leaves a gap in the run of present k-mers;
- the reference base that the nearest anchor on each side projects the
  position onto (an anchor: a genome k-mer found once in the reference,
  which fixes the offset genome -> reference), one-hot each; a substitution
  is where the genome base differs from both, an indel is where the two
  projections disagree;
- the difference of the two anchors' offsets (squashed): positive for a
  deletion between them, negative for an insertion;
- how far the genome's base differs from each projected base (1 - their
  overlap; 0 without an anchor): the substitution signal, given outright
  because a mutation can make k-mers that occur elsewhere in the reference
  (G1397A in SARS-CoV-2 does), so k-mer presence alone misses it.

The BiLSTM tags positions from this; `decode.py` turns tagged positions into
calls with the same projections.  Labels come from the alignment calls:
the substituted base, every inserted base, and the base before a deletion.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .calling import GenomeResult

__all__ = ["ReferenceIndex", "GenomeFeatures", "genome_features", "position_labels", "CHANNELS", "IUPAC_FRACTIONS"]

CHANNELS = 17
ABSENT, REPEATED = -1, -2
DIRECT_TABLE_K = 12
_CODE = np.full(256, 4, dtype=np.uint8)      # A C G T -> 0..3, anything else 4 (not a k-mer base)
for _i, _b in enumerate("ACGT"):
    _CODE[ord(_b)] = _i
IUPAC_FRACTIONS = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT",
                   "M": "AC", "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}
_ONE_HOT = np.zeros((256, 4), dtype=np.float32)
for _letter, _bases in IUPAC_FRACTIONS.items():
    for _b in _bases:
        _ONE_HOT[ord(_letter), "ACGT".index(_b)] = 1.0 / len(_bases)


def _kmer_codes(sequence: str, k: int) -> Tuple[np.ndarray, np.ndarray]:
    """(k-mer integers, valid) for every start 0..len-k; a k-mer with a non-ACGT letter is not valid.

    Built by k shifted vector operations (a rolling 2-bit code), not a
    (length x k) window matrix: it is the hot loop of the tagger's encoder.
    """
    codes = _CODE[np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)]
    count = len(codes) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    bits = np.minimum(codes, 3).astype(np.int64)
    kmers = bits[:count].copy()
    for t in range(1, k):
        kmers <<= 2
        kmers |= bits[t:t + count]
    invalid = np.concatenate([[0], np.cumsum(codes == 4)])
    return kmers, (invalid[k:] - invalid[:count]) == 0


@dataclass
class ReferenceIndex:
    """The reference's k-mers: for each k-mer integer, its reference position, or ABSENT / REPEATED.

    For k <= 12 a direct table (4**k int32: 64 MiB at k = 12) answers a
    genome's 30,000 look-ups in one gather, several times faster than a
    binary search; longer k-mers use a sorted array and `searchsorted`.
    """

    sequence: str
    k: int
    kmers: np.ndarray
    positions: np.ndarray          # per sorted k-mer: its position, or REPEATED
    table: Optional[np.ndarray] = None
    letters: Optional[np.ndarray] = None

    @classmethod
    def build(cls, sequence: str, k: int = 12) -> "ReferenceIndex":
        codes, valid = _kmer_codes(sequence, k)
        starts = np.flatnonzero(valid)
        kmers, first, counts = np.unique(codes[valid], return_index=True, return_counts=True)
        positions = np.where(counts == 1, starts[first], REPEATED).astype(np.int32)
        table = None
        if k <= DIRECT_TABLE_K:
            table = np.full(4 ** k, ABSENT, dtype=np.int32)
            table[kmers] = positions
        letters = np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)
        return cls(sequence, k, kmers, positions, table, letters)

    def lookup(self, codes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(present, unique reference position or -1) of each k-mer integer."""
        if self.table is not None:
            found = self.table[codes]
        elif len(self.kmers):
            slot = np.clip(np.searchsorted(self.kmers, codes), 0, len(self.kmers) - 1)
            found = np.where(self.kmers[slot] == codes, self.positions[slot], ABSENT)
        else:
            found = np.full(len(codes), ABSENT, dtype=np.int32)
        return found != ABSENT, np.where(found >= 0, found, -1)


_NONE = np.iinfo(np.int64).min // 4
CONFIRM = 6   # consecutive k-mers with one offset that make an anchor (a 17-mer found once)


@dataclass
class GenomeFeatures:
    """One genome's per-position signals, as compact arrays; `window` builds the float inputs of a stretch.

    The screen (tagger.candidate_mask) and the decoder read the compact
    arrays over the whole genome; the (positions x CHANNELS) float matrix is
    built only for the stretches the LSTM runs over, a tenth of a typical
    30 kb genome, since building it is most of the encoder's time.
    """

    letters: np.ndarray         # the genome's letters (uint8 ASCII)
    presence_end: np.ndarray    # k-mer ending here: 1 in the reference, 0 not, 0.5 unknown (a code, or none)
    presence_start: np.ndarray  # k-mer starting here, the same
    left_offset: np.ndarray     # reference index - genome index by the nearest anchor on the left (or _NONE)
    right_offset: np.ndarray
    left_letters: np.ndarray    # the reference letter each anchor projects the position onto (0: none)
    right_letters: np.ndarray

    def __len__(self) -> int:
        return len(self.letters)

    @property
    def callable_base(self) -> np.ndarray:
        """The genome holds A, C, G or T here (an ambiguity code is never a call)."""
        return _CODE[self.letters] < 4

    @property
    def x(self) -> np.ndarray:
        return self.window(0, len(self.letters))

    def window(self, start: int, end: int) -> np.ndarray:
        """The (end - start, CHANNELS) float32 inputs of positions [start, end)."""
        x = np.empty((end - start, CHANNELS), dtype=np.float32)
        x[:, 0:4] = _ONE_HOT[self.letters[start:end]]
        x[:, 4] = self.presence_end[start:end]
        x[:, 5] = self.presence_start[start:end]
        x[:, 6:10] = _ONE_HOT[self.left_letters[start:end]]
        x[:, 10:14] = _ONE_HOT[self.right_letters[start:end]]
        left, right = self.left_offset[start:end], self.right_offset[start:end]
        both = (left != _NONE) & (right != _NONE)
        x[:, 14] = np.where(both, np.tanh(np.where(both, right - left, 0) / 3.0), 0.0)
        # 1 - overlap of the genome's base with each projected reference base: 1 = a clear mismatch.
        x[:, 15] = np.where(left != _NONE, 1.0 - (x[:, 0:4] * x[:, 6:10]).sum(axis=1), 0.0)
        x[:, 16] = np.where(right != _NONE, 1.0 - (x[:, 0:4] * x[:, 10:14]).sum(axis=1), 0.0)
        return x


def genome_features(sequence: str, index: ReferenceIndex) -> GenomeFeatures:
    """The tagger's signals for one (cleaned, uppercase) genome."""
    length, k = len(sequence), index.k
    letters = np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)
    codes, valid = _kmer_codes(sequence, k)
    present, anchor = index.lookup(np.where(valid, codes, 0))   # invalid k-mers: looked up as AAA..A, ignored
    anchor = np.where(valid, anchor, -1)
    presence = np.where(valid, present.astype(np.float32), np.float32(0.5))
    presence_end = np.full(length, 0.5, dtype=np.float32)
    presence_start = np.full(length, 0.5, dtype=np.float32)
    presence_end[k - 1:] = presence
    presence_start[:len(presence)] = presence
    left, right = _anchor_offsets(anchor, length)
    return GenomeFeatures(letters, presence_end, presence_start, left, right,
                          _projected_letters(index.letters, left), _projected_letters(index.letters, right))


def _anchor_offsets(anchor: np.ndarray, length: int) -> Tuple[np.ndarray, np.ndarray]:
    """Offsets (reference index - genome index) carried forward from the left and back from the right."""
    offsets = np.full(length, _NONE, dtype=np.int64)
    starts = np.flatnonzero(anchor >= 0)
    offsets[starts] = anchor[starts] - starts
    # A 12-mer of the genome can occur once in the reference by chance; an anchor counts only inside a run
    # of CONFIRM consecutive k-mers with one offset (a (k + CONFIRM - 1)-mer found in the reference).
    same = (offsets[:-1] == offsets[1:]) & (offsets[:-1] != _NONE)
    span = len(same) - (CONFIRM - 2)
    begins = np.ones(max(span, 0), dtype=bool)
    for t in range(CONFIRM - 1):
        begins &= same[t:t + span]
    confirmed = np.zeros(length, dtype=bool)
    for t in range(CONFIRM):
        confirmed[t:t + len(begins)] |= begins
    offsets[~confirmed] = _NONE
    seen = np.where(offsets != _NONE, np.arange(length), -1)
    last = np.maximum.accumulate(seen)
    left = np.where(last >= 0, offsets[np.maximum(last, 0)], _NONE)
    nxt = np.where(offsets != _NONE, np.arange(length), length)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    right = np.where(nxt < length, offsets[np.minimum(nxt, length - 1)], _NONE)
    return left, right


def _projected_letters(reference_letters: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The reference letter each position projects onto by `offsets` (0 where it has none)."""
    target = np.arange(len(offsets)) + offsets
    inside = (offsets != _NONE) & (target >= 0) & (target < len(reference_letters))
    return np.where(inside, reference_letters[np.where(inside, target, 0)], 0).astype(np.uint8)


def position_labels(result: GenomeResult, sequence: str) -> Tuple[np.ndarray, np.ndarray]:
    """(labels, weights) per genome position from the alignment calls.

    Label 1: a substituted base, an inserted base, the base before a
    deletion.  Weight 0 (not scored, not trained on): positions outside the
    aligned span, non-ACGT bases (ambiguity codes are never mutations).
    """
    labels = np.zeros(len(sequence), dtype=np.float32)
    weights = np.zeros(len(sequence), dtype=np.float32)
    if not result.aligned or result.strand != "+":
        return labels, weights
    offset = result.query_start - (result.ref_start - 1)   # genome index = reference index + offset
    first = result.query_start
    for call in sorted(result.calls):
        _label_call(call, offset, labels)
        offset += len(call.alt) if call.type == "insertion" else -len(call.ref) if call.type == "deletion" else 0
    last = result.ref_end - 1 + offset
    weights[first:last + 1] = 1.0
    weights[_CODE[np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)] == 4] = 0.0
    return labels, weights


def _label_call(call, offset: int, labels: np.ndarray) -> None:
    index = call.position - 1 + offset
    if call.type == "substitution":
        labels[index] = 1.0
    elif call.type == "insertion":
        labels[index + 1:index + 1 + len(call.alt)] = 1.0
    elif call.type == "deletion" and index - 1 >= 0:
        labels[index - 1] = 1.0
