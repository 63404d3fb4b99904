"""The reference and the genomes: read, checked, and cleaned for alignment.

- The reference is one record of a FASTA or GenBank file (plain or gzip); a
  file with several records needs the user's choice (`record=`), which is
  safer than guessing (a multi-segment influenza file, a reference with its
  outgroup).  It must be a nucleotide sequence of A, C, G, T (IUPAC codes in
  a reference would make every call at that site meaningless).
- Genomes are streamed one record at a time (`iter_genomes`), so hundreds of
  thousands of genomes never sit in memory.  A genome that cannot be used (no
  sequence, protein letters, a duplicated name) is not an exception: it comes
  out as a `Genome` with a `problem`, so the calls of every other genome are
  still written and the bad one is listed by name with the reason.
- Lowercase is uppercased, U read as T, alignment gaps ('-', '.') and
  whitespace removed.  Leading and trailing N runs are cut off before
  alignment (they are the sequencer's "no data", not a genome's ends); how
  many were cut is kept for the summary's N fraction.
"""
from __future__ import annotations

import io
import itertools
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterable, Iterator, Optional, Sequence

from Bio.SeqIO.FastaIO import SimpleFastaParser

from lstmcore.errors import UserInputError
from lstmcore.io.fasta import open_text

__all__ = ["Reference", "Genome", "read_reference", "iter_genomes", "clean_genome", "NUCLEOTIDE_CODES",
           "AMBIGUITY_CODES", "GENBANK_EXTENSIONS", "trim_edge_n"]

NUCLEOTIDE_CODES = frozenset("ACGTURYSWKMBDHVN")
AMBIGUITY_CODES = frozenset("RYSWKMBDHVN")
GENBANK_EXTENSIONS = (".gb", ".gbk", ".genbank", ".gbff")
_REMOVED = re.compile(r"[\s.\-*]")


@dataclass(frozen=True)
class Reference:
    """The reference sequence (uppercase ACGT), its record id and file."""

    id: str
    sequence: str
    source: str

    def __len__(self) -> int:
        return len(self.sequence)


@dataclass(frozen=True)
class Genome:
    """One genome as read: `sequence` cleaned (uppercase, no gaps), `problem` set when it cannot be used."""

    id: str
    sequence: str
    source: str
    problem: Optional[str] = None


def read_reference(path: os.PathLike, record: Optional[str] = None) -> Reference:
    """The reference record of `path` (FASTA or GenBank); `record` picks one of several by id."""
    source = os.fspath(path)
    records = _reference_records(source)
    if not records:
        raise UserInputError("holds no sequence records", file=source)
    if record is not None:
        chosen = [r for r in records if r[0] == record]
        if not chosen:
            raise UserInputError(f"no record with this id (the file holds {_listed(r[0] for r in records)})",
                                 file=source, record=record)
        name, sequence = chosen[0]
    elif len(records) > 1:
        raise UserInputError(f"holds {len(records)} records ({_listed(r[0] for r in records)}); choose the "
                             "reference with --reference-record ID", file=source, record=records[0][0])
    else:
        name, sequence = records[0]
    return Reference(name, _checked_reference(sequence, source, name), source)


def _reference_records(source: str):
    """(id, sequence) of every record, GenBank recognised by its extension or its LOCUS line.

    The file is read once, as the core's `open_text` allows (it may be a pipe).
    """
    with open_text(source) as handle:
        try:
            first = handle.readline()
            if not first:   # Biopython's parser fails on an empty file with an IndexError
                raise UserInputError("is empty: no reference record (expected FASTA or GenBank)", file=source)
            if source.lower().removesuffix(".gz").endswith(GENBANK_EXTENSIONS) or first.startswith("LOCUS"):
                return _genbank_records(io.StringIO(first + handle.read()), source)
            lines = _fasta_lines(itertools.chain([first], handle), source, "FASTA or GenBank")
            return [(title.split(None, 1)[0] if title.strip() else "", sequence)
                    for title, sequence in SimpleFastaParser(lines)]
        except UnicodeDecodeError:
            raise UserInputError("is a binary file or not UTF-8 text", file=source) from None
        except ValueError as exc:
            if isinstance(exc, UserInputError):
                raise
            raise UserInputError(f"is not FASTA or GenBank ({exc})", file=source) from None
        except (EOFError, OSError) as exc:   # a truncated or broken gzip file
            raise UserInputError(f"cannot be read ({exc})", file=source) from None


