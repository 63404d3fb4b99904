"""Exact calls: planted mutations recovered by both aligners, indels left-aligned, codes and ends never mutations."""
import numpy as np
import pytest
from Bio.Seq import reverse_complement

from lstmcore_mutation.calling import Caller
from lstmcore_mutation.calls import AlignedPair, Call, calls_from_rows, left_align, rows_from_cs
from lstmcore_mutation.planting import apply_calls, homopolymer_cases, plant_mutations
from lstmcore_mutation.sequences import clean_genome

ALIGNERS = ["mappy", "pairwise"]


def call(reference, sequence, aligner, name="g"):
    return Caller(reference, aligner, cross_check=False).call(clean_genome(name, sequence))


@pytest.mark.parametrize("aligner", ALIGNERS)
@pytest.mark.parametrize("seed", range(6))
def test_planted_substitutions_insertions_deletions_are_recovered_exactly(reference, aligner, seed):
    rng = np.random.default_rng(seed)
    planted = plant_mutations(reference.sequence, rng, substitutions=8, insertions=3, deletions=3)
    result = call(reference, apply_calls(reference.sequence, planted), aligner)
    assert result.aligned and result.calls == planted
    assert (result.ref_start, result.ref_end) == (1, len(reference))


@pytest.mark.parametrize("aligner", ALIGNERS)
def test_indels_in_homopolymer_runs_are_left_aligned(reference, aligner):
    cases = homopolymer_cases(reference.sequence)
    assert len(cases) >= 8  # the four planted runs (and any chance one), a deletion and an insertion in each
    for genome, expected in cases:
        assert call(reference, genome, aligner).calls == [expected]


@pytest.mark.parametrize("aligner", ALIGNERS)
def test_mutations_at_the_first_and_last_bases_and_indels_near_the_ends(reference, aligner):
    ref = reference.sequence
    planted = [Call(1, "substitution", ref[0], "A" if ref[0] != "A" else "C"),
               Call(40, "deletion", ref[39:42], "-") if ref[38] != ref[41] else Call(41, "deletion", ref[40:43], "-"),
               Call(len(ref), "substitution", ref[-1], "G" if ref[-1] != "G" else "T")]
    planted = sorted(planted)
    assert call(reference, apply_calls(ref, planted), aligner).calls == planted


def test_left_align_moves_gaps_to_the_leftmost_equivalent_place():
    left, right = "TTGACCTGAGGC", "TGCATTGACCA"
    # reference ...GC AAAA T..., genome ...GC AAA T...: the gap drawn after the last A belongs before the first A.
    pair = left_align(AlignedPair(left + "AAAA" + right, left + "AAA-" + right, 0, 0))
    assert (pair.ref_row, pair.query_row) == (left + "AAAA" + right, left + "-AAA" + right)
    assert calls_from_rows(pair)[0] == [Call(13, "deletion", "A", "-")]
    # an insertion of CA into CACA repeats goes after the base before the repeat (at 10 + 12 = 22)
    pair = left_align(AlignedPair(left + "CACA--" + right, left + "CACACA" + right, 10, 0))
    assert calls_from_rows(pair)[0] == [Call(22, "insertion", "-", "CA")]


def test_cs_tag_rows_keep_the_genomes_own_ambiguity_codes():
    reference, genome = "ACGTACGTAC", "ACRTAGGGTAC"
    pair = rows_from_cs(":2*gn:2+gg-c:4", reference, genome, 0, 0)
    assert (pair.ref_row, pair.query_row) == ("ACGTA--CGTAC", "ACRTAGG-GTAC")
    assert (pair.ref_end, pair.query_end) == (10, 11)


@pytest.mark.parametrize("aligner", ALIGNERS)
def test_ambiguity_codes_are_never_mutations(reference, aligner):
    ref = list(reference.sequence)
    sites = {500: "R", 900: "Y", 1500: "N", 2000: "K"}
    for position, code in sites.items():
        ref[position - 1] = code
    ref[1200:1260] = "N" * 60
    result = call(reference, "".join(ref), aligner)
    assert [c.type for c in result.calls] == ["ambiguous"] * 3
    assert [(c.position, c.alt) for c in result.calls] == [(500, "R"), (900, "Y"), (2000, "K")]
    assert result.missing == [(1201, 1260), (1500, 1500)]


@pytest.mark.parametrize("aligner", ALIGNERS)
def test_unaligned_and_n_padded_ends_are_not_deletions(reference, aligner):
    ref = reference.sequence
    for genome, span in [(ref[200:2800], (201, 2800)), ("N" * 150 + ref[150:2900] + "N" * 100, (151, 2900)),
                         ("nnnn" + ref.lower() + "nnnn", (1, 3000))]:
        result = call(reference, genome, aligner)
        assert result.calls == [] and (result.ref_start, result.ref_end) == span


@pytest.mark.parametrize("aligner", ALIGNERS)
def test_a_reverse_complemented_genome_gives_the_same_calls(reference, aligner):
    planted = plant_mutations(reference.sequence, np.random.default_rng(3))
    genome = reverse_complement(apply_calls(reference.sequence, planted))
    result = call(reference, genome, aligner)
    assert result.calls == planted and result.strand == "-"


def test_genomes_that_cannot_be_called_get_their_reason(reference):
    caller = Caller(reference, "mappy", cross_check=False)
    other = "".join(np.random.default_rng(99).choice(list("ACGT"), size=3000))
    cases = {"empty": ("", "empty genome"), "protein": ("MKVLEEFWQP" * 20, "not a nucleotide sequence"),
             "other-virus": (other, "does not align to the reference"),
             "mostly-n": (reference.sequence[:1000] + "N" * 1500 + reference.sequence[2500:] + "NNRYN" * 300,
                          "too many N")}
    for name, (sequence, reason) in cases.items():
        result = caller.call(clean_genome(name, sequence))
        assert not result.aligned and reason in result.reason, (name, result.reason)


def test_pairwise_cross_check_agrees_with_mappy_on_planted_genomes(reference):
    caller = Caller(reference, "auto")  # short reference: PairwiseAligner, checked against mappy
    assert caller.primary_name == "pairwise" and caller.check
    for seed in range(10, 16):
        planted = plant_mutations(reference.sequence, np.random.default_rng(seed), substitutions=12)
        result = caller.call(clean_genome(f"s{seed}", apply_calls(reference.sequence, planted)))
        assert result.cross_check == "agree" and result.calls == planted
