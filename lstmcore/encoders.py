"""Sequences to arrays: one-hot DNA, RNA and protein, with IUPAC ambiguity codes.

An ambiguity code is a fractional one-hot: DNA `N` is 0.25 in each of A, C,
G, T; `R` (A or G) is 0.5 in A and G.  Lowercase (soft-masked) letters mean
the same as uppercase.  Gaps (`-` and `.`) are handled by an explicit choice,
`gaps=`:

- "error" (the default): a gap is an error, so an alignment is never fed in by accident;
- "zero": a gap is a position whose row is all zeros;
- "skip": gaps are removed before encoding (the ungapped sequence).

Any other character is a `UserInputError` naming the file, the record and
the 1-based position.  Protein: the 20 standard amino acids; B = D/N, Z = E/Q,
J = I/L, X = any of the 20; selenocysteine U is encoded as C and pyrrolysine O
as K, their nearest standard amino acids.

Encoders are what the `register_encoders` hook registers; a model file keeps
`encoder.config()` so prediction encodes new data exactly as training did.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .errors import UserInputError

__all__ = ["Encoder", "OneHotEncoder", "GAP_CHOICES", "core_encoders", "encoder_from_config",
           "detect_alphabet", "DNA", "RNA", "PROTEIN"]

GAP_CHOICES = ("error", "zero", "skip")
GAP_LETTERS = "-."

_NUCLEOTIDE_CODES = {"R": "AG", "Y": "CT", "S": "CG", "W": "AT", "K": "GT", "M": "AC",
                     "B": "CGT", "D": "AGT", "H": "ACT", "V": "ACG", "N": "ACGT"}
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
_PROTEIN_CODES = {"B": "DN", "Z": "EQ", "J": "IL", "X": AMINO_ACIDS, "U": "C", "O": "K"}


class Encoder:
    """Base class of encoders: `encode(sequence)` -> float32 array (length, channels).

    Subclasses set `name` and `channels` and implement `encode`; `config()`
    returns what a model file must keep to rebuild the same encoder.
    """

    name: str = ""
    channels: int = 0

    def encode(self, sequence: str, *, file: Optional[str] = None, record: Optional[str] = None) -> np.ndarray:
        raise NotImplementedError

    def config(self) -> Dict[str, object]:
        return {"name": self.name}

    def configured(self, **options) -> "Encoder":
        """A copy with `options` (from a model file or the command line) applied."""
        if options:
            raise ValueError(f"encoder {self.name!r} takes no options. Received: {sorted(options)}")
        return self

    def encode_batch(self, sequences: Sequence[str], *, files: Optional[Sequence[str]] = None,
                     records: Optional[Sequence[str]] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Encode several sequences into a zero-padded batch (B, T, channels) and their lengths (B,)."""
        files = files if files is not None else [None] * len(sequences)
        records = records if records is not None else [None] * len(sequences)
        encoded = [self.encode(s, file=f, record=r) for s, f, r in zip(sequences, files, records)]
        return pad_batch(encoded, self.channels)

    def encode_records(self, records: Iterable) -> Tuple[np.ndarray, np.ndarray]:
        """Encode `SequenceRecord`s; errors name each record's file and id."""
        records = list(records)
        return self.encode_batch([r.sequence for r in records], files=[r.source for r in records],
                                 records=[r.id for r in records])


