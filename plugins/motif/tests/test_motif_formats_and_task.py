"""PWM writer/reader round trips through Bio.motifs; variable-length batches; metrics and CV."""
import numpy as np
import pytest
from Bio import motifs
from Bio.Seq import Seq

from lstmcore.errors import UserInputError
from lstmcore_motif.formats import READ_AS, count_tolerance, counts_array, formats_holding, read_motifs, \
    write_motifs, write_sites
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


BIOPYTHON_FILES = {"Arnt.sites": "sites", "SRF.pfm": "pfm", "REB1.pfm": "pfm", "transfac.dat": "transfac",
                   "minimal_test.meme": "minimal", "meme.INO_up800.classic.oops.xml": "meme",
                   "meme.adh.classic.oops.xml": "meme", "meme.farntrans5.classic.anr.xml": "meme"}


@pytest.mark.parametrize("name", list(BIOPYTHON_FILES))
def test_every_biopython_motif_file_reads_back_unchanged_from_every_format_that_holds_it(tmp_path, real_data,
                                                                                         name):
    assert sorted(p.name for p in (real_data / "biopython_motifs").iterdir()) == sorted(BIOPYTHON_FILES)
    originals = read_motifs(real_data / "biopython_motifs" / name, BIOPYTHON_FILES[name])
    targets = formats_holding(originals)
    assert "meme" in targets and (("jaspar" in targets) == (str(originals[0].alphabet) == "ACGT"))
    for target in targets:
        back = read_motifs(write_motifs(originals, tmp_path / f"{name}.{target}", target), READ_AS[target])
        assert len(back) == len(originals), target
        for a, b in zip(originals, back):
            # the tolerance is what the written text holds: 0.005 (JASPAR, PFM), 1e-9 x nsites (MEME)
            np.testing.assert_allclose(counts_array(b), counts_array(a), rtol=0,
                                       atol=count_tolerance(target, a), err_msg=f"{name} as {target}")
            if target == "meme" and a.name:
                assert b.name == a.name


def test_meme_minimal_counts_are_probabilities_times_nsites_unrounded_and_keep_names_and_background(
        tmp_path, real_data):
    krp, ifxa, default = read_motifs(real_data / "biopython_motifs" / "minimal_test.meme", "minimal")
    assert [m.name for m in (krp, ifxa, default)] == ["KRP", "IFXA", "IFXA_no_nsites_no_evalue"]
    assert krp.background["A"] == pytest.approx(0.303 / 1.001)  # the file's, summing to 1.001, normalised
    # no nsites on its line: MEME's default of 20 sites, and 0.214286 x 20 stays 4.28572 (Biopython: 4)
    np.testing.assert_allclose(counts_array(default).sum(axis=0), 20.0, atol=1e-9)
    assert counts_array(default)[0, 0] == pytest.approx(4.28572, abs=1e-5)
    np.testing.assert_allclose(counts_array(krp)[:, 0], [0, 3, 0, 14], atol=1e-4)
    path = write_motifs([krp, ifxa], tmp_path / "two.meme", "meme")
    text = path.read_text()
    assert "MOTIF KRP\n" in text and "nsites= 17 " in text and "\nA 0.302697 C 0.182817 G 0.208791 " in text
    assert read_motifs(path, "minimal")[1].background == pytest.approx(ifxa.background, abs=1e-6)


def test_meme_minimal_reader_names_a_short_matrix(tmp_path):
    path = tmp_path / "short.meme"
    path.write_text("MEME version 4\n\nALPHABET= ACGT\n\nMOTIF M1\nletter-probability matrix: alength= 4 w= 3 "
                    "nsites= 5\n 0.2 0.2 0.2 0.4\n 1 0 0 0\n")
    with pytest.raises(UserInputError, match=r"is not a valid minimal motif file .*motif M1: expected 3 rows"):
        read_motifs(path, "minimal")


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


def _fit_for_steps(loaded, data, **overrides):
    """Train a fresh default model on 24 demo records; return it and the hyper-parameters used."""
    from lstmcore_motif.model import train_classifier

    task = loaded.task
    records = task.read(data.evaluate, {"labels": "header"}, labelled=True)[:24]
    hyper = dict(loaded.hyperparameters, epochs=3, batch_size=8, **overrides)
    encoded = task.encode(records, loaded.state, labelled=True)
    model = task.build_model(loaded.state, hyper)
    train_classifier(model, encoded, hyper, epochs=3, batch_size=8, reverse_complement=False)
    return model, hyper


def test_cosine_schedule_decays_the_learning_rate_to_zero_over_the_whole_fit(demo_model):
    model, hyper = _fit_for_steps(*demo_model, lr_schedule="cosine")
    optimizer = model.optimizer
    assert optimizer.iterations == 3 * 3                      # 24 records / batch 8, 3 epochs
    assert optimizer._learning_rate.decay_steps == optimizer.iterations
    assert optimizer.learning_rate == pytest.approx(0.0, abs=1e-12)
    optimizer.iterations = 0
    assert optimizer.learning_rate == pytest.approx(hyper["learning_rate"])


def test_constant_schedule_keeps_the_learning_rate(demo_model):
    model, hyper = _fit_for_steps(*demo_model, lr_schedule="constant")
    assert model.optimizer.learning_rate == pytest.approx(hyper["learning_rate"])


def test_unknown_schedule_is_named_in_the_error(demo_model):
    with pytest.raises(UserInputError, match="lr_schedule must be one of cosine, constant. Received: 'step'"):
        _fit_for_steps(*demo_model, lr_schedule="step")


def test_validation_is_held_out_before_reverse_complements_are_added(demo_model, monkeypatch):
    """A validation sequence never trains the model on either strand (it did when the reverse
    complements were added before Keras's validation_split cut the end off)."""
    from lstmcore.toolkit import reverse_complement_batch

    loaded, data = demo_model
    task = loaded.task
    records = task.read(data.evaluate, {"labels": "header"}, labelled=True)[:20]
    encoded = task.encode(records, loaded.state, labelled=True)
    assert encoded.reverse_complement
    model = task.build_model(loaded.state, loaded.hyperparameters)
    seen = {}
    monkeypatch.setattr(model, "fit", lambda x, y, **kwargs: seen.update(x=x, y=y, **kwargs))
    task.fit(model, encoded, epochs=1, batch_size=8, validation_split=0.25, hyperparameters=loaded.hyperparameters)
    validation_x = seen["validation_data"][0]
    assert validation_x.shape[0] == 5 and seen["x"].shape[0] == 2 * 15
    both_strands = [*validation_x, *reverse_complement_batch(validation_x, seen["validation_lengths"])]
    assert not any(np.array_equal(v, t) for v in both_strands for t in seen["x"])
