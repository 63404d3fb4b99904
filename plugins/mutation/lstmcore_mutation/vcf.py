"""A multi-sample VCF 4.2 of the calls, written and read with pysam (what bcftools reads).

One record per reference position and REF allele, the ALT alleles of every
genome that carries one; each genome is a haploid sample:

- GT = the index of its allele, 0 where it holds the reference base, and
  '.' where it has no base call (outside its aligned span, an N, an IUPAC
  code, or inside one of its own deletions); ambiguity codes are never
  alleles;
- indels in VCF's form: the reference base before them as the anchor
  (a deletion at the first base takes the base after it), so a deletion of
  `GTT` at 11288 is `POS=11287 REF=TGTT ALT=T`;
- with probabilities (the tagger's calls), FORMAT/PR holds each genome's.

All genomes are samples, so the VCF is written after the last genome is
called; the calls are small (tens per genome) even for 100,000 genomes.
"""
from __future__ import annotations

import bisect
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Set, Tuple

from lstmcore.io.atomic import atomic_path

from .calling import GenomeResult
from .calls import Call
from .sequences import Reference

__all__ = ["write_vcf", "read_vcf", "vcf_allele", "call_from_vcf"]

VcfKey = Tuple[int, str]   # (POS, REF)


def vcf_allele(call: Call, reference: str) -> Tuple[int, str, str]:
    """(POS, REF, ALT) of a substitution, insertion or deletion in VCF's anchored form."""
    if call.type == "substitution":
        return call.position, call.ref, call.alt
    if call.type == "insertion":
        anchor = reference[call.position - 1]
        return call.position, anchor, anchor + call.alt
    if call.position > 1:
        anchor = reference[call.position - 2]
        return call.position - 1, anchor + call.ref, anchor
    after = reference[len(call.ref)]
    return 1, call.ref + after, after


def call_from_vcf(position: int, ref: str, alt: str) -> Call:
    """The inverse of `vcf_allele`."""
    if len(ref) == len(alt) == 1:
        return Call(position, "substitution", ref, alt)
    if len(alt) > len(ref):
        return Call(position, "insertion", "-", alt[1:])
    if alt == ref[0]:
        return Call(position + 1, "deletion", ref[1:], "-")
    return Call(position, "deletion", ref[:-1], "-")


@dataclass
class _Sample:
    """What one genome says at each VCF record: its alleles, and where it has no base call."""

    alleles: Dict[Tuple[int, str], Tuple[str, Optional[float]]]
    unknown_starts: List[int]
    unknown_ends: List[int]
    aligned: bool

    def no_call_at(self, position: int) -> bool:
        if not self.aligned:
            return True
        i = bisect.bisect_right(self.unknown_starts, position) - 1
        return i >= 0 and position <= self.unknown_ends[i]


def _sample(result: GenomeResult, reference: str, probabilities: Mapping[Call, float]) -> _Sample:
    alleles, unknown = {}, list(result.missing)
    for call in result.calls:
        if call.type == "ambiguous":
            unknown.append((call.position, call.position))
            continue
        pos, ref, alt = vcf_allele(call, reference)
        alleles[(pos, ref)] = (alt, probabilities.get(call))
        if call.type == "deletion":
            unknown.append((call.position, call.position + len(call.ref) - 1))
    if result.aligned:
        unknown += [(1, result.ref_start - 1), (result.ref_end + 1, len(reference))]
    unknown = sorted((s, e) for s, e in unknown if s <= e)
    return _Sample(alleles, [s for s, _ in unknown], [e for _, e in unknown], result.aligned)


def write_vcf(path: os.PathLike, reference: Reference, results: Sequence[GenomeResult],
              probabilities: Optional[Mapping[str, Mapping[Call, float]]] = None) -> int:
    """Write the calls of `results` (every genome a sample) to `path` (.vcf or .vcf.gz); return the records."""
    import pysam

    probabilities = probabilities or {}
    samples = {r.genome: _sample(r, reference.sequence, probabilities.get(r.genome, {})) for r in results}
    records: Dict[VcfKey, List[str]] = defaultdict(list)
    for sample in samples.values():
        for key, (alt, _) in sample.alleles.items():
            if alt not in records[key]:
                records[key].append(alt)
    header = _header(reference, list(samples), with_probability=bool(probabilities))
    mode = "wz" if str(path).endswith(".gz") else "w"
    with atomic_path(path) as temporary:
        with pysam.VariantFile(temporary, mode, header=header) as out:
            for (pos, ref) in sorted(records, key=lambda k: (k[0], len(k[1]), k[1])):
                out.write(_record(out, reference.id, pos, ref, sorted(records[(pos, ref)]), samples,
                                  bool(probabilities)))
    return len(records)


def _header(reference: Reference, samples: List[str], with_probability: bool):
    import pysam

    header = pysam.VariantHeader()
    header.add_line("##source=lstmcore-mutation")
    header.contigs.add(reference.id, length=len(reference))
    header.add_meta("FORMAT", items=[("ID", "GT"), ("Number", 1), ("Type", "String"),
                                     ("Description", "Haploid genotype: allele index, '.' = no base call")])
    if with_probability:
        header.add_meta("FORMAT", items=[("ID", "PR"), ("Number", 1), ("Type", "Float"),
                                         ("Description", "Tagger probability that the site is mutated")])
    for name in samples:
        header.add_sample(name)
    return header


def _record(out, contig: str, pos: int, ref: str, alts: List[str], samples: Dict[str, _Sample],
            with_probability: bool):
    record = out.new_record(contig=contig, start=pos - 1, alleles=(ref, *alts))
    for name, sample in samples.items():
        carried = sample.alleles.get((pos, ref))
        fields = record.samples[name]
        if carried is not None:
            fields["GT"] = (alts.index(carried[0]) + 1,)
            if with_probability and carried[1] is not None:
                fields["PR"] = float(carried[1])
        elif sample.no_call_at(pos if len(ref) == 1 else pos + 1):
            fields["GT"] = (None,)
        else:
            fields["GT"] = (0,)
    return record


def read_vcf(path: os.PathLike) -> Tuple[List[str], Set[Tuple[str, Call]], Dict[Tuple[str, int], str]]:
    """(samples, {(sample, call)}, {(sample, POS): 'ref'|'missing'}) read back with pysam."""
    import pysam

    carried, states = set(), {}
    with pysam.VariantFile(str(Path(path))) as vcf:
        samples = list(vcf.header.samples)
        for record in vcf:
            for name in samples:
                gt = record.samples[name]["GT"][0]
                if gt is None:
                    states[(name, record.pos)] = "missing"
                elif gt == 0:
                    states[(name, record.pos)] = "ref"
                else:
                    carried.add((name, call_from_vcf(record.pos, record.ref, record.alleles[gt])))
    return samples, carried, states
