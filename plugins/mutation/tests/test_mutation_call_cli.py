"""`lstmcore mutation call` end to end, and bad input as one line with exit status 2 (others still written)."""
import gzip

import numpy as np
import pytest

from lstmcore_mutation.planting import apply_calls, plant_mutations
from lstmcore_mutation.tables import read_calls
from lstmcore_mutation.vcf import read_vcf

from mutation_testdata import run, write_fasta


@pytest.fixture()
def genomes(tmp_path, reference_sequence):
    rng = np.random.default_rng(11)
    planted = {f"g{i}": plant_mutations(reference_sequence, rng) for i in range(3)}
    path = tmp_path / "genomes.fasta.gz"
    path.write_bytes(gzip.compress("".join(f">{name} sample\n{apply_calls(reference_sequence, calls).lower()}\n"
                                           for name, calls in planted.items()).encode()))
    return path, planted


def test_call_writes_tsv_summary_and_clades(tmp_path, capsys, reference_file, reference_sequence, genomes):
    path, planted = genomes
    site = next(c for c in planted["g0"] if c.type == "substitution")
    clades = tmp_path / "clades.tsv"
    clades.write_text(f"clade\tgene\tsite\talt\nX\tnuc\t{site.position}\t{site.alt}\n"
                      f"Y\tnuc\t{site.position}\t{site.ref}\n")
    out = tmp_path / "calls.tsv"
    status, stdout, _ = run(["-q", "mutation", "call", str(reference_file), str(path), "-o", str(out),
                             "--clades", str(clades)], capsys)
    assert status == 0 and "genomes: 3" in stdout
    rows = read_calls(out)
    assert list(rows[0])[:5] == ["genome", "position", "ref", "alt", "type"]
    for name, calls in planted.items():
        got = [(r["position"], r["type"], r["ref"], r["alt"]) for r in rows if r["genome"] == name]
        assert got == [(c.position, c.type, c.ref, c.alt) for c in calls]
    summary = (tmp_path / "calls.summary.tsv").read_text().splitlines()
    assert len(summary) == 4 and all("\taligned\t" in line and line.endswith("\tagree") for line in summary[1:])
    clade_rows = [line.split("\t") for line in (tmp_path / "calls.clades.tsv").read_text().splitlines()[1:]]
    assert clade_rows[0][:2] == ["g0", "X"] and {row[1] for row in clade_rows[1:]} <= {"X", "Y"}


def test_call_writes_a_multi_sample_vcf(tmp_path, capsys, reference_file, genomes):
    path, planted = genomes
    out = tmp_path / "calls.vcf"
    assert run(["-q", "mutation", "call", str(reference_file), str(path), "-o", str(out)], capsys)[0] == 0
    samples, carried, _ = read_vcf(out)
    assert samples == ["g0", "g1", "g2"]
    assert carried == {(name, c) for name, calls in planted.items() for c in calls}
    assert (tmp_path / "calls.summary.tsv").exists()


def _one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err
    return lines[0]


def test_a_reference_with_two_records_and_no_choice(tmp_path, capsys, reference_sequence, genomes):
    two = write_fasta(tmp_path / "two.fasta", [("segA", reference_sequence), ("segB", reference_sequence[:500])])
    out = tmp_path / "calls.tsv"
    status, _, err = run(["mutation", "call", str(two), str(genomes[0]), "-o", str(out)], capsys)
    line = _one_error_line(err)
    assert status == 2 and str(two) in line and "record segA" in line and "--reference-record" in line
    assert not out.exists()
    status, _, _ = run(["-q", "mutation", "call", str(two), str(genomes[0]), "-o", str(out),
                        "--reference-record", "segA"], capsys)
    assert status == 0 and out.exists()


def test_a_protein_reference_is_refused(tmp_path, capsys, genomes):
    protein = write_fasta(tmp_path / "p.fasta", [("spike", "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSS")])
    status, _, err = run(["mutation", "call", str(protein), str(genomes[0]), "-o", str(tmp_path / "c.tsv")], capsys)
    line = _one_error_line(err)
    assert status == 2 and str(protein) in line and "record spike" in line and "protein" in line


