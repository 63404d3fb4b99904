"""PWM writer/reader round trips through Bio.motifs; variable-length batches; metrics and CV."""
import numpy as np
import pytest
from Bio import motifs
from Bio.Seq import Seq

from lstmcore_motif.formats import counts_array, read_motifs, write_motifs, write_sites
from lstmcore_motif.similarity import compare_motifs, consensus_motif


@pytest.mark.parametrize("fmt,read_as", [("jaspar", "jaspar"), ("pfm", "pfm"), ("transfac", "transfac"),
                                         ("meme", "minimal")])
def test_pwm_writer_and_reader_round_trip_through_bio_motifs(tmp_path, fmt, read_as):
    motif = motifs.create([Seq(s) for s in ["CACGTG", "CACGTG", "CATGTG", "GACGTG", "CACGTA"]])
    path = write_motifs([motif], tmp_path / f"m.{fmt}", fmt)
    back = read_motifs(path, read_as)
    assert len(back) == 1
    np.testing.assert_allclose(counts_array(back[0]), counts_array(motif), atol=1e-6)


def test_sites_file_reads_back_as_the_same_sites(tmp_path):
    sites = [("r1", "aaCACGTGtt", 2, 8), ("r2", "CATGTGgggg", 0, 6)]
    path = write_sites(tmp_path / "m.sites", "m", sites)
    back = read_motifs(path, "sites")[0]
    assert [str(s) for s in back.alignment.sequences] == ["CACGTG", "CATGTG"]


def test_real_biopython_motif_files_round_trip(tmp_path, real_data):
    for name, fmt in [("Arnt.sites", "sites"), ("SRF.pfm", "pfm"), ("transfac.dat", "transfac"),
                      ("meme.INO_up800.classic.oops.xml", "meme")]:
        originals = read_motifs(real_data / "biopython_motifs" / name, fmt)
        for target, read_as in [("jaspar", "jaspar"), ("transfac", "transfac"), ("meme", "minimal")]:
            back = read_motifs(write_motifs(originals, tmp_path / f"{name}.{target}", target), read_as)
            for a, b in zip(originals, back):
                np.testing.assert_allclose(counts_array(a), counts_array(b), atol=1e-6)


def test_pearson_match_finds_offset_and_reverse_strand():
    known = consensus_motif("TTCACGTGAA")
    assert compare_motifs(known, consensus_motif("CACGTG")).correlation == pytest.approx(1.0)
    match = compare_motifs(consensus_motif("TTGACA"), consensus_motif("TGTCAA"))
    assert match.strand == "-" and match.correlation == pytest.approx(1.0)


def test_variable_length_batch_predicts_as_one_sequence_at_a_time(demo_model):
    loaded, data = demo_model
    records = loaded.task.read(data.predict, {}, labelled=False)[:12]
    assert len({len(r.sequence) for r in records}) > 1
    state = loaded.state
    batch = loaded.task.predict(loaded.model, loaded.task.encode(records, state, labelled=False), state)
    single = np.concatenate([loaded.task.predict(loaded.model, loaded.task.encode([r], state, labelled=False), state)
                             for r in records])
    np.testing.assert_allclose(batch, single, atol=1e-6)


def test_demo_model_separates_the_planted_motif_and_reports_every_metric(demo_model):
    loaded, data = demo_model
    records = loaded.task.read(data.evaluate, {"labels": "header"}, labelled=True)
    report = loaded.task.evaluate(loaded.model, records, loaded.state)
    assert report["accuracy"] >= 0.95
    for name in ("balanced_accuracy", "auroc", "auprc", "mcc", "confusion[motif->motif]"):
        assert name in report


def test_stratified_cross_validation_runs_one_model_per_fold(demo_model):
    loaded, data = demo_model
    records = loaded.task.read(data.evaluate, {"labels": "header"}, labelled=True)[:40]
    hyper = dict(loaded.hyperparameters, epochs=2)
    report = loaded.task.evaluate(loaded.model, records, loaded.state, options={"cv": "3"}, hyperparameters=hyper)
    assert report["cv_folds"] == 3 and report["n"] == 40
