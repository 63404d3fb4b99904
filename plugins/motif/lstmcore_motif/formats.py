"""Motif files in and out through Bio.motifs: JASPAR, PFM, TRANSFAC, MEME (XML and minimal) and JASPAR sites.

Bio.motifs reads all of these; it writes JASPAR, PFM and TRANSFAC.  MEME's
minimal text format (what MEME suite tools such as Tomtom and FIMO read) is
written here and read back by Bio.motifs' "minimal" parser; a JASPAR sites
file (FASTA, each site upper-case in lower-case context) is written here and
read back by its "sites" parser.  A file that cannot be parsed is a
`UserInputError` naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from lstmcore.errors import UserInputError
from lstmcore.io.atomic import atomic_open

__all__ = ["read_motifs", "write_motifs", "meme_minimal_text", "write_sites", "format_of", "counts_array",
           "WRITABLE_FORMATS"]

PathLike = Union[str, "os.PathLike[str]"]
WRITABLE_FORMATS = ("jaspar", "pfm", "transfac", "meme")
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
        if fmt == "minimal" and not _is_nucleotide_meme(path):
            found = _read_protein_meme_minimal(path)
        else:
            with open(path, encoding="utf-8") as handle:
                found = list(motifs.parse(handle, fmt))
    except Exception as exc:  # Bio.motifs raises many kinds for a malformed file
        raise UserInputError(f"is not a valid {fmt} motif file ({type(exc).__name__}: {exc})", file=path) from None
    if not found:
        raise UserInputError(f"holds no motif (read as {fmt})", file=path)
    return found


def _is_nucleotide_meme(path: PathLike) -> bool:
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith("ALPHABET"):
            return line.split("=", 1)[1].strip().upper() in ("ACGT", "ACGU")
    return True


def _read_protein_meme_minimal(path: PathLike) -> List:
    """MEME minimal files of protein motifs (Bio.motifs' "minimal" parser reads DNA and RNA only).

    Counts are the probabilities times nsites, as MEME defines them.
    """
    from Bio.motifs import Motif

    lines = Path(path).read_text(encoding="utf-8").splitlines()
    alphabet = next(line.split("=", 1)[1].strip() for line in lines if line.startswith("ALPHABET"))
    found, name, identifier = [], None, None
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if line.startswith("MOTIF"):
            words = line.split()
            identifier, name = words[1], (words[2] if len(words) > 2 else None)
        elif line.startswith("letter-probability matrix"):
            words = line.replace("=", " = ").split()
            width = int(words[words.index("w") + 2])
            sites = float(words[words.index("nsites") + 2])
            rows = [[float(v) for v in lines[index + 1 + k].split()] for k in range(width)]
            counts = {letter: [row[j] * sites for row in rows] for j, letter in enumerate(alphabet)}
            motif = Motif(alphabet, counts=counts)
            motif.name, motif.matrix_id = name, identifier
            found.append(motif)
            index += width
        index += 1
    return found


def counts_array(motif) -> np.ndarray:
    """The motif's counts as a (letters, width) float array in its alphabet's order."""
    return np.array([motif.counts[letter] for letter in motif.alphabet], dtype=np.float64)


def meme_minimal_text(motifs_: Sequence, background: Optional[dict] = None) -> str:
    """MEME minimal format: letter-probability matrices with their nsites (so counts survive a round trip)."""
    alphabet = str(motifs_[0].alphabet)
    lines = ["MEME version 4", "", f"ALPHABET= {alphabet}", ""]
    if alphabet in ("ACGT", "ACGU"):
        lines += ["strands: + -", ""]
    frequencies = background or {letter: 1.0 / len(alphabet) for letter in alphabet}
    lines += ["Background letter frequencies", " ".join(f"{k} {v:.6g}" for k, v in frequencies.items()), ""]
    for index, motif in enumerate(motifs_, start=1):
        counts = counts_array(motif)
        sites = float(counts[:, 0].sum()) if counts.size else 0.0
        name = motif.name or f"motif{index}"
        identifier = getattr(motif, "matrix_id", None) or f"MOTIF{index}"
        lines.append(f"MOTIF {identifier} {name}".rstrip())
        lines.append("")
        lines.append(f"letter-probability matrix: alength= {len(alphabet)} w= {counts.shape[1]} "
                     f"nsites= {sites:.10g} E= 0")
        probabilities = counts / np.maximum(counts.sum(axis=0, keepdims=True), 1e-300)
        for column in probabilities.T:
            lines.append(" " + " ".join(f"{value:.10f}" for value in column))
        lines.append("")
    return "\n".join(lines)


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
