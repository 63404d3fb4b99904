"""FASTA, labels, tables, NPZ and atomic outputs; on real Biopython test files where they exist."""
import gzip
from pathlib import Path

import numpy as np
import pytest

from lstmcore.errors import UserInputError
from lstmcore.io.atomic import atomic_open
from lstmcore.io.fasta import SequenceRecord, chunked, iter_fasta, read_fasta
from lstmcore.io.labels import attach_labels
from lstmcore.io.npz import read_npz, require_array
from lstmcore.io.readers import reader_for
from lstmcore.io.tables import read_table

SHARED_FASTA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fasta_parsing"
needs_shared = pytest.mark.skipif(not SHARED_FASTA.is_dir(), reason="../shared/data is not here")


def real(name):
    folder = "biopython_Tests_GenBank" if name.startswith("NC_005816") else "biopython_Tests_Fasta"
    return SHARED_FASTA / folder / name


# --- real files --------------------------------------------------------------------------

@needs_shared
@pytest.mark.parametrize("name, lengths", [
    ("f002", [633, 413, 471]),
    ("flowers.pro.gz", [304, 600, 473]),
    ("aster.pro", [107]),
    ("aster_no_wrap.pro", [107]),
    ("fa01", [378, 382]),
    ("NC_005816.fna", [9609]),
], ids=["ncbi-headers", "gzip-protein", "wrapped", "unwrapped", "aligned-with-gaps", "plasmid-genome"])
def test_real_fasta_files_are_read(name, lengths):
    assert [len(r.sequence) for r in read_fasta(real(name))] == lengths


@needs_shared
def test_real_fasta_ids_are_the_first_word_of_the_header():
    records = read_fasta(real("f002"))
    assert records[0].id == "gi|1348912|gb|G26680|G26680"
    assert records[0].description.startswith("gi|1348912|gb|G26680|G26680 human STS")


@needs_shared
def test_real_cds_and_protein_files_have_ten_records():
    assert len(read_fasta(real("NC_005816.ffn"))) == 10
    assert len(read_fasta(real("NC_005816.faa"))) == 10


@needs_shared
@pytest.mark.parametrize("name, fragment", [
    ("dups.fasta", "record alpha: duplicate record id"),
    ("aster_blast.pro", "is not FASTA: line 1"),
    ("aster_pearson.pro", "is not FASTA: line 1"),
    ("NC_005816.gb", "is not FASTA: line 1"),
    ("README", "is not FASTA"),
], ids=["duplicate-ids", "comments-before-first-record", "pearson-comments", "genbank", "plain-text"])
def test_real_files_that_must_be_rejected(name, fragment):
    with pytest.raises(UserInputError) as caught:
        read_fasta(real(name))
    assert str(caught.value).startswith(str(real(name))) and fragment in str(caught.value)


@needs_shared
def test_real_alignment_gaps_need_an_explicit_choice():
    from lstmcore.encoders import PROTEIN

    record = read_fasta(real("fa01"))[0]
    with pytest.raises(UserInputError, match="gap '-' at position"):
        PROTEIN.encode(record.sequence, file=record.source, record=record.id)
    skipped = PROTEIN.configured(gaps="skip").encode(record.sequence)
    zeroed = PROTEIN.configured(gaps="zero").encode(record.sequence)
    assert skipped.shape[0] == len(record.sequence.replace("-", ""))
    assert zeroed.shape[0] == len(record.sequence) and np.allclose(zeroed.sum(axis=1)[
        np.array([c != "-" for c in record.sequence])], 1.0)


@needs_shared
def test_gzip_and_plain_give_the_same_records(tmp_path):
    plain = tmp_path / "flowers.fasta"
    plain.write_bytes(gzip.decompress(real("flowers.pro.gz").read_bytes()))
    assert [(r.id, r.sequence) for r in read_fasta(plain)] == \
           [(r.id, r.sequence) for r in read_fasta(real("flowers.pro.gz"))]


# --- streaming -----------------------------------------------------------------------------

def test_records_are_streamed_so_early_records_come_before_a_late_error(tmp_path):
    path = tmp_path / "late.fa"
    path.write_text(">a\nACGT\n>b\nACGT\n>a\nACGT\n")
    stream = iter_fasta(path)
    assert next(stream).id == "a" and next(stream).id == "b"
    with pytest.raises(UserInputError, match="record a: duplicate"):
        next(stream)


def test_chunked_groups_a_stream():
    records = (SequenceRecord(str(i), "A") for i in range(5))
    assert [len(c) for c in chunked(records, 2)] == [2, 2, 1]


