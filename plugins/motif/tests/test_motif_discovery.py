"""Motif discovery on planted data: both seed routes, refinement over every sequence, ranking against the background."""
import numpy as np
import pytest

from lstmcore_motif.discovery import find_motifs

LETTERS = "ACGT"


def random_dna(rng, length):
    return "".join(rng.choice(list(LETTERS), size=length))


def plant(sequence, site, start):
    return sequence[:start] + site + sequence[start + len(site):]


def aligned_set(seed=0, n=40, length=60):
    """Class: TGACGT at column 21 (0-based 20), one base mutated in every fourth; both classes: ATATAT at
    column 6, which the fake attribution below favours."""
    rng = np.random.default_rng(seed)
    positives, negatives = [], []
    for i in range(n):
        site = "TGACGT" if i % 4 else "TGACGA"
        positives.append(plant(plant(random_dna(rng, length), "ATATAT", 5), site, 20))
        negatives.append(plant(random_dna(rng, length), "ATATAT", 5))
    return positives, negatives


def test_background_kmer_with_more_attribution_ranks_below_the_discriminative_motif():
    positives, negatives = aligned_set()
    scores = []
    for _ in positives:
        s = np.zeros(60)
        s[5:11] = 1.0      # the shared AT-rich k-mer: the most attribution
        s[20:26] = 0.5     # the planted motif: less
        scores.append(s)
    found = find_motifs(positives, scores, LETTERS, background=negatives, width=6, count=2, seeds=["attribution"])
    assert len(found) == 2
    top, shared = found
    assert str(top.motif.consensus) == "TGACGT" and top.start_column == 21 and len(top.sites) >= 36
    assert top.discrimination > 0.95 and top.p_value < 1e-10
    # seeded first (the most attribution), near column 6, but no better in the class than in the background
    assert abs(shared.start_column - 6) <= 5 and shared.discrimination < 0.75 and shared.p_value > 1e-3


def test_refinement_recovers_the_planted_motif_at_its_column_from_an_offset_seed_in_few_sequences():
    positives, negatives = aligned_set(seed=1)
    scores = []
    for i, _ in enumerate(positives):
        s = np.zeros(60)
        if i < 5:
            s[18:24] = 1.0  # attribution two columns left of the site, in five sequences only
        scores.append(s)
    found = find_motifs(positives, scores, LETTERS, background=negatives, width=6, count=1)
    assert len(found) == 1
    motif = found[0]
    assert str(motif.motif.consensus) == "TGACGT" and motif.start_column == 21
    assert len(motif.sites) >= 36   # found in the sequences the attribution did not point at


def test_without_background_the_class_is_ranked_against_its_own_shuffled_sequences():
    positives, _ = aligned_set(seed=2)
    scores = [np.where((np.arange(60) >= 20) & (np.arange(60) < 26), 1.0, 0.0) for _ in positives]
    found = find_motifs(positives, scores, LETTERS, width=6, count=1)
    assert str(found[0].motif.consensus) == "TGACGT" and found[0].discrimination > 0.9


def test_unknown_criterion_is_named():
    with pytest.raises(ValueError, match=r"criterion must be 'auroc' or 'p_value'. Received: criterion='best'"):
        find_motifs(["ACGTACGT"], [np.ones(8)], LETTERS, criterion="best")


def test_enrichment_finds_a_positional_motif_the_attribution_ignores_and_ranks_it_first():
    positives, negatives = aligned_set(seed=3)
    scores = [np.where((np.arange(60) >= 5) & (np.arange(60) < 11), 1.0, 0.0) for _ in positives]  # the shared k-mer
    only_model = find_motifs(positives, scores, LETTERS, background=negatives, count=1, seeds=["attribution"])
    assert str(only_model[0].motif.consensus) != "TGACGT"
    found = find_motifs(positives, scores, LETTERS, background=negatives, count=2)
    top = found[0]
    assert str(top.motif.consensus) == "TGACGT" and top.start_column == 21 and len(top.sites) >= 36
    assert top.seeded_by == ("enrichment",) and top.discrimination > 0.95


def test_a_motif_both_routes_find_is_reported_once_with_both_names():
    positives, negatives = aligned_set(seed=4)
    scores = [np.where((np.arange(60) >= 20) & (np.arange(60) < 26), 1.0, 0.0) for _ in positives]
    found = find_motifs(positives, scores, LETTERS, background=negatives, count=3)
    planted = [m for m in found if str(m.motif.consensus) == "TGACGT"]
    assert len(planted) == 1 and planted[0] is found[0]
    assert planted[0].seeded_by == ("attribution", "enrichment")


def test_enrichment_finds_a_motif_at_random_positions_in_sequences_of_different_lengths():
    rng = np.random.default_rng(5)
    positives, negatives = [], []
    for i in range(40):
        length = int(rng.integers(50, 90))
        positives.append(plant(random_dna(rng, length), "CACGTG", int(rng.integers(0, length - 6))))
        negatives.append(random_dna(rng, int(rng.integers(50, 90))))
    scores = [np.zeros(len(s)) for s in positives]          # a model that explains nothing
    found = find_motifs(positives, scores, LETTERS, background=negatives, count=1, seeds=["enrichment"])
    assert str(found[0].motif.consensus) == "CACGTG" and len(found[0].sites) >= 38
    assert found[0].discrimination > 0.9


def test_phase_of_a_positional_motif_follows_the_alignment_not_the_seed():
    """Class: TTGACA at column 21 with a C before it in half the sequences; the background has that C at
    column 20 as often, so the window one column early (CTTGAC) holds as much information in the class's
    sites but less against the background: the alignment's columns choose TTGACA."""
    rng = np.random.default_rng(6)
    positives, negatives = [], []
    for i in range(40):
        site = ("C" if i % 2 else "") + ("TTGACA" if i % 3 else "TTGACT")
        positives.append(plant(random_dna(rng, 60), site, 20 - (i % 2)))
        negatives.append(plant(random_dna(rng, 60), "C", 19) if i % 2 else random_dna(rng, 60))
    scores = [np.where((np.arange(60) >= 18) & (np.arange(60) < 24), 1.0, 0.0) for _ in positives]  # CTTGAC
    found = find_motifs(positives, scores, LETTERS, background=negatives, count=1, seeds=["attribution"])
    assert str(found[0].motif.consensus) == "TTGACA" and found[0].start_column == 21


def test_unknown_seed_route_is_named():
    with pytest.raises(ValueError, match=r"seeds must name one or more of attribution, enrichment. "
                                         r"Received: seeds=\('model',\)"):
        find_motifs(["ACGTACGT"], [np.ones(8)], LETTERS, seeds=["model"])
