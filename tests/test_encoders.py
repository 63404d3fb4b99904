"""One-hot encoders: IUPAC as fractional one-hot, lowercase, gaps by choice, errors that locate the letter."""
import numpy as np
import pytest

from lstmcore import registry
from lstmcore.encoders import DNA, PROTEIN, RNA, detect_alphabet, encoder_from_config
from lstmcore.errors import UserInputError


def test_dna_one_hot_and_n_is_a_quarter_each():
    encoded = DNA.encode("ACGTN")
    assert encoded.dtype == np.float32 and encoded.shape == (5, 4)
    assert np.array_equal(encoded[:4], np.eye(4, dtype=np.float32))
    assert np.allclose(encoded[4], 0.25)


@pytest.mark.parametrize("code, members", [("R", "AG"), ("Y", "CT"), ("S", "CG"), ("W", "AT"), ("K", "GT"),
                                           ("M", "AC"), ("B", "CGT"), ("D", "AGT"), ("H", "ACT"), ("V", "ACG")])
def test_dna_ambiguity_codes_split_evenly(code, members):
    row = DNA.encode(code)[0]
    expected = np.array([1.0 / len(members) if base in members else 0.0 for base in "ACGT"], dtype=np.float32)
    assert np.allclose(row, expected)


def test_lowercase_soft_masked_letters_equal_uppercase():
    assert np.array_equal(DNA.encode("acgtnrykm"), DNA.encode("ACGTNRYKM"))
    assert np.array_equal(PROTEIN.encode("mkvlxbz"), PROTEIN.encode("MKVLXBZ"))


def test_rna_uses_u_and_refuses_t():
    assert np.array_equal(RNA.encode("ACGU"), np.eye(4, dtype=np.float32))
    with pytest.raises(UserInputError, match="unknown letter 'T' at position 2 for RNA"):
        RNA.encode("AT")


def test_protein_ambiguity_and_rare_amino_acids():
    x = PROTEIN.encode("XBZJUO")
    assert np.allclose(x[0], 0.05) and np.allclose(x.sum(axis=1), 1.0)
    assert np.array_equal(x[4], PROTEIN.encode("C")[0]) and np.array_equal(x[5], PROTEIN.encode("K")[0])


@pytest.mark.parametrize("encoder, text, letter, position", [
    (DNA, "ACGTXA", "X", 5), (DNA, "ACGE", "E", 4), (PROTEIN, "MK*", "*", 3), (DNA, "ACñ", "ñ", 3),
    (DNA, "AC GT", " ", 3),
], ids=["x-in-dna", "protein-letter-in-dna", "stop-in-protein", "non-ascii", "space"])
def test_unknown_character_names_file_record_and_position(encoder, text, letter, position):
    with pytest.raises(UserInputError) as caught:
        encoder.encode(text, file="seqs.fa", record="chr1")
    assert str(caught.value).startswith(f"seqs.fa: record chr1: unknown letter {letter!r} at position {position}")


def test_gaps_are_refused_zeroed_or_skipped_by_choice():
    with pytest.raises(UserInputError, match="""gap '-' at position 2: the model refuses gaps.*--config '{"gaps": "skip"}'"""):
        DNA.encode("A-C.G")
    zero = DNA.configured(gaps="zero").encode("A-C.G")
    assert zero.shape == (5, 4) and not zero[1].any() and not zero[3].any()
    skip = DNA.configured(gaps="skip").encode("A-C.G")
    assert np.array_equal(skip, DNA.encode("ACG"))
    with pytest.raises(ValueError, match="gaps must be one of"):
        DNA.configured(gaps="ignore")


def test_encoder_config_round_trips_through_the_registry():
    skip = DNA.configured(gaps="skip")
    assert encoder_from_config(skip.config()).encode("A-C").shape == (2, 4)
    assert registry.encoders.get("dna") is DNA


def test_batch_pads_with_zeros_and_returns_lengths():
    x, lengths = DNA.encode_batch(["ACG", "A", "ACGTA"])
    assert x.shape == (3, 5, 4) and lengths.tolist() == [3, 1, 5]
    assert not x[1, 1:].any()


@pytest.mark.parametrize("sequences, alphabet", [
    (["ACGTNNACGT", "acgtrykm"], "dna"), (["ACGUACGU"], "rna"), (["MKVLEFHHWAS"], "protein"),
    (["ACGTACGTACGTACGTACGJ"], "dna"),
], ids=["dna", "rna", "protein", "dna-with-a-stray-letter"])
def test_alphabet_detection(sequences, alphabet):
    assert detect_alphabet(sequences) == alphabet
