"""A model file is read once, whole, with a size limit: from standard input (`lstmcore predict - DATA`), from a
FIFO, never from a stream that does not end; standard input serves one input only (issue 20)."""
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import lstmcore
import lstmcore.saving.validation as validation
from lstmcore.cli import main
from lstmcore.errors import UserInputError
from lstmcore.io.inputs import read_bytes
from lstmcore.saving import ModelFileError
from lstmcore.saving.task_models import load_task_model, read_model_file
from lstmcore.tasks import workflows

from bad_input_support import assert_one_line_error, assert_unchanged, run, snapshot, train_small_model

STDIN_TWICE = "standard input ('-') is given twice; it can be read only once"
LIMIT = 1 << 16  # a small model file limit for the tests (the model here is about 2 KB)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model-streams")
    return (folder, *train_small_model(folder))


def _lstmcore(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "lstmcore", *map(str, args)], capture_output=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, **kwargs)


def _table_lines(text):
    return [line for line in text.splitlines() if line]


# --- standard input ---------------------------------------------------------------------------------------

def test_a_model_from_standard_input_predicts(trained):
    folder, data, unlabelled, model = trained
    result = _lstmcore(["-q", "predict", "-", unlabelled, "-o", "-"], input=model.read_bytes())
    assert result.returncode == 0, result.stderr
    expected = _lstmcore(["-q", "predict", model, unlabelled, "-o", "-"])
    assert result.stdout == expected.stdout and len(_table_lines(result.stdout.decode())) == 7


def test_info_and_evaluate_read_a_model_from_standard_input(trained):
    folder, data, unlabelled, model = trained
    info = _lstmcore(["info", "-"], input=model.read_bytes())
    assert info.returncode == 0 and info.stdout.decode().startswith("file: <stdin>\ntask: sequence-classification")
    evaluated = _lstmcore(["evaluate", "-", data, "--json"], input=model.read_bytes())
    assert evaluated.returncode == 0 and b'"accuracy"' in evaluated.stdout


def test_a_damaged_model_from_standard_input_is_one_line_naming_it(trained):
    folder, data, unlabelled, model = trained
    result = _lstmcore(["-q", "predict", "-", unlabelled, "-o", "-"], input=model.read_bytes()[:100])
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        "error: <stdin>: is not a valid lstmcore model file: the file is truncated or not a safetensors file "
        f"(its header claims {int.from_bytes(model.read_bytes()[:8], 'little')} bytes, 92 follow)"]


def test_model_and_data_both_from_standard_input_is_one_line(trained, tmp_path, capsys):
    folder, data, unlabelled, model = trained
    output = tmp_path / "calls.tsv"
    code, out, err = run(["predict", "-", "-", "-o", output], capsys)
    assert_one_line_error(code, err, STDIN_TWICE)
    assert not output.exists()
    result = _lstmcore(["predict", "-", "-", "-o", output], input=model.read_bytes())
    assert result.returncode == 2 and result.stderr.decode().splitlines() == [f"error: -: {STDIN_TWICE}"]


def test_model_and_data_both_from_standard_input_in_python(trained, tmp_path):
    with pytest.raises(UserInputError, match=r"standard input \('-'\) is given twice"):
        workflows.predict("-", ["-"], tmp_path / "calls.tsv")
    with pytest.raises(UserInputError, match=r"standard input \('-'\) is given twice"):
        workflows.evaluate("-", [trained[1], "-"])


def test_a_second_reader_of_standard_input_is_refused_when_it_opens_it(trained, tmp_path, capsys, monkeypatch):
    """`train ... - --labels -`: the FASTA and the label table cannot both be standard input."""
    folder, data, unlabelled, model = trained
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.read_bytes())))
    output = tmp_path / "m.lstm"
    code, out, err = run(["-q", "train", "sequence-classification", "-", "--labels", "-", "-o", output], capsys)
    assert_one_line_error(code, err, "error: -: standard input ('-') was read already; it can be read only once")
    assert not output.exists()


# --- FIFOs --------------------------------------------------------------------------------------------