class OneHotEncoder(Encoder):
    """One-hot over `letters`, fractional over ambiguity codes, with a choice for gaps."""

    def __init__(self, name: str, letters: str, ambiguity: Optional[Mapping[str, str]] = None,
                 gaps: str = "error", description: str = ""):
        if gaps not in GAP_CHOICES:
            raise ValueError(f"gaps must be one of {', '.join(GAP_CHOICES)}. Received: gaps={gaps!r}")
        self.name, self.letters, self.gaps = name, letters.upper(), gaps
        self.ambiguity = {k.upper(): v.upper() for k, v in (ambiguity or {}).items()}
        self.description = description
        self.channels = len(self.letters)
        self._table, self._valid, self._gap = self._build_tables()

    def _build_tables(self):
        table = np.zeros((256, self.channels), dtype=np.float32)
        for code, members in list(zip(self.letters, self.letters)) + list(self.ambiguity.items()):
            row = np.zeros(self.channels, dtype=np.float32)
            row[[self.letters.index(m) for m in members]] = 1.0 / len(members)
            table[ord(code)] = table[ord(code.lower())] = row
        valid = table.any(axis=1)
        gap = np.zeros(256, dtype=bool)
        gap[[ord(c) for c in GAP_LETTERS]] = True
        if self.gaps != "error":
            valid = valid | gap
        return table, valid, gap

    def config(self) -> Dict[str, object]:
        return {"name": self.name, "gaps": self.gaps}

    def configured(self, **options) -> "OneHotEncoder":
        unknown = set(options) - {"gaps", "name"}
        if unknown:
            raise ValueError(f"encoder {self.name!r} accepts the option 'gaps' only. Received: {sorted(unknown)}")
        gaps = options.get("gaps", self.gaps)
        if gaps == self.gaps:
            return self
        return OneHotEncoder(self.name, self.letters, self.ambiguity, gaps, self.description)

    def encode(self, sequence: str, *, file: Optional[str] = None, record: Optional[str] = None) -> np.ndarray:
        """One sequence -> float32 (length, channels); a bad character raises UserInputError."""
        codes = self._codes(sequence, file, record)
        bad = ~self._valid[codes]
        if bad.any():
            position = int(np.argmax(bad))
            raise UserInputError(self._problem(sequence[position], position), file=file, record=record)
        if self.gaps == "skip":
            codes = codes[~self._gap[codes]]
        return self._table[codes]

    def _codes(self, sequence: str, file, record) -> np.ndarray:
        try:
            data = sequence.encode("ascii")
        except UnicodeEncodeError as exc:
            raise UserInputError(self._problem(sequence[exc.start], exc.start), file=file, record=record) from None
        return np.frombuffer(data, dtype=np.uint8)

    def _problem(self, letter: str, position: int) -> str:
        where = f"at position {position + 1}"
        if letter in GAP_LETTERS:
            return (f"gap {letter!r} {where}: the model refuses gaps (its 'gaps' setting is 'error'); remove them, "
                    "or train a model that takes them with --config '{\"gaps\": \"skip\"}' (or \"zero\")")
        codes = "".join(sorted(self.ambiguity))
        allowed = self.letters + (f" and ambiguity codes {codes}" if codes else "")
        return f"unknown letter {letter!r} {where} for {self.name.upper()} (allowed: {allowed}, any case)"

    def __repr__(self) -> str:
        return f"OneHotEncoder({self.name!r}, gaps={self.gaps!r})"


def pad_batch(arrays: List[np.ndarray], channels: int) -> Tuple[np.ndarray, np.ndarray]:
    """Stack (length, channels) arrays into a zero-padded (B, T, channels) batch and a lengths vector."""
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int64)
    steps = int(lengths.max()) if len(arrays) else 0
    batch = np.zeros((len(arrays), steps, channels), dtype=np.float32)
    for i, array in enumerate(arrays):
        batch[i, : array.shape[0]] = array
    return batch, lengths


DNA = OneHotEncoder("dna", "ACGT", _NUCLEOTIDE_CODES, description="DNA one-hot A C G T, IUPAC codes fractional")
RNA = OneHotEncoder("rna", "ACGU", {k: v.replace("T", "U") for k, v in _NUCLEOTIDE_CODES.items()},
                    description="RNA one-hot A C G U, IUPAC codes fractional")
PROTEIN = OneHotEncoder("protein", AMINO_ACIDS, _PROTEIN_CODES,
                        description="protein one-hot over the 20 amino acids; B Z J X U O as documented")


def core_encoders() -> Dict[str, Encoder]:
    """The encoders the core registers through its internal plugin."""
    return {"dna": DNA, "rna": RNA, "protein": PROTEIN}


def encoder_from_config(config: Mapping[str, object]) -> Encoder:
    """Rebuild the encoder a model file describes (its `config()`), from the encoders registry."""
    from . import registry

    options = dict(config)
    name = str(options.pop("name"))
    return registry.encoders.get(name).configured(**options)


def detect_alphabet(sequences: Iterable[str], nucleotide_share: float = 0.9) -> str:
    """Guess "dna", "rna" or "protein" from the letters used (for an alphabet of "auto").

    Nucleotide data is mostly A, C, G, T, U and N: at least half when every
    letter is a nucleotide (IUPAC) code, at least `nucleotide_share` otherwise,
    so a DNA file with a stray wrong letter is still read as DNA and the letter
    is reported, instead of the whole file silently becoming protein.
    """
    counts: Dict[str, int] = {}
    for sequence in sequences:
        for letter in set(sequence.upper()):
            counts[letter] = counts.get(letter, 0) + sequence.upper().count(letter)
    for gap in GAP_LETTERS:
        counts.pop(gap, None)
    total = sum(counts.values()) or 1
    share = sum(counts.get(letter, 0) for letter in "ACGTUN") / total
    only_codes = set(counts) <= set("ACGTUN") | set(_NUCLEOTIDE_CODES)
    if share < (0.5 if only_codes else nucleotide_share):
        return "protein"
    return "rna" if counts.get("U", 0) > counts.get("T", 0) else "dna"
