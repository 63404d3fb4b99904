"""Property-based tests: no input makes the FASTA reader or the encoders fail with anything but UserInputError."""
import gzip
import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmcore.encoders import DNA, PROTEIN, RNA
from lstmcore.errors import UserInputError
from lstmcore.io.fasta import read_fasta

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_bytes_as_fasta(data: bytes):
    """Write `data` to a temporary file and read it; return the records or the UserInputError."""
    handle, path = tempfile.mkstemp(suffix=".fa")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            return read_fasta(path)
        except UserInputError as error:
            assert path in str(error) and "\n" not in str(error)
            return error
    finally:
        os.unlink(path)


fasta_like_bytes = st.lists(st.one_of(
    st.sampled_from([b">", b">s1", b">s1 label=a", b"\n", b"\r\n", b"ACGT", b"acgtn", b"-", b" ", b"\x00", b"\xff",
                     b">dup\n", b";comment", b"\x1f\x8b"]),
    st.binary(max_size=8)), max_size=20).map(b"".join)


@SETTINGS
@given(st.binary(max_size=300))
def test_fasta_reader_on_arbitrary_bytes_fails_only_with_user_input_error(data):
    read_bytes_as_fasta(data)


@SETTINGS
@given(fasta_like_bytes)
def test_fasta_reader_on_fasta_like_bytes_fails_only_with_user_input_error(data):
    read_bytes_as_fasta(data)


@SETTINGS
@given(fasta_like_bytes)
def test_fasta_reader_on_gzip_fails_only_with_user_input_error(data):
    compressed = gzip.compress(data)
    read_bytes_as_fasta(compressed[: len(compressed) // 2] if data[:1] == b">" else compressed)


record_ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=">"),
                     min_size=1, max_size=12)
sequences = st.text(alphabet="ACGTNacgtn", min_size=1, max_size=150)


@SETTINGS
@given(st.dictionaries(record_ids, sequences, min_size=1, max_size=6), st.integers(min_value=1, max_value=80))
def test_written_records_read_back_unchanged(records, width):
    text = "".join(f">{rid} some description\n" + "\n".join(seq[i:i + width] for i in range(0, len(seq), width))
                   + "\n" for rid, seq in records.items())
    result = read_bytes_as_fasta(text.encode())
    assert [(r.id, r.sequence) for r in result] == list(records.items())


@SETTINGS
@given(st.text(max_size=60), st.sampled_from([DNA, RNA, PROTEIN]), st.sampled_from(["error", "zero", "skip"]))
def test_encoders_on_arbitrary_text_fail_only_with_user_input_error(text, encoder, gaps):
    encoder = encoder.configured(gaps=gaps)
    try:
        encoded = encoder.encode(text, file="f.fa", record="r1")
    except UserInputError as error:
        assert str(error).startswith("f.fa: record r1: ") and "position" in str(error)
        return
    assert encoded.dtype == np.float32 and encoded.shape[1] == encoder.channels
    sums = encoded.sum(axis=1)
    assert np.all((np.abs(sums - 1) < 1e-5) | (sums == 0))


@SETTINGS
@given(st.text(alphabet="ACGTRYSWKMBDHVNacgtryswkmbdhvn", max_size=80))
def test_dna_rows_are_distributions_and_case_does_not_matter(text):
    encoded = DNA.encode(text)
    assert encoded.shape == (len(text), 4)
    assert np.allclose(encoded.sum(axis=1), 1.0)
    assert np.array_equal(encoded, DNA.encode(text.upper()))