@pytest.mark.parametrize("case", ["empty-genome", "other-virus", "protein-genome"])
def test_a_bad_genome_is_listed_and_the_others_are_written(tmp_path, capsys, reference_file, reference_sequence,
                                                           case):
    good = apply_calls(reference_sequence, plant_mutations(reference_sequence, np.random.default_rng(1)))
    bad = {"empty-genome": "", "other-virus": "".join(np.random.default_rng(2).choice(list("ACGT"), 2500)),
           "protein-genome": "MFVFLVLLPLVSSQCVNLTTRTQLPPAYTNSFTRGVYYPDKVFRSS" * 5}[case]
    genomes = write_fasta(tmp_path / "genomes.fasta", [("good1", good), ("bad", bad), ("good2", reference_sequence)])
    out = tmp_path / "calls.tsv"
    status, _, err = run(["mutation", "call", str(reference_file), str(genomes), "-o", str(out)], capsys)
    line = _one_error_line(err)
    reason = {"empty-genome": "empty genome", "other-virus": "does not align",
              "protein-genome": "not a nucleotide sequence"}[case]
    assert status == 2 and str(genomes) in line and "record bad" in line and reason in line
    assert {r["genome"] for r in read_calls(out)} == {"good1"}        # good2 is the reference: no calls
    summary = {row.split("\t")[0]: row.split("\t") for row in (tmp_path / "calls.summary.tsv").read_text().splitlines()}
    assert summary["bad"][2] in ("invalid", "unaligned") and reason in summary["bad"][3]
    assert summary["good2"][2] == "aligned"


def test_missing_action_and_missing_files_are_one_line(tmp_path, capsys, reference_file):
    status, _, err = run(["mutation"], capsys)
    assert status == 2 and "mutation call" in _one_error_line(err)
    status, _, err = run(["mutation", "call", str(reference_file), str(tmp_path / "none.fa"), "-o",
                          str(tmp_path / "c.tsv")], capsys)
    assert status == 2 and "none.fa" in _one_error_line(err)
    text = write_fasta(tmp_path / "notes.fasta", [("g", "ACGT")])
    text.write_text("my genomes\n" + text.read_text())
    status, _, err = run(["mutation", "call", str(reference_file), str(text), "-o", str(tmp_path / "c.tsv")], capsys)
    line = _one_error_line(err)
    assert status == 2 and "notes.fasta: is not FASTA: line 1 comes before the first '>' header" in line
    assert not (tmp_path / "c.tsv").exists() and not (tmp_path / "c.summary.tsv").exists()


def test_an_output_never_replaces_an_input(tmp_path, capsys, reference_file, genomes):
    clades = tmp_path / "calls.clades.tsv"
    clades.write_text("clade\tgene\tsite\talt\nX\tnuc\t5\tA\n")
    before = clades.read_text()
    status, _, err = run(["mutation", "call", str(reference_file), str(genomes[0]), "-o", str(tmp_path / "calls.tsv"),
                          "--clades", str(clades)], capsys)
    assert status == 2 and "is an input of this run" in _one_error_line(err) and clades.read_text() == before


# --- outputs that cannot be written (issue 20) ------------------------------------------------------------

def test_calls_cannot_go_to_standard_output(tmp_path, capsys, reference_file, genomes, monkeypatch):
    """The calls come with OUT.summary.tsv beside them: `-o -` is one line, and no file named '-' appears."""
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["mutation", "call", str(reference_file), str(genomes[0]), "-o", "-"], capsys)
    line = _one_error_line(err)
    assert status == 2 and line == "error: -: this output cannot go to standard output ('-'): name a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genomes.fasta.gz", "ref.fasta"]


def test_an_output_folder_that_is_not_writable_is_refused_before_reading(tmp_path, capsys, reference_file, genomes,
                                                                        monkeypatch):
    import os

    folder = tmp_path / "readonly"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(folder)
                        else real_access(path, mode))  # a read-only file system, as access(2) reports it
    read = []
    monkeypatch.setattr("lstmcore_mutation.call_workflow.read_reference", lambda *a: read.append(a))
    status, out, err = run(["mutation", "call", str(reference_file), str(genomes[0]), "-o", str(folder / "c.tsv")],
                           capsys)
    assert status == 2 and _one_error_line(err) == f"error: {folder / 'c.tsv'}: cannot write the output: folder " \
                                                   f"'{folder}' is not writable"
    assert read == [] and list(folder.iterdir()) == []


def test_a_summary_that_would_replace_a_folder_is_refused_before_any_work(tmp_path, capsys, reference_file, genomes):
    (tmp_path / "calls.summary.tsv").mkdir()
    output = tmp_path / "calls.tsv"
    status, out, err = run(["mutation", "call", str(reference_file), str(genomes[0]), "-o", str(output)], capsys)
    assert status == 2 and "calls.summary.tsv: cannot write the output: it is a folder" in _one_error_line(err)
    assert not (tmp_path / "calls.tsv").exists()


def test_standard_input_for_reference_and_genomes_is_one_line(tmp_path, capsys):
    status, out, err = run(["mutation", "call", "-", "-", "-o", str(tmp_path / "c.tsv")], capsys)
    assert status == 2 and _one_error_line(err) == "error: -: standard input ('-') is given twice; it can be read " \
                                                   "only once"
