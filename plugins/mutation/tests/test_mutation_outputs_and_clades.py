"""The VCF read back with pysam, the per-genome summary, and clades from a Nextstrain clades.tsv."""
import numpy as np
import pytest

from lstmcore_mutation.calling import Caller, GenomeResult
from lstmcore_mutation.calls import Call
from lstmcore_mutation.clades import assign_clade, read_clades
from lstmcore_mutation.planting import apply_calls, plant_mutations
from lstmcore_mutation.sequences import clean_genome
from lstmcore_mutation.tables import SUMMARY_HEADER, summary_row
from lstmcore_mutation.vcf import call_from_vcf, read_vcf, vcf_allele, write_vcf


@pytest.fixture(scope="module")
def called(reference):
    """Four genomes: planted mutations (two share a site with different alleles), one N run, one unaligned."""
    rng = np.random.default_rng(5)
    caller = Caller(reference, "mappy", cross_check=False)
    shared = plant_mutations(reference.sequence, rng, substitutions=4, insertions=2, deletions=2)
    other = [Call(c.position, c.type, c.ref, next(b for b in "ACGT" if b not in (c.ref, c.alt)))
             if c.type == "substitution" else c for c in shared]
    genomes = {"g1": apply_calls(reference.sequence, shared), "g2": apply_calls(reference.sequence, other),
               "g3": reference.sequence[:1000] + "N" * 200 + reference.sequence[1200:2500],
               "g4": "ACDEFGHIKL" * 30}
    return [caller.call(clean_genome(name, sequence)) for name, sequence in genomes.items()], shared


def test_vcf_reads_back_with_pysam_with_the_same_records(tmp_path, reference, called):
    results, shared = called
    path = tmp_path / "calls.vcf"
    records = write_vcf(path, reference, results)
    samples, carried, states = read_vcf(path)
    assert samples == ["g1", "g2", "g3", "g4"]
    expected = {(r.genome, c) for r in results for c in r.calls if c.type != "ambiguous"}
    assert carried == expected and len(expected) == 2 * len(shared) >= 10
    assert records == len({vcf_allele(c, reference.sequence)[:2] for _, c in expected})
    substitution = next(c for c in shared if c.type == "substitution")
    assert states[("g4", substitution.position)] == "missing"           # the unaligned genome: no call
    late = [c for c in shared if c.position > 2500]
    if late:
        assert states[("g3", vcf_allele(late[0], reference.sequence)[0])] == "missing"  # past g3's end
    inside = [c for c in shared if c.position < 1000]
    assert states[("g3", vcf_allele(inside[0], reference.sequence)[0])] == "ref"


def test_vcf_alleles_are_anchored_as_vcf_requires(reference):
    ref = reference.sequence
    for call in [Call(101, "deletion", ref[100:103], "-"), Call(101, "insertion", "-", "TT"),
                 Call(1, "deletion", ref[:2], "-"), Call(7, "substitution", ref[6], "A")]:
        position, ref_allele, alt_allele = vcf_allele(call, ref)
        assert ref[position - 1:position - 1 + len(ref_allele)] == ref_allele
        assert call_from_vcf(position, ref_allele, alt_allele) == call


def test_vcf_gz_is_written_compressed_and_reads_back(tmp_path, reference, called):
    path = tmp_path / "calls.vcf.gz"
    write_vcf(path, reference, called[0])
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert read_vcf(path)[0] == ["g1", "g2", "g3", "g4"]


def test_summary_counts_coverage_and_n_fraction(reference, called):
    results = {r.genome: dict(zip(SUMMARY_HEADER, summary_row(r, len(reference)))) for r in called[0]}
    g1, g3, g4 = results["g1"], results["g3"], results["g4"]
    planted = [c.type for c in called[1]]
    assert (g1["substitutions"], g1["insertions"], g1["deletions"], g1["ambiguous"]) == (
        planted.count("substitution"), planted.count("insertion"), planted.count("deletion"), 0)
    assert g1["status"] == "aligned" and g1["n_fraction"] == 0
    assert g3["missing_bases"] == 200 and g3["n_fraction"] == round(200 / 2500, 6)
    assert g3["coverage"] == round((2500 - 200) / 3000, 6) and (g3["ref_start"], g3["ref_end"]) == (1, 2500)
    assert g4["status"] == "invalid" and "not a nucleotide sequence" in g4["reason"] and g4["coverage"] == 0


