"""Clades from their defining alleles, in Nextstrain's clades.tsv form.

The table has rows `clade gene site alt`; gene `nuc` is a nucleotide allele
at a 1-based reference position, and a row `20A clade 19A` means 20A
inherits all of 19A's alleles (its own rows override an inherited one at the
same site: 20A's T14408 replaces 19A's C14408).  Rows of other genes (amino
acids) are kept out and counted, since the calls are nucleotide calls.

For each genome and each clade, every defining allele is

- present: the genome's base there is the allele (a reference-state allele
  such as 19A's C8782 is present when the genome holds the reference base);
- absent: the genome holds another base there (or a deletion);
- missing: no base call there (outside the aligned span, N, an IUPAC code).

A genome is assigned the clades all of whose alleles are present; its clade
is the deepest of them (the longest inheritance chain, then the most
alleles), as Nextstrain's assignment reads, and `assigned_clades` lists
them all.  With none complete, a clade with no absent allele and more
present than missing ones is given provisionally (the note says how many
are missing: an N at 8782 should not hide a 20A genome); otherwise the
clade is "unassigned", and the closest clade with its absent and missing
alleles says why.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Tuple

from lstmcore.errors import UserInputError

from .calling import GenomeResult
from .sequences import Reference

__all__ = ["CladeTable", "read_clades", "CladeCall", "assign_clade", "CLADE_HEADER", "clade_row"]

CLADE_HEADER = ["genome", "clade", "assigned_clades", "present", "absent", "missing", "note"]


@dataclass
class CladeTable:
    """Each clade's full set of defining alleles {site: base}, and its depth in the inheritance tree."""

    alleles: Dict[str, Dict[int, str]]
    depth: Dict[str, int]
    skipped_rows: int = 0


def read_clades(path: os.PathLike, reference: Optional[Reference] = None) -> CladeTable:
    """Read clades.tsv (header `clade gene site alt`), resolving `clade` inheritance rows."""
    own: Dict[str, Dict[int, str]] = {}
    parent: Dict[str, str] = {}
    skipped = 0
    for line_number, row in _rows(path):
        clade, gene, site, alt = (row + ["", "", "", ""])[:4]
        own.setdefault(clade, {})
        if gene == "clade":
            parent[clade] = site
        elif gene == "nuc":
            own[clade][_site(site, path, line_number, reference)] = _base(alt, path, line_number)
        else:
            skipped += 1
    for clade, base in parent.items():
        if base not in own:
            raise UserInputError(f"clade {clade} inherits from {base!r}, which the table does not define",
                                 file=path, record=f"line {_line_of(path, clade)}")
    alleles = {clade: _resolved(clade, own, parent, set()) for clade in own}
    depth = {clade: _depth(clade, parent) for clade in own}
    return CladeTable(alleles, depth, skipped)


def _rows(path: os.PathLike):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle, delimiter="\t"))
    except FileNotFoundError:
        raise UserInputError("no such file", file=path) from None
    except UnicodeDecodeError:
        raise UserInputError("is not a text file", file=path) from None
    if not lines or [c.strip().lower() for c in lines[0][:4]] != ["clade", "gene", "site", "alt"]:
        raise UserInputError("is not a clades table: the first line must be 'clade gene site alt' (tab-separated)",
                             file=path)
    for number, row in enumerate(lines[1:], start=2):
        row = [cell.strip() for cell in row]
        if any(row) and not row[0].startswith("#"):
            if len(row) < 3:
                raise UserInputError("a row needs clade, gene, site (and alt)", file=path, record=f"line {number}")
            yield number, row


def _site(text: str, path, line_number: int, reference: Optional[Reference]) -> int:
    if not text.isdigit() or int(text) < 1:
        raise UserInputError(f"site must be a positive integer. Received: {text!r}", file=path,
                             record=f"line {line_number}")
    if reference is not None and int(text) > len(reference):
        raise UserInputError(f"site {text} is past the reference's end ({len(reference)} nt)", file=path,
                             record=f"line {line_number}")
    return int(text)


