"""The tagger's pieces: features and labels, decoding, chunking with overlap, the focal loss."""
import numpy as np
import pytest

import lstmcore
from lstmcore.testing import check_loss_gradient
from lstmcore_mutation.calling import Caller
from lstmcore_mutation.decode import decode_calls
from lstmcore_mutation.features import CHANNELS, ReferenceIndex, genome_features, position_labels
from lstmcore_mutation.losses import FocalBinaryCrossentropy
from lstmcore_mutation.planting import apply_calls, plant_mutations
from lstmcore_mutation.sequences import clean_genome
from lstmcore_mutation.tagger import build_tagger, candidate_mask, chunk_windows, predict_positions
from lstmcore_mutation.task import MutationTask


@pytest.fixture(scope="module")
def index(reference):
    return ReferenceIndex.build(reference.sequence, 12)


@pytest.mark.parametrize("seed", range(4))
def test_labels_decoded_without_alignment_give_the_alignment_calls(reference, index, seed):
    """With perfect per-position tags, the anchor projections alone place every call exactly."""
    planted = plant_mutations(reference.sequence, np.random.default_rng(seed), substitutions=10, insertions=3,
                              deletions=3)
    genome = clean_genome("g", apply_calls(reference.sequence, planted))
    result = Caller(reference, "mappy", cross_check=False).call(genome)
    labels, weights = position_labels(result, genome.sequence)
    assert labels.sum() == sum(len(c.alt) if c.type == "insertion" else 1 for c in planted)
    decoded = [call for call, _ in decode_calls(genome.sequence, genome_features(genome.sequence, index), labels,
                                                reference.sequence)]
    assert decoded == planted


def test_features_mark_a_substitution_and_ambiguity_codes_get_no_weight(reference, index):
    ref = reference.sequence
    substituted = "A" if ref[1499] != "A" else "C"
    sequence = ref[:1499] + substituted + ref[1500:2000] + "R" + ref[2001:]
    features = genome_features(sequence, index)
    x = features.x
    assert x.shape == (len(ref), CHANNELS)
    assert x[1499, 15] == 1.0 and x[1499, 16] == 1.0              # differs from both projected bases
    assert x[1400, 15] == 0.0 and x[1400, 4] == 1.0 and x[1400, 5] == 1.0
    assert x[1499, 4] == 0.0 and x[1499, 5] == 0.0                # the k-mers around it are not in the reference
    assert np.allclose(x[2000, 0:4], [0.5, 0, 0.5, 0])            # R = A or G
    mask = candidate_mask(features)
    assert mask[1499] and not mask[2000] and not mask[1400]
    result = Caller(reference, "mappy", cross_check=False).call(clean_genome("g", sequence))
    labels, weights = position_labels(result, sequence)
    assert labels[1499] == 1 and labels.sum() == 1 and weights[2000] == 0 and weights[1400] == 1


@pytest.mark.parametrize("length, chunk, overlap", [(10, 8, 2), (1000, 200, 50), (1000, 1000, 100), (777, 256, 64)])
def test_chunk_windows_tile_the_sequence_with_context_on_both_sides(length, chunk, overlap):
    windows = chunk_windows(length, chunk, overlap)
    kept = [position for _, _, a, b in windows for position in range(a, b)]
    assert kept == list(range(length))
    for start, end, keep_start, keep_end in windows:
        assert end - start <= chunk
        assert keep_start - start >= overlap or start == 0
        assert end - keep_end >= overlap or end == length


def test_chunk_windows_refuse_an_overlap_as_large_as_the_chunk():
    with pytest.raises(ValueError, match="chunk must exceed twice the overlap"):
        chunk_windows(100, 20, 10)


def test_chunked_prediction_equals_unchunked(reference, index):
    """A 3 kb genome fits in one chunk; cut into 600-position chunks with 200 of context each side,
    the stitched probabilities equal the whole sequence's to float precision."""
    lstmcore.set_num_threads(1)
    lstmcore.set_seed(3)
    model = build_tagger(MutationTask.hyperparameters)
    planted = plant_mutations(reference.sequence, np.random.default_rng(8))
    features = [genome_features(apply_calls(reference.sequence, planted), index)]
    whole = predict_positions(model, features, chunk=4096, overlap=256, screen=False)[0]
    chunked = predict_positions(model, features, chunk=600, overlap=200, screen=False)[0]
    direct = model.predict(features[0].x[None], verbose=0)[0, :, 0]
    assert np.array_equal(whole, direct)
    assert np.max(np.abs(chunked - whole)) < 1e-5
    assert len(chunk_windows(len(whole), 600, 200)) == 14    # the chunked run really was cut in pieces


def test_screened_prediction_runs_only_around_candidates(reference, index):
    model = build_tagger(MutationTask.hyperparameters)
    planted = plant_mutations(reference.sequence, np.random.default_rng(9))
    features = [genome_features(apply_calls(reference.sequence, planted), index)]
    screened = predict_positions(model, features, chunk=256, overlap=64, screen=True)[0]
    whole = predict_positions(model, features, chunk=4096, overlap=256, screen=False)[0]
    mask = candidate_mask(features[0])
    assert mask.sum() > 0 and (screened[mask] > 0).all()
    assert np.max(np.abs(screened[mask] - whole[mask])) < 1e-3
    near = np.zeros(len(mask), dtype=bool)
    for position in np.flatnonzero(mask):
        near[max(0, position - 256):position + 256] = True
    assert (screened[~near] == 0).all()


@pytest.mark.parametrize("gamma, alpha", [(2.0, 0.75), (0.0, 0.5), (0.5, 0.25)])
def test_focal_loss_gradient_matches_finite_differences(gamma, alpha):
    rng = np.random.default_rng(0)
    y_pred = rng.uniform(0.05, 0.95, size=(3, 7, 1))
    y_true = (rng.random((3, 7, 1)) < 0.3).astype(np.float64)
    check_loss_gradient(FocalBinaryCrossentropy(gamma, alpha), y_true, y_pred)


def test_focal_loss_with_gamma_zero_is_weighted_crossentropy_and_refuses_bad_arguments():
    y_true, y_pred = np.array([[1.0], [0.0]]), np.array([[0.8], [0.3]])
    values = FocalBinaryCrossentropy(0.0, 0.5).values(y_true, y_pred)
    assert np.allclose(values, [-0.5 * np.log(0.8), -0.5 * np.log(0.7)])
    focused = FocalBinaryCrossentropy(2.0, 0.5).values(y_true, y_pred)
    assert np.allclose(focused, [-0.5 * 0.04 * np.log(0.8), -0.5 * 0.09 * np.log(0.7)])
    with pytest.raises(ValueError, match="gamma must be a number >= 0. Received: gamma=-1"):
        FocalBinaryCrossentropy(-1)
    with pytest.raises(ValueError, match=r"alpha must be a number in \(0, 1\)"):
        FocalBinaryCrossentropy(2.0, 1.5)


def test_focal_loss_is_registered_for_compile(reference):
    from lstmcore import registry

    assert registry.losses.get("focal-binary") is FocalBinaryCrossentropy
    model = lstmcore.Sequential([lstmcore.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer="adam", loss="focal-binary")