def _clades_file(tmp_path):
    path = tmp_path / "clades.tsv"
    path.write_text("clade\tgene\tsite\talt\n\nA\tnuc\t100\tREF\nA\tnuc\t200\tREF\n\n"
                    "B\tclade\tA\nB\tnuc\t200\tT\nB\tnuc\t300\tG\nB\tS\t614\tG\n\nC\tclade\tB\nC\tnuc\t400\tA\n")
    return path


def test_clade_table_resolves_inheritance_and_overrides(tmp_path, reference):
    text = _clades_file(tmp_path).read_text()
    ref = reference.sequence
    path = tmp_path / "c.tsv"
    path.write_text(text.replace("100\tREF", f"100\t{ref[99]}").replace("200\tREF", f"200\t{ref[199]}"))
    table = read_clades(path, reference)
    assert table.alleles["B"] == {100: ref[99], 200: "T", 300: "G"}
    assert table.alleles["C"] == {100: ref[99], 200: "T", 300: "G", 400: "A"}
    assert table.depth == {"A": 0, "B": 1, "C": 2} and table.skipped_rows == 1


def test_genomes_get_the_deepest_complete_clade_with_present_absent_missing(tmp_path, reference):
    ref = reference.sequence
    path = tmp_path / "c.tsv"
    other = {site: next(b for b in "GACT" if b != ref[site - 1]) for site in (300, 400)}
    path.write_text(_clades_file(tmp_path).read_text().replace("100\tREF", f"100\t{ref[99]}")
                    .replace("200\tREF", f"200\t{ref[199]}").replace("300\tG", f"300\t{other[300]}")
                    .replace("400\tA", f"400\t{other[400]}"))
    table = read_clades(path, reference)
    b_alleles = table.alleles["B"]

    def genome(calls, missing=()):
        return GenomeResult("g", "f", 3000, ref_start=1, ref_end=3000, calls=calls, missing=list(missing))

    subs = [Call(site, "substitution", ref[site - 1], base) for site, base in sorted(b_alleles.items())
            if base != ref[site - 1]]
    assert assign_clade(genome([]), table, ref).clade == "A"
    b = assign_clade(genome(subs), table, ref)
    assert b.clade == "B" and b.assigned == ["B"] and not b.absent and not b.missing
    c_sub = Call(400, "substitution", ref[399], table.alleles["C"][400])
    assert assign_clade(genome(sorted(subs + [c_sub])), table, ref).clade == "C"
    gap = assign_clade(genome(subs, missing=[(390, 410)]), table, ref)
    assert gap.clade == "B"   # C's site 400 is missing, B is complete
    outside = lambda low, high: [c for c in subs if not low <= c.position <= high]  # noqa: E731
    provisional = assign_clade(genome(outside(295, 305), missing=[(295, 305)]), table, ref)
    assert provisional.clade == "B" and provisional.assigned == [] and provisional.note.startswith("provisional: 1 of 3")
    assert provisional.missing == [f"{table.alleles['B'][300]}300"]
    unknown = assign_clade(genome(outside(195, 305), missing=[(195, 305)]), table, ref)
    assert unknown.clade == "unassigned" and unknown.missing and not unknown.absent
    assert unknown.note.startswith("closest ")


def test_bad_clade_tables_are_named_with_the_line(tmp_path, reference):
    from lstmcore.errors import UserInputError

    path = tmp_path / "c.tsv"
    for text, problem in [("name\tx\n", "first line must be"), ("clade\tgene\tsite\talt\nA\tnuc\tx\tG\n", "line 2"),
                          ("clade\tgene\tsite\talt\nA\tnuc\t99999\tG\n", "past the reference's end"),
                          ("clade\tgene\tsite\talt\nA\tnuc\t5\tZ\n", "alt must be one of"),
                          ("clade\tgene\tsite\talt\nB\tclade\tA\n", "which the table does not define")]:
        path.write_text(text)
        with pytest.raises(UserInputError, match=problem):
            read_clades(path, reference)
