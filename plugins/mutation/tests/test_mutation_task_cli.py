"""The `mutation` task through `lstmcore train / predict / evaluate / demo`."""
import json

import pytest

from lstmcore.cli import main
from lstmcore_mutation.tables import read_calls
from lstmcore_mutation.vcf import read_vcf

from mutation_testdata import run, write_fasta


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tagger trained briefly on the demo data."""
    from lstmcore import registry

    folder = tmp_path_factory.mktemp("tagger")
    data = registry.tasks.get("mutation").make_example_data(folder / "data", seed=1)
    status = main(["-q", "train", "mutation", *map(str, data.train), "-o", str(folder / "m.lstm"), "--epochs", "6",
                   "--threads", "1"])
    assert status == 0
    return folder / "m.lstm", data


def test_demo_checks_itself_against_what_it_planted(tmp_path, capsys):
    status, out, _ = run(["-q", "demo", "mutation", "--out", str(tmp_path), "--threads", "1"], capsys)
    assert status == 0 and "alignment exact" in out
    check = json.loads((tmp_path / "planted_check.json").read_text())
    assert check["alignment_exact"] and check["alignment"]["f1"] == 1.0 and check["planted"] > 200
    assert check["tagger"]["substitution_f1"] >= 0.95
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["substitution_f1"] >= 0.95 and metrics["tagger_genomes_per_second"] > 0


def test_evaluate_scores_the_tagger_against_the_alignment_calls(trained, capsys):
    model, data = trained
    status, out, _ = run(["evaluate", str(model), *map(str, data.evaluate), "--json", "--threads", "1"], capsys)
    metrics = json.loads(out)
    assert status == 0 and metrics["genomes"] == 30
    assert metrics["substitution_precision"] >= 0.95 and metrics["substitution_recall"] >= 0.95
    assert 0.9 <= metrics["position_auprc"] <= 1.0
    assert {"alignment_genomes_per_second", "tagger_genomes_per_second", "indel_f1"} <= set(metrics)


def test_predict_writes_calls_with_probabilities_as_tsv_and_vcf(trained, tmp_path, capsys):
    from pysam import bcftools

    model, data = trained
    tsv, vcf = tmp_path / "calls.tsv", tmp_path / "calls.vcf"
    assert run(["-q", "predict", str(model), str(data.predict[0]), "-o", str(tsv)], capsys)[0] == 0
    rows = read_calls(tsv)
    assert list(rows[0]) == ["genome", "position", "ref", "alt", "type", "probability"]
    assert all(0.5 <= float(r["probability"]) <= 1 for r in rows)
    assert run(["-q", "predict", str(model), str(data.predict[0]), "-o", str(vcf)], capsys)[0] == 0
    samples, carried, _ = read_vcf(vcf)
    assert samples == [f"predict-{i}" for i in range(10)]
    assert {(g, (p, t)) for g, c in carried for p, t in [(c.position, c.type)]} == \
        {(r["genome"], (r["position"], r["type"])) for r in rows}
    import pysam

    with pysam.VariantFile(str(vcf)) as handle:
        records = [(record.pos, record.ref, record.alts) for record in handle]
    listed = bcftools.query("-f", "%POS\t%REF\t%ALT\n", str(vcf)).splitlines()
    assert listed == [f"{pos}\t{ref}\t{','.join(alts)}" for pos, ref, alts in records] and records


def test_evaluate_refuses_another_reference(trained, tmp_path, capsys):
    model, data = trained
    other = write_fasta(tmp_path / "other.fasta", [("other", "ACGT" * 500)])
    status, _, err = run(["evaluate", str(model), str(other), str(data.evaluate[1])], capsys)
    assert status == 2 and "record other: is not the reference the model was trained on" in err
    assert len(err.strip().splitlines()) == 1


def test_train_needs_the_reference_and_genomes(tmp_path, capsys, reference_file):
    status, _, err = run(["train", "mutation", str(reference_file), "-o", str(tmp_path / "m.lstm")], capsys)
    assert status == 2 and "give the reference first, then the genome files" in err
    junk = write_fasta(tmp_path / "junk.fasta", [("x", "ACGT" * 300)])
    status, _, err = run(["train", "mutation", str(reference_file), str(junk), "-o", str(tmp_path / "m.lstm")],
                         capsys)
    assert status == 2 and "no genome aligns to the reference" in err and str(junk) in err


def test_validation_holds_out_whole_genomes():
    import numpy as np

    from lstmcore_mutation.task import MutationTask, TaggerEncoded

    groups = np.repeat(np.arange(10), 3)
    encoded = TaggerEncoded(np.zeros((30, 4, 17), dtype=np.float32), groups=groups, weights=np.ones((30, 4)))
    train, held = MutationTask().validation_split(encoded, 0.2)
    assert len(held) == 6 and not set(groups[train]) & set(groups[held])
    assert encoded.subset(held).weights.shape == (6, 4)
    assert len(MutationTask().validation_split(encoded, 0.0)[1]) == 0


def test_predict_names_genomes_it_cannot_tag(trained, tmp_path, capsys):
    import numpy as np

    model, data = trained
    genomes = data.predict[0].read_text()
    other = "".join(np.random.default_rng(4).choice(list("ACGT"), 3000))
    bad = write_fasta(tmp_path / "mixed.fasta", [("empty", ""), ("other-virus", other)])
    bad.write_text(bad.read_text() + genomes)
    out = tmp_path / "calls.tsv"
    status, _, err = run(["-q", "predict", str(model), str(bad), "-o", str(out)], capsys)
    assert status == 2
    # two lines: the records not tagged, named once, then the error with the first one's reason
    assert len(err.splitlines()) == 2 and "warning: " not in err.splitlines()[1]
    assert err.splitlines()[0] == "warning: 2 records not tagged: empty, other-virus"
    last = err.splitlines()[-1]
    assert last.startswith(f"error: {bad}: record empty: not tagged: empty genome") and last.endswith(f"rows are in {out}")
    assert "(and 1 more record(s)): not predicted; the other records' " in last
    assert {r["genome"] for r in read_calls(out)} <= {f"predict-{i}" for i in range(10)}
    assert read_calls(out)                         # the other genomes' calls are written


@pytest.mark.parametrize("output", ["calls.tsv", "calls.vcf"])
def test_predict_that_tags_no_genome_leaves_the_earlier_output_untouched(trained, tmp_path, capsys, output):
    import numpy as np

    model, data = trained
    out = tmp_path / output
    assert run(["-q", "predict", str(model), str(data.predict[0]), "-o", str(out)], capsys)[0] == 0
    before = out.read_bytes()
    rng = np.random.default_rng(9)
    others = write_fasta(tmp_path / "others.fasta", [(f"other-{i}", "".join(rng.choice(list("ACGT"), 2000)))
                                                      for i in range(3)])
    status, stdout, err = run(["predict", str(model), str(others), "-o", str(out)], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {others}: record other-0: not tagged: only ")
    assert err.rstrip().endswith("none of the 3 records could be tagged, so nothing is written")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, others.name])   # no temporary left
