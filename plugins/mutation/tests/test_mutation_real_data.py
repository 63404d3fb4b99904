"""Small subsets of the real data: SARS-CoV-2 calls and clades, influenza HA cross-checks, the VCF with bcftools."""
from itertools import islice

import pytest

from lstmcore_mutation.calling import Caller
from lstmcore_mutation.clades import assign_clade, read_clades
from lstmcore_mutation.sequences import iter_genomes, read_reference


@pytest.fixture()
def ncov(real_data):
    folder = real_data / "sars_cov_2_nextstrain_ncov"
    reference = read_reference(folder / "reference_seq.fasta")
    genomes = list(islice(iter_genomes([folder / "example_sequences.fasta.gz"]), 25))
    return folder, reference, genomes


def test_sars_cov_2_calls_and_clades_on_the_first_genomes(ncov):
    folder, reference, genomes = ncov
    assert reference.id == "MN908947" and len(reference) == 29903
    caller = Caller(reference, "auto")
    assert caller.primary_name == "mappy" and not caller.check
    results = {g.id: caller.call(g) for g in genomes}
    assert all(r.aligned for r in results.values())
    table = read_clades(folder / "clades.tsv", reference)
    clades = {name: assign_clade(r, table, reference.sequence) for name, r in results.items()}
    # The reference genome itself: no calls, clade 19A (reference states C8782, C14408).
    wuhan = results["Wuhan/Hu-1/2019"]
    assert wuhan.calls == [] and clades["Wuhan/Hu-1/2019"].clade == "19A"
    for name, clade in clades.items():
        calls = {(c.position, c.alt) for c in results[name].calls if c.type == "substitution"}
        if clade.clade == "19B":
            assert {(8782, "T"), (28144, "C")} <= calls
        if clade.clade.startswith("20"):
            assert {(14408, "T"), (23403, "G")} <= calls       # D614G and the 20A polymerase allele
    assert {c.clade for c in clades.values()} <= {"19A", "19B", "20A", "20B", "20C", "unassigned"}


def test_windowed_pairwise_agrees_with_mappy_on_long_genomes(ncov):
    _, reference, genomes = ncov
    caller = Caller(reference, "mappy", cross_check=True)
    checks = [caller.call(g).cross_check for g in genomes[:3]]
    assert checks == ["agree"] * 3


@pytest.mark.parametrize("virus", ["flu_h3n2_ha", "flu_h1n1pdm_ha"])
def test_mappy_and_pairwise_agree_on_every_call_of_influenza_ha(real_data, virus):
    folder = real_data / "nextclade_examples" / virus
    reference = read_reference(folder / "reference.fasta")
    caller = Caller(reference, "auto")
    assert caller.primary_name == "pairwise" and caller.check
    results = [caller.call(g) for g in islice(iter_genomes([folder / "sequences.fasta"]), 12)]
    assert all(r.aligned for r in results) and sum(len(r.calls) for r in results) > 300
    assert [r.cross_check for r in results] == ["agree"] * 12


def test_sars_cov_2_vcf_reads_back_with_bcftools(real_data, tmp_path, capsys):
    from pysam import bcftools

    from lstmcore.cli import main

    folder = real_data / "sars_cov_2_nextstrain_ncov"
    subset = tmp_path / "subset.fasta"
    subset.write_text("".join(f">{g.id}\n{g.sequence}\n" for g in
                              islice(iter_genomes([folder / "example_sequences.fasta.gz"]), 10)))
    out = tmp_path / "calls.vcf.gz"
    assert main(["-q", "mutation", "call", str(folder / "reference_seq.fasta"), str(subset), "-o", str(out)]) == 0
    capsys.readouterr()
    rows = bcftools.query("-f", "%POS\t%REF\t%ALT\n", str(out)).splitlines()
    import pysam

    with pysam.VariantFile(str(out)) as vcf:
        assert len(vcf.header.samples) == 10 and len(rows) == sum(1 for _ in vcf)
    assert "23403\tA\tG" in rows and "8782\tC\tT" in rows