def _base(text: str, path, line_number: int) -> str:
    if text.upper() not in ("A", "C", "G", "T", "-"):
        raise UserInputError(f"alt must be one of A, C, G, T or '-'. Received: {text!r}", file=path,
                             record=f"line {line_number}")
    return text.upper()


def _line_of(path, clade: str) -> int:
    with open(path, encoding="utf-8") as handle:
        return next((i for i, line in enumerate(handle, 1) if line.startswith(clade + "\t")), 0)


def _resolved(clade: str, own, parent, seen) -> Dict[int, str]:
    if clade in seen:
        raise UserInputError(f"clade {clade} inherits from itself (a cycle)", record=clade)
    inherited = _resolved(parent[clade], own, parent, seen | {clade}) if clade in parent else {}
    return {**inherited, **own[clade]}


def _depth(clade: str, parent: Mapping[str, str]) -> int:
    return 1 + _depth(parent[clade], parent) if clade in parent else 0


@dataclass
class CladeCall:
    """A genome's clade and, for that clade (or the closest one), which alleles are present, absent, missing."""

    genome: str
    clade: str
    assigned: List[str]
    present: List[str]
    absent: List[str]
    missing: List[str]
    note: str = ""


def genome_bases(result: GenomeResult, reference: str):
    """A function site -> the genome's base there ('-' deleted, None no base call)."""
    substituted = {c.position: c.alt for c in result.calls if c.type == "substitution"}
    deleted = {p for c in result.calls if c.type == "deletion" for p in range(c.position, c.position + len(c.ref))}

    def base(site: int) -> Optional[str]:
        if site in substituted:
            return substituted[site]
        if site in deleted:
            return "-"
        return None if result.unknown_at(site) else reference[site - 1]
    return base


def _states(alleles: Mapping[int, str], base) -> Tuple[List[str], List[str], List[str]]:
    present, absent, missing = [], [], []
    for site, alt in sorted(alleles.items()):
        found = base(site)
        label = f"{alt}{site}"
        (missing if found is None else present if found == alt else absent).append(
            label if found is None or found == alt else f"{label}({found})")
    return present, absent, missing


def assign_clade(result: GenomeResult, table: CladeTable, reference: str) -> CladeCall:
    """The deepest clade whose alleles are all present; else, provisionally, the deepest clade with none
    absent and more present than missing (an N at one defining site, as Nextclade tolerates); else
    'unassigned' with the closest clade's reasons."""
    if not result.aligned:
        return CladeCall(result.genome, "unaligned", [], [], [], [], result.reason)
    base = genome_bases(result, reference)
    states = {clade: _states(alleles, base) for clade, alleles in table.alleles.items()}
    rank = lambda c: (table.depth[c], len(table.alleles[c]))  # noqa: E731 - the order of assignment
    complete = [c for c, (present, absent, missing) in states.items() if not absent and not missing and present]
    if complete:
        clade = max(complete, key=rank)
        return CladeCall(result.genome, clade, sorted(complete, key=rank), *states[clade])
    possible = [c for c, (present, absent, missing) in states.items() if not absent and len(present) > len(missing)]
    if possible:
        clade = max(possible, key=rank)
        present, absent, missing = states[clade]
        return CladeCall(result.genome, clade, [], present, absent, missing,
                         f"provisional: {len(missing)} of {len(table.alleles[clade])} alleles missing (no base call)")
    closest = max(states, key=lambda c: (len(states[c][0]) - len(states[c][1]) - len(states[c][2]), rank(c)))
    present, absent, missing = states[closest]
    why = "alleles missing (no base call)" if not absent else "alleles of another state"
    return CladeCall(result.genome, "unassigned", [], present, absent, missing, f"closest {closest}: {why}")


def clade_row(call: CladeCall) -> List:
    return [call.genome, call.clade, ",".join(call.assigned), ",".join(call.present), ",".join(call.absent),
            ",".join(call.missing), call.note]