def _open_fifo_for_writing(fifo, alive, timeout=120):
    """The FIFO's writing end, once a reader has opened it (never blocks for ever)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if not alive() or time.monotonic() > deadline:
                raise AssertionError("the command never opened the FIFO") from None
            time.sleep(0.02)
            continue
        os.set_blocking(descriptor, True)
        return descriptor


def test_a_model_from_a_fifo_is_read_once(trained, tmp_path):
    """The loader used to open the model several times: the second open of a FIFO waits for ever."""
    folder, data, unlabelled, model = trained
    fifo = tmp_path / "model.lstm"
    os.mkfifo(fifo)
    output = tmp_path / "calls.tsv"
    process = subprocess.Popen([sys.executable, "-m", "lstmcore", "-q", "predict", str(fifo), str(unlabelled),
                                "-o", str(output)], stderr=subprocess.PIPE,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        with os.fdopen(_open_fifo_for_writing(fifo, lambda: process.poll() is None), "wb") as writer:
            writer.write(model.read_bytes())
        assert process.wait(timeout=120) == 0, process.stderr.read()
    finally:
        process.kill()
    assert len(output.read_text().splitlines()) == 7


def _endless_writer(fifo, stop):
    """Write to the FIFO until its reader closes it (EPIPE) or the test stops."""
    def write():
        descriptor = _open_fifo_for_writing(fifo, lambda: not stop.is_set(), timeout=60)
        chunk = b"\0" * 65536
        try:
            while not stop.is_set():
                os.write(descriptor, chunk)
        except BrokenPipeError:
            pass
        finally:
            os.close(descriptor)
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_fifo_that_never_ends_stops_at_the_size_limit(trained, tmp_path, capsys, monkeypatch):
    folder, data, unlabelled, model = trained
    monkeypatch.setattr(validation, "MAX_MODEL_FILE_BYTES", LIMIT)
    fifo = tmp_path / "endless.lstm"
    os.mkfifo(fifo)
    stop = threading.Event()
    writer = _endless_writer(fifo, stop)
    result = {}
    reader = threading.Thread(target=lambda: result.update(code=main(
        ["-q", "predict", str(fifo), str(unlabelled), "-o", str(tmp_path / "calls.tsv")])), daemon=True)
    reader.start()
    reader.join(timeout=60)
    stop.set()
    assert not reader.is_alive(), "reading the endless FIFO did not stop"
    writer.join(timeout=10)
    err = capsys.readouterr().err
    assert_one_line_error(result["code"], err, fifo, f"is larger than {LIMIT:,} bytes, the limit for a model file")
    assert not (tmp_path / "calls.tsv").exists()


# --- the size limit -----------------------------------------------------------------------------------------

def test_a_model_file_over_the_limit_is_refused_before_reading(trained, tmp_path, capsys, monkeypatch):
    folder, data, unlabelled, model = trained
    big = tmp_path / "big.lstm"
    big.write_bytes(model.read_bytes() + b"\0" * LIMIT)
    before = snapshot(big)
    monkeypatch.setattr(validation, "MAX_MODEL_FILE_BYTES", LIMIT)
    code, out, err = run(["-q", "predict", big, unlabelled, "-o", tmp_path / "calls.tsv"], capsys)
    assert_one_line_error(code, err, big, f"is larger than {LIMIT:,} bytes")
    with pytest.raises(ModelFileError, match=f"it is larger than {LIMIT:,} bytes, the limit for a model file"):
        lstmcore.load_model(big)
    assert_unchanged(before)


def test_read_bytes_reads_a_stream_up_to_its_limit_only(tmp_path, monkeypatch):
    class Endless(io.RawIOBase):
        given = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            Endless.given += len(buffer)
            buffer[:] = b"\1" * len(buffer)
            return len(buffer)

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    with pytest.raises(UserInputError, match=r"<stdin>: is larger than 1,000 bytes, the limit for a model file"):
        read_bytes("-", 1000, "model file")
    assert Endless.given <= 1000 + 8192 * 2  # what a buffered reader asks for beyond the limit, no more
    exact = tmp_path / "exact.bin"
    exact.write_bytes(b"x" * 1000)
    assert read_bytes(exact, 1000) == b"x" * 1000


def test_read_model_file_reads_the_path_once(trained, monkeypatch):
    """Every reader of the file (task name, state, shapes, weights) works from one read."""
    folder, data, unlabelled, model = trained
    opened = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        if Path(str(path)) == model:
            opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    contents = read_model_file(model)
    loaded = load_task_model(contents)
    assert loaded.task_name == "sequence-classification" and len(opened) == 1
