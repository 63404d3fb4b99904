"""Motif files in and out through Bio.motifs: JASPAR, PFM, TRANSFAC, MEME (XML and minimal) and JASPAR sites.

Bio.motifs reads all of these but MEME minimal; it writes JASPAR, PFM and
TRANSFAC.  MEME's minimal text format (what MEME suite tools such as Tomtom
and FIMO read) is written and read here: Bio.motifs' "minimal" parser rounds
each probability x nsites to an integer count (a matrix read back then
differs from the one written) and holds DNA and RNA only.  A JASPAR sites
file (FASTA, each site upper-case in lower-case context) is written here and
read back by its "sites" parser.  A file that cannot be parsed is a
`UserInputError` naming the file, and so is a motif whose counts cannot be
used (NaN or infinite, negative, a column with no counts, no columns):
naming the file, the motif and the bad cell, for every command that reads
motif files (`compare`, `discover --known`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from lstmcore.errors import UserInputError
from lstmcore.io.atomic import atomic_open

__all__ = ["read_motifs", "write_motifs", "meme_minimal_text", "write_sites", "format_of", "counts_array",
           "formats_holding", "count_tolerance", "WRITABLE_FORMATS", "READ_AS"]

PathLike = Union[str, "os.PathLike[str]"]
WRITABLE_FORMATS = ("jaspar", "pfm", "transfac", "meme")
READ_AS = {"jaspar": "jaspar", "pfm": "pfm", "transfac": "transfac", "meme": "minimal"}  # written -> read back as
_BY_EXTENSION = {".jaspar": "jaspar", ".pfm": "pfm", ".sites": "sites", ".dat": "transfac",
                 ".transfac": "transfac", ".xml": "meme", ".meme": "minimal", ".txt": "minimal"}


def format_of(path: PathLike, given: Optional[str] = None) -> str:
    """The Bio.motifs format of a file: `given`, else from its content (MEME) or extension."""
    if given:
        return given
    path = Path(path)
    head = path.read_text(encoding="utf-8", errors="replace")[:2000] if path.is_file() else ""
    if "<MEME version" in head:
        return "meme"
    if head.lstrip().startswith("MEME version"):
        return "minimal"
    fmt = _BY_EXTENSION.get(path.suffix.lower())
    if fmt is None:
        raise UserInputError("cannot tell the motif format from the extension; give it with --known-format "
                             "(jaspar, pfm, sites, transfac, meme, minimal)", file=path)
    return fmt


def read_motifs(path: PathLike, fmt: Optional[str] = None) -> List:
    """Every motif in a file, as Bio.motifs.Motif objects."""
    from Bio import motifs

    if not os.path.exists(path):
        raise UserInputError("no such file", file=path)
    fmt = format_of(path, fmt)
    try:
        if fmt == "minimal":
            found = _read_meme_minimal(path)
        else:
            with open(path, encoding="utf-8") as handle:
                found = list(motifs.parse(handle, fmt))
    except Exception as exc:  # Bio.motifs raises many kinds for a malformed file
        raise UserInputError(f"is not a valid {fmt} motif file ({type(exc).__name__}: {exc})", file=path) from None
    if not found:
        raise UserInputError(f"holds no motif (read as {fmt})", file=path)
    for number, motif in enumerate(found, start=1):
        _check_counts(motif, number, path)
    return found


def _check_counts(motif, number: int, path: PathLike) -> None:
    """A motif read from a file holds a usable count matrix: at least one column, every count a finite
    number of at least 0, and every column some counts; anything else (`nan`, `-2`, an all-zero column) is
    a UserInputError naming the file, the motif and the first bad cell, not a match score of 0 or -inf."""
    label = getattr(motif, "name", None) or getattr(motif, "matrix_id", None) or f"motif {number}"
    try:
        counts = counts_array(motif)
    except (TypeError, ValueError) as exc:  # rows of different lengths, counts that are not numbers
        raise UserInputError(f"its count matrix is not a table of numbers ({exc})", file=path,
                             record=label) from None
    letters = str(motif.alphabet)
    if counts.ndim != 2 or counts.shape[1] == 0:
        raise UserInputError("the motif has no columns (no counts)", file=path, record=label)
    bad = np.argwhere(~np.isfinite(counts))
    if bad.size:
        row, column = bad[0]
        raise UserInputError(f"column {column + 1}: the count of {letters[row]} is {counts[row, column]} "
                             "(counts must be finite numbers)", file=path, record=label)
    bad = np.argwhere(counts < 0)
    if bad.size:
        row, column = bad[0]
        raise UserInputError(f"column {column + 1}: the count of {letters[row]} is negative "
                             f"({counts[row, column]:g}); counts must be 0 or more", file=path, record=label)
    empty = np.flatnonzero(counts.sum(axis=0) <= 0)
    if empty.size:
        raise UserInputError(f"column {empty[0] + 1} has no counts (every letter 0): each column needs "
                             "at least one count", file=path, record=label)


def _read_meme_minimal(path: PathLike) -> List:
    """Every motif of a MEME minimal file, its counts the probabilities times nsites, unrounded.

    MEME defines a motif's counts as its letter probabilities times `nsites`
    (20 when the line leaves it out); each row is first scaled to sum to 1
    (probabilities printed to 6 decimals rarely add up to exactly 1), so
    every column totals nsites.  Bio.motifs' "minimal" parser rounds
    each of those products to an integer (so one column can total 19 and the
    next 21) and reads DNA and RNA only; this reader keeps them as they are,
    for any alphabet.  Each motif carries `matrix_id` and `name` (the MOTIF
    line's identifier and alternate name, the identifier again if none),
    `num_occurrences` (nsites), `evalue` and `background`.
    """
    from Bio.motifs import Motif

    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not any(line.startswith("MEME version") for line in lines):
        raise ValueError("no 'MEME version' line")
    alphabet = next((line.split("=", 1)[1].strip() for line in lines if line.startswith("ALPHABET=")), None)
    if not alphabet:
        raise ValueError("no 'ALPHABET= LETTERS' line")
    background = _meme_background(lines, alphabet)
    found, identifier, name = [], None, None
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if line.startswith("MOTIF"):
            words = line.split()
            identifier = words[1]
            name = words[2] if len(words) > 2 else identifier
        elif line.startswith("letter-probability matrix"):
            keys = dict(re.findall(r"(\w+)=\s*(\S+)", line))
            width = int(keys["w"]) if "w" in keys else None
            sites = float(keys.get("nsites", 20))
            rows = []
            while index + 1 < len(lines) and (width is None or len(rows) < width):
                values = lines[index + 1].split()
                if len(values) != len(alphabet):
                    break
                rows.append([float(v) for v in values])
                index += 1
            if not rows or (width is not None and len(rows) != width):
                raise ValueError(f"motif {identifier}: expected {width} rows of {len(alphabet)} probabilities, "
                                 f"found {len(rows)}")
            rows = [[value * sites / (sum(row) or 1.0) for value in row] for row in rows]
            counts = {letter: [row[j] for row in rows] for j, letter in enumerate(alphabet)}
            motif = Motif(alphabet, counts=counts)
            motif.matrix_id, motif.name = identifier, name
            motif.num_occurrences = sites
            motif.evalue = float(keys["E"]) if "E" in keys else None
            motif.background = dict(background)
            found.append(motif)
        index += 1
    return found


def _meme_background(lines: List[str], alphabet: str) -> dict:
    """The 'Background letter frequencies' block (letter value pairs), uniform if absent."""
    for index, line in enumerate(lines):
        if line.startswith("Background letter frequencies"):
            words = []
            for following in lines[index + 1:]:
                if not following.strip():
                    break
                words += following.split()
            values = dict(zip(words[0::2], (float(v) for v in words[1::2])))
            if set(values) == set(alphabet):
                return {letter: values[letter] for letter in alphabet}
            raise ValueError(f"the background frequencies name {sorted(values)}, not the letters of {alphabet}")
    return {letter: 1.0 / len(alphabet) for letter in alphabet}


def counts_array(motif) -> np.ndarray:
    """The motif's counts as a (letters, width) float array in its alphabet's order."""
    return np.array([motif.counts[letter] for letter in motif.alphabet], dtype=np.float64)


def meme_minimal_text(motifs_: Sequence, background: Optional[dict] = None) -> str:
    """MEME minimal format: letter-probability matrices with their nsites (so counts survive a round trip).

    nsites is the motif's column total, so probabilities x nsites give the
    counts back (probabilities written to 10 decimals: within 1e-9 of the
    column total).  One nsites per motif cannot hold a matrix whose columns
    total differently (sites with gaps, or counts rounded cell by cell): its
    probabilities are written exactly and nsites is its largest column total.
    The background is `background`, else the one all motifs share (a file
    read back keeps its own), else uniform.  E= is written only for a motif
    that has an E-value (`evalue`, as MEME computes it); lstmcore's motifs
    have a site-enrichment p-value instead, which the format has no field for,
    so their E= is left out (MEME's own readers take the line without it).
    """
    alphabet = str(motifs_[0].alphabet)
    lines = ["MEME version 4", "", f"ALPHABET= {alphabet}", ""]
    if alphabet == "ACGT":
        lines += ["strands: + -", ""]
    frequencies = background or _shared_background(motifs_, alphabet)
    lines += ["Background letter frequencies", " ".join(f"{k} {v:.6g}" for k, v in frequencies.items()), ""]
    for index, motif in enumerate(motifs_, start=1):
        counts = counts_array(motif)
        sites = float(counts.sum(axis=0).max()) if counts.size else 0.0
        identifier = getattr(motif, "matrix_id", None) or motif.name or f"motif{index}"
        alternate = motif.name if motif.name and motif.name != identifier else ""
        evalue = getattr(motif, "evalue", None)
        lines.append(f"MOTIF {identifier} {alternate}".rstrip())
        lines.append("")
        lines.append(f"letter-probability matrix: alength= {len(alphabet)} w= {counts.shape[1]} "
                     f"nsites= {sites:.10g}" + ("" if evalue is None else f" E= {evalue:.3g}"))
        probabilities = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1e-300)
        for column in probabilities.T:
            lines.append(" " + " ".join(f"{value:.10f}" for value in column))
        lines.append("")
    return "\n".join(lines)


def _shared_background(motifs_: Sequence, alphabet: str) -> dict:
    uniform = {letter: 1.0 / len(alphabet) for letter in alphabet}
    backgrounds = [dict(getattr(m, "background", None) or uniform) for m in motifs_]
    first = backgrounds[0]
    if set(first) == set(alphabet) and all(b == first for b in backgrounds):
        return {letter: first[letter] for letter in alphabet}
    return uniform


def formats_holding(motifs_: Sequence) -> List[str]:
    """The formats `write_motifs` can write these motifs in: MEME minimal always; JASPAR and TRANSFAC
    for DNA (Biopython writes and reads them with the letters ACGT only); PFM for one DNA motif."""
    if str(motifs_[0].alphabet) != "ACGT":
        return ["meme"]
    return ["jaspar", "transfac", "meme"] + (["pfm"] if len(motifs_) == 1 else [])


def count_tolerance(fmt: str, motif) -> float:
    """How far a count read back from `fmt` may be from the one written: what the format's text holds.

    JASPAR and PFM print counts with two decimals (0.005); TRANSFAC prints
    them exactly (%.20g); MEME minimal prints probabilities with 10 decimals
    and nsites, so 1e-9 of the column total.
    """
    if fmt in ("jaspar", "pfm"):
        return 0.005 + 1e-9
    if fmt == "transfac":
        return 1e-9
    total = float(counts_array(motif).sum(axis=0).max()) if motif.length else 0.0
    return 1e-9 * max(1.0, total)


def write_motifs(motifs_: Sequence, path: PathLike, fmt: str) -> Path:
    """Write motifs in `fmt` (jaspar, pfm [one motif], transfac, or meme = MEME minimal), atomically."""
    from Bio import motifs

    if fmt not in WRITABLE_FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(WRITABLE_FORMATS)}. Received: fmt={fmt!r}")
    if fmt == "meme":
        text = meme_minimal_text(motifs_)
    elif fmt == "pfm":
        if len(motifs_) != 1:
            raise ValueError(f"the pfm format holds one motif. Received: {len(motifs_)} motifs")
        text = motifs.write(list(motifs_), "pfm")
    else:
        text = motifs.write(list(motifs_), fmt)
    with atomic_open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Path(path)


def write_sites(path: PathLike, name: str, sites: Sequence[Tuple[str, str, int, int]]) -> Path:
    """A JASPAR sites file: one FASTA record per site, the site upper-case inside its lower-case context.

    `sites` holds (record id, sequence, start, stop) with 0-based half-open coordinates.
    """
    with atomic_open(path, "w", encoding="utf-8") as handle:
        for number, (record_id, sequence, start, stop) in enumerate(sites, start=1):
            text = sequence[:start].lower() + sequence[start:stop].upper() + sequence[stop:].lower()
            handle.write(f">{name}\t{record_id}\t{number}\t{start + 1}\n{text}\n")
    return Path(path)
