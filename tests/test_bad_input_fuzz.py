"""Property-based fuzzing of what reads a user's files (issue 20): random bytes and mutations of valid files
give a correct read or the one-line error (UserInputError, ModelFileError), never another exception or a
hang.  The budget is bounded and derandomised, so CI runs the same examples in a few seconds each."""
import gzip
import json
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lstmcore
from lstmcore.errors import UserInputError
from lstmcore.io.fasta import read_fasta
from lstmcore.io.labels import attach_labels, label_from_header, read_label_table
from lstmcore.io.fasta import SequenceRecord
from lstmcore.io.tables import read_table
from lstmcore.saving import ModelFileError
from lstmcore.saving.task_models import describe_model_file, load_task_model

from bad_input_support import train_small_model

FUZZ = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VALID_FASTA = b">s1 label=a note=\"x y\"\nACGTACGTNN\nACGT\n>s2 label=b\nacgtRYKM\n\n>s3 label='a'\nAC-GT\n"
VALID_TABLE = b"id\tlabel\ts1\n# a comment\ns1\ta\t1.5\ns2\tb\t-2e3\ns3\t\"a b\"\t0\n"


def _file(content: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    handle.write(content)
    handle.close()
    return Path(handle.name)


@st.composite
def mutated(draw, valid: bytes):
    """`valid` with a few bytes replaced, inserted or deleted, maybe cut short, maybe gzip-compressed."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.sampled_from([0, 0x0A, 0x0D, 0x22, 0x27, 0x3D, 0x3E, 0x80, 0xE9, 0xFF, 0x1F, 0x8B, 0x09,
                                     0x2C, 0x20, ord("X"), ord("N")]))
        if action == "replace" and data:
            data[position] = byte
        elif action == "insert":
            data.insert(position, byte)
        elif data:
            del data[position]
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    content = bytes(data)
    return gzip.compress(content) if draw(st.integers(0, 4)) == 0 else content


def _read_or_one_line_error(read, path):
    try:
        return read(path)
    except UserInputError as error:
        assert "\n" not in str(error) and str(path) in str(error)
        return None


# --- FASTA -----------------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=400))
def test_fasta_random_bytes(content):
    path = _file(content, ".fa")
    records = _read_or_one_line_error(read_fasta, path)
    for record in records or []:
        assert record.id and record.sequence and record.id in content.decode("utf-8", "replace")


@FUZZ
@given(mutated(VALID_FASTA))
def test_fasta_mutations(content):
    path = _file(content, ".fa")
    records = _read_or_one_line_error(read_fasta, path)
    if records is not None:
        _read_or_one_line_error(lambda p: attach_labels(records, "header"), path)
    if content == VALID_FASTA:
        assert [r.label for r in attach_labels(records, "header")] == ["a", "b", "a"]


@FUZZ
@given(st.text(max_size=60))
def test_header_labels_never_crash(header):
    record = SequenceRecord("s1", "ACGT", "s1 " + header, "f.fa")
    try:
        label = label_from_header(record)
    except UserInputError as error:
        assert str(error).startswith("f.fa: record s1: ")
    else:
        assert label is None or isinstance(label, str)


# --- tables and labels -------------------------------------------------------------------------------------

@FUZZ
@given(st.binary(max_size=300))
def test_table_random_bytes(content):
    path = _file(content, ".tsv")
    table = _read_or_one_line_error(read_table, path)
    if table is not None:
        assert all(len(row) == len(table.columns) for row in table.rows)


@FUZZ
@given(mutated(VALID_TABLE))
def test_table_and_label_mutations(content):
    path = _file(content, ".tsv")
    table = _read_or_one_line_error(read_table, path)
    if table is not None:
        _read_or_one_line_error(lambda p: table.numeric("s1"), path)
        mapping = _read_or_one_line_error(read_label_table, path)
        assert mapping is None or all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())


# --- model files ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz-model")
    _, _, model = train_small_model(folder)
    return model.read_bytes()


def _load_or_one_line_error(path):
    try:
        lstmcore.load_model(path)
    except ModelFileError as error:
        assert "\n" not in str(error)
    for read in (load_task_model, describe_model_file):  # predict / evaluate, and `lstmcore info`
        try:
            read(path)
        except UserInputError as error:
            assert "\n" not in str(error) and str(path) in str(error)


@FUZZ
@given(data=st.data())
def test_model_file_byte_mutations(model_bytes, data):
    content = data.draw(mutated(model_bytes[:600]), label="head") + model_bytes[600:]
    if data.draw(st.booleans(), label="cut"):
        content = content[:data.draw(st.integers(0, len(content)), label="length")]
    _load_or_one_line_error(_file(content, ".lstm"))


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | st.floats() |
                           st.text(max_size=8), lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _paths(value, prefix=()):
    """Every path (a tuple of keys and indices) into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _with_header(model_bytes, edit):
    length = struct.unpack("<Q", model_bytes[:8])[0]
    outer = json.loads(model_bytes[8:8 + length])
    header = json.loads(outer["__metadata__"]["lstmcore"])
    header = edit(header)
    outer["__metadata__"]["lstmcore"] = json.dumps(header)
    text = json.dumps(outer).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + model_bytes[8 + length:]


@FUZZ
@given(data=st.data())
def test_model_file_config_mutations(model_bytes, data):
    """A value anywhere in the lstmcore header (config, compile, task record) replaced by any JSON value."""
    length = struct.unpack("<Q", model_bytes[:8])[0]
    header = json.loads(json.loads(model_bytes[8:8 + length])["__metadata__"]["lstmcore"])
    paths = sorted(_paths(header), key=repr)
    path = data.draw(st.sampled_from(paths), label="path")
    value = data.draw(JSON_VALUES, label="value")

    def edit(header):
        if not path:
            return value
        target = header
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return header

    _load_or_one_line_error(_file(_with_header(model_bytes, edit), ".lstm"))