def _genbank_records(handle, source: str):
    from Bio import SeqIO

    try:
        return [(r.id, str(r.seq)) for r in SeqIO.parse(handle, "genbank")]
    except Exception as exc:  # Biopython raises several types for a broken GenBank file
        raise UserInputError(f"is not a readable GenBank file ({exc})", file=source) from None


def _checked_reference(sequence: str, source: str, name: str) -> str:
    cleaned = _REMOVED.sub("", sequence).upper().replace("U", "T")
    if not cleaned:
        raise UserInputError("the reference has no sequence", file=source, record=name)
    foreign = sorted(set(cleaned) - NUCLEOTIDE_CODES)
    if foreign:
        raise UserInputError(f"is not a nucleotide sequence (letters {''.join(foreign[:8])}); "
                             "a protein FASTA cannot be a reference", file=source, record=name)
    codes = sorted(set(cleaned) - set("ACGT"))
    if codes:
        raise UserInputError(f"the reference holds ambiguity codes ({''.join(codes)}); it must be A, C, G, T only",
                             file=source, record=name)
    return cleaned


def iter_genomes(paths: Sequence[os.PathLike]) -> Iterator[Genome]:
    """Every record of the genome files, streamed, each cleaned or marked with its problem."""
    seen: Dict[str, str] = {}
    for path in paths:
        source = os.fspath(path)
        count = 0
        for title, sequence in _fasta_records(source):
            count += 1
            name = title.split(None, 1)[0] if title.strip() else f"#{count}"
            problem = f"the name is used twice (also in {seen[name]})" if name in seen else None
            seen.setdefault(name, source)
            yield clean_genome(name, sequence, source, problem)
        if count == 0:
            raise UserInputError("holds no FASTA records", file=source)


def _fasta_records(source: str) -> Iterable:
    with open_text(source) as handle:
        try:
            yield from SimpleFastaParser(_fasta_lines(handle, source))
        except ValueError as exc:
            if isinstance(exc, UserInputError):
                raise
            raise UserInputError(f"is not FASTA ({exc})", file=source) from None
        except (EOFError, OSError) as exc:
            raise UserInputError(f"cannot be read ({exc})", file=source) from None


def _fasta_lines(handle, source: str, expected: str = "FASTA") -> Iterator[str]:
    """The file's lines, refusing text before the first '>' header (Biopython would skip it silently)."""
    header_seen = False
    for number, line in enumerate(handle, start=1):
        if line.startswith(">"):
            header_seen = True
        elif not header_seen and line.strip():
            shown = line.strip()[:30]
            raise UserInputError(f"is not {expected}: line {number} comes before the first '>' header ({shown!r})",
                                 file=source)
        yield line


def clean_genome(name: str, sequence: str, source: str = "", problem: Optional[str] = None) -> Genome:
    """Uppercase, U as T, gaps removed; empty or non-nucleotide sequences get their problem."""
    cleaned = _REMOVED.sub("", sequence).upper().replace("U", "T")
    if problem is None:
        problem = _genome_problem(cleaned)
    return Genome(name, cleaned if problem is None else "", source, problem)


def _genome_problem(cleaned: str) -> Optional[str]:
    if not cleaned:
        return "empty genome: the record has no sequence"
    foreign = sorted(set(cleaned) - NUCLEOTIDE_CODES)
    if foreign:
        return f"not a nucleotide sequence (letters {''.join(foreign[:8])}; protein?)"
    return None


def trim_edge_n(sequence: str):
    """(start, end) of `sequence` without its leading and trailing N runs."""
    start = len(sequence) - len(sequence.lstrip("N"))
    end = len(sequence.rstrip("N"))
    return start, max(start, end)


def _listed(names: Iterable[str], limit: int = 4) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