def test_windows_line_endings_and_blank_lines(tmp_path):
    path = tmp_path / "crlf.fa"
    path.write_bytes(b"\r\n>s1 desc\r\nAC\r\nGT\r\n\r\n>s2\r\nA C\r\n")
    assert [(r.id, r.sequence) for r in read_fasta(path)] == [("s1", "ACGT"), ("s2", "AC")]


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty"),
    (b"\n\n", "contains no FASTA records"),
    (b">\nACGT\n", "record #1: the header of record 1 has no id"),
    (b">s1\nAC\n" + gzip.compress(b"x")[:5], "binary"),
    (gzip.compress(b">s1\nACGT\n")[:-6], "corrupt gzip"),
    (b"\xff\xfe>s1\n", "not UTF-8"),
], ids=["empty", "blank-lines-only", "header-without-id", "binary-tail", "truncated-gzip", "utf16"])
def test_bad_fasta_is_a_user_input_error(tmp_path, content, fragment):
    path = tmp_path / "bad.fa"
    path.write_bytes(content)
    with pytest.raises(UserInputError, match=fragment):
        read_fasta(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(UserInputError, match="no such file"):
        read_fasta(tmp_path / "absent.fa")
    with pytest.raises(UserInputError, match="is a folder"):
        read_fasta(tmp_path)


def test_reader_is_chosen_by_extension_through_gzip(tmp_path):
    assert reader_for("x.fasta.gz").kind == "sequences"
    assert reader_for("x.tsv").kind == "table" and reader_for("x.npz").kind == "arrays"
    with pytest.raises(UserInputError, match="unknown file type"):
        reader_for(tmp_path / "x.docx")


# --- labels ------------------------------------------------------------------------------

def records_in(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return read_fasta(path)


def test_labels_from_header_table_and_file(tmp_path):
    records = records_in(tmp_path, "pos.fa", ">s1 label=promoter x\nACGT\n>s2 y label=non\nACGT\n")
    assert [r.label for r in attach_labels(records, "header")] == ["promoter", "non"]
    assert [r.label for r in attach_labels(records, "file")] == ["pos", "pos"]
    table = tmp_path / "labels.tsv"
    table.write_text("id\tlabel\ns2\tb\ns1\ta\n")
    assert [r.label for r in attach_labels(records, str(table))] == ["a", "b"]


def test_label_table_errors_name_file_and_record(tmp_path):
    records = records_in(tmp_path, "x.fa", ">s1\nACGT\n")
    table = tmp_path / "labels.tsv"
    table.write_text("id\tlabel\ns1\ta\ns1\tb\n")
    with pytest.raises(UserInputError, match=r"labels.tsv: record s1: id listed twice"):
        attach_labels(records, str(table))


# --- tables and npz ------------------------------------------------------------------------

def test_table_reads_numbers_and_names_bad_cells(tmp_path):
    path = tmp_path / "t.tsv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("# comment\nyear\thare\tlynx\n1900\t30\t4\n1901\t47.2\t6.1\n")
    table = read_table(path)
    assert table.columns == ["year", "hare", "lynx"]
    assert table.numeric("hare").tolist() == [30.0, 47.2]
    assert np.isnan(read_table(path).numeric("lynx", allow_missing=True)).sum() == 0
    with pytest.raises(UserInputError, match="missing column 'wolf'"):
        table.numeric("wolf")


def test_table_missing_values_allowed_when_asked(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("t,x\n1,NA\n2,3\n")
    assert np.isnan(read_table(path).numeric("x", allow_missing=True)[0])
    with pytest.raises(UserInputError, match=r"record 1: column 'x' is missing a number \(NA\) \(line 2\)"):
        read_table(path).numeric("x")


def test_table_inf_and_binary(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("t,x\n1,inf\n")
    with pytest.raises(UserInputError, match="not a finite number"):
        read_table(path).numeric("x")
    path.write_bytes(b"t,x\n1,\x00\n")
    with pytest.raises(UserInputError, match="binary"):
        read_table(path)


def test_npz_reads_named_arrays_without_pickle(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, x=np.arange(6.0).reshape(2, 3), y=np.array([0, 1]))
    arrays = read_npz(good)
    assert arrays["x"].shape == (2, 3)
    with pytest.raises(UserInputError, match="missing array 'z'"):
        require_array(arrays, "z", good)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(UserInputError, match="record x: array cannot be read without pickle"):
        read_npz(pickled)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UserInputError, match="is not a valid .npz file"):
        read_npz(broken)
    for content, what in ((gzip.compress(b"x"), "gzip-compressed data"), (b"", "empty"),
                          (b"1,2,3\n", "neither a zip archive nor a .npy array")):
        other = tmp_path / "other.npz"
        other.write_bytes(content)          # np.load took these for pickles, and said pickles are refused
        with pytest.raises(UserInputError, match=rf"other\.npz: is not an \.npz archive of named arrays: it is {what}"):
            read_npz(other)


# --- atomic outputs ----------------------------------------------------------------------------

def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "out.tsv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(path) as handle:
            handle.write("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["out.tsv"]
    with atomic_open(path) as handle:
        handle.write("new\n")
    assert path.read_text() == "new\n" and (path.stat().st_mode & 0o644) == 0o644
