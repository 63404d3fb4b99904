"""Outputs never replace an input or a special file; `-` is standard output and standard input; a full disk,
a folder in the way and a second Ctrl-C are one line each (issue 20)."""
import errno
import gzip
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lstmcore.io.atomic as atomic
from lstmcore.errors import UserInputError
from lstmcore.io.outputs import check_output, open_output, prepare_output_folder
from lstmcore.tasks import workflows

from bad_input_support import (assert_one_line_error, assert_unchanged, leftovers, run, snapshot,
                               train_small_model)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs")
    return (folder, *train_small_model(folder))


@pytest.fixture
def copies(trained, tmp_path):
    """Fresh copies of the data and the model in tmp_path (tests may try to destroy them)."""
    _, data, unlabelled, model = trained
    paths = {}
    for source in (data, unlabelled, model):
        target = tmp_path / source.name
        target.write_bytes(source.read_bytes())
        paths[source.stem] = target
    return paths["train"], paths["unl"], paths["base"]


# --- an output that is an input -------------------------------------------------------------------------

def test_predict_output_onto_its_data_is_refused(copies, tmp_path, capsys):
    data, unlabelled, model = copies
    before = snapshot(unlabelled, model)
    code, out, err = run(["predict", model, unlabelled, "-o", unlabelled], capsys)
    assert_one_line_error(code, err, unlabelled, "the output is the input", "choose another output name")
    assert_unchanged(before)
    assert leftovers(tmp_path) == []


def test_predict_output_onto_its_model_is_refused(copies, capsys):
    data, unlabelled, model = copies
    before = snapshot(model)
    code, out, err = run(["predict", model, unlabelled, "-o", model], capsys)
    assert_one_line_error(code, err, model, "the output is the input")
    assert_unchanged(before)


def test_train_output_onto_its_data_is_refused(copies, capsys):
    data, unlabelled, model = copies
    before = snapshot(data)
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", data], capsys)
    assert_one_line_error(code, err, data, "the output is the input")
    assert_unchanged(before)


def test_train_output_onto_its_label_table_is_refused(copies, tmp_path, capsys):
    data, unlabelled, model = copies
    table = tmp_path / "labels.tsv"
    table.write_text("id\tlabel\n" + "".join(f"s{i}\t{'ab'[i % 2]}\n" for i in range(24)))
    before = snapshot(table)
    code, out, err = run(["-q", "train", "sequence-classification", data, "--labels", table, "-o", table], capsys)
    assert_one_line_error(code, err, table, "the output is the input")
    assert_unchanged(before)


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_an_output_linked_to_an_input_is_refused_naming_both(copies, tmp_path, capsys, link):
    data, unlabelled, model = copies
    other = tmp_path / "other_name.tsv"
    (os.symlink if link == "symlink" else os.link)(unlabelled, other)
    before = snapshot(unlabelled)
    code, out, err = run(["predict", model, unlabelled, "-o", other], capsys)
    assert_one_line_error(code, err, other, f"the output is the input {unlabelled}", "the same file")
    assert_unchanged(before)
    assert other.is_symlink() == (link == "symlink")


def test_motif_training_output_onto_its_data_is_refused(copies, capsys):
    pytest.importorskip("lstmcore_motif")
    data, unlabelled, model = copies
    before = snapshot(data)
    code, out, err = run(["-q", "train", "motif", data, "-o", data], capsys)
    assert_one_line_error(code, err, data, "the output is the input")
    assert_unchanged(before)


# --- special files ------------------------------------------------------------------------------------

def _special(kind, path):
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        try:
            os.mknod(path, 0o666 | __import__("stat").S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
        except PermissionError:
            pytest.skip("creating a device node needs root")
    return path


@pytest.mark.parametrize("kind, words", [("fifo", "a FIFO"), ("device", "a device"), ("folder", "a folder")])
def test_an_existing_output_that_is_not_a_regular_file_is_never_replaced(copies, tmp_path, capsys, kind, words):
    data, unlabelled, model = copies
    target = _special(kind, tmp_path / "special.tsv")
    mode = os.lstat(target).st_mode
    code, out, err = run(["predict", model, unlabelled, "-o", target], capsys)
    assert_one_line_error(code, err, target, words)
    assert os.lstat(target).st_mode == mode
    assert leftovers(tmp_path) == []


def test_a_symlink_to_a_special_file_is_refused_and_kept(copies, tmp_path, capsys):
    data, unlabelled, model = copies
    fifo = _special("fifo", tmp_path / "pipe")
    link = tmp_path / "stdout-like.tsv"
    link.symlink_to(fifo)
    code, out, err = run(["predict", model, unlabelled, "-o", link], capsys)
    assert_one_line_error(code, err, link, "a FIFO")
    assert link.is_symlink() and os.readlink(link) == str(fifo)


def test_a_symlink_to_a_regular_file_is_written_through(copies, tmp_path, capsys):
    data, unlabelled, model = copies
    target = tmp_path / "real.tsv"
    link = tmp_path / "link.tsv"
    link.symlink_to(target)
    code, out, err = run(["-q", "predict", model, unlabelled, "-o", link], capsys)
    assert code == 0, err
    assert link.is_symlink() and target.read_text().startswith("id\tpredicted\t")


def test_model_save_refuses_a_special_file(copies, tmp_path):
    import lstmcore

    data, unlabelled, model = copies
    fifo = _special("fifo", tmp_path / "model.lstm")
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):
        lstmcore.load_model(model).save(fifo)
    assert os.path.exists(fifo) and not os.path.isfile(fifo)


def test_check_output_in_python(tmp_path):
    data = tmp_path / "in.fa"
    data.write_text(">a\nACGT\n")
    with pytest.raises(UserInputError, match="the output is the input"):
        check_output(data, [data])
    with pytest.raises(UserInputError, match="cannot go to standard output"):
        check_output("-", [], allow_stdout=False)
    assert check_output("-", [data]) is None
    assert check_output(tmp_path / "new.tsv", [data]) == tmp_path / "new.tsv"


def test_the_names_of_open_files_are_never_replaced(tmp_path):
    """/dev/stdout and /proc/self/fd/1 stand for what standard output is open on (a log a shell appends
    to with >>): replacing them replaced that file.  Refused, as is a link to one; /dev/shm is a file
    system like any other."""
    link = tmp_path / "out.tsv"
    link.symlink_to("/proc/self/fd/1")
    for name in ("/dev/stdout", "/proc/self/fd/1", "/dev/fd/2", link):
        with pytest.raises(UserInputError, match=r"cannot write the output: it is in /(dev|proc)/, whose names "
                                                 r"stand for devices and open files.*with -o -"):
            atomic.check_writable(name)
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        assert atomic.check_writable("/dev/shm/lstmcore-scratch.tsv") == Path("/dev/shm/lstmcore-scratch.tsv")


def test_output_and_input_names_the_system_cannot_take_are_one_line(tmp_path):
    too_long = tmp_path / ("a" * 300 + ".tsv")
    with pytest.raises(UserInputError, match=r"cannot write the output: File name too long"):
        atomic.check_writable(too_long)
    with pytest.raises(UserInputError, match=r"cannot read it: File name too long"):
        workflows.require_files([too_long])
    with pytest.raises(UserInputError, match=r"cannot write the output: its name is empty"):
        atomic.check_writable("")
    (tmp_path / "small.fa").write_text(">a\nACGT\n")
    with pytest.raises(UserInputError, match=r"folder '.*small\.fa' is a file, not a folder"):
        atomic.check_writable(tmp_path / "small.fa" / "x.tsv")
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    with pytest.raises(UserInputError, match=r"loop1: cannot read it: Too many levels of symbolic links"):
        workflows.require_files([tmp_path / "loop1"])


# --- standard output and standard input -----------------------------------------------------------------

def test_predictions_to_standard_output(copies, capsys):
    data, unlabelled, model = copies
    code, out, err = run(["-q", "predict", model, unlabelled, "-o", "-"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("id\tpredicted\tp_a\tp_b") and len(lines) == 7
    assert "predictions: standard output (6 rows)" in err  # the summary stays off the table


def _lstmcore(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "lstmcore", *map(str, args)], capture_output=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, **kwargs)


def test_gzip_data_through_a_pipe_is_read_once(copies, tmp_path):
    data, unlabelled, model = copies
    piped = gzip.compress(unlabelled.read_bytes())
    result = _lstmcore(["-q", "predict", model, "-", "-o", "-"], input=piped)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.decode().splitlines()) == 7


def test_gzip_data_through_a_fifo_is_read_once(copies, tmp_path):
    data, unlabelled, model = copies
    fifo = tmp_path / "data.fa"
    os.mkfifo(fifo)
    output = tmp_path / "out.tsv"
    process = subprocess.Popen([sys.executable, "-m", "lstmcore", "-q", "predict", str(model), str(fifo), "-o",
                                str(output)], stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"})
    descriptor = _open_fifo_for_writing(fifo, process)
    with os.fdopen(descriptor, "wb") as writer:
        writer.write(gzip.compress(unlabelled.read_bytes()))
    assert process.wait(timeout=120) == 0, process.stderr.read()
    assert len(output.read_text().splitlines()) == 7


def _open_fifo_for_writing(fifo, process, timeout=120):
    """Open the FIFO's writing end once the command has opened its reading end (never block for ever)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            descriptor = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:  # ENXIO: no reader yet
            if error.errno != errno.ENXIO or process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"the command never opened the FIFO: {process.stderr.read()!r}") from None
            time.sleep(0.05)
            continue
        os.set_blocking(descriptor, True)
        return descriptor


def test_standard_input_given_twice_is_an_error(copies, capsys):
    data, unlabelled, model = copies
    code, out, err = run(["predict", model, "-", "-", "-o", "x.tsv"], capsys)
    assert_one_line_error(code, err, "standard input", "only once")


def test_a_model_cannot_be_written_to_standard_output(copies, capsys):
    data, unlabelled, model = copies
    code, out, err = run(["-q", "train", "sequence-classification", data, "-o", "-"], capsys)
    assert_one_line_error(code, err, "standard output", "name a file")


# --- tracebacks that are now one line -------------------------------------------------------------------

def test_a_full_disk_while_writing_predictions(copies, tmp_path, capsys, monkeypatch):
    data, unlabelled, model = copies
    output = tmp_path / "calls.tsv"
    output.write_text("earlier results\n")

    class FullDisk:
        def __init__(self, path, mode, **kwargs):
            self.handle = open(path, mode, **kwargs)

        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(atomic, "_open_temporary", FullDisk)
    code, out, err = run(["-q", "predict", model, unlabelled, "-o", output], capsys)
    assert_one_line_error(code, err, output, "No space left on device", "unchanged")
    assert output.read_text() == "earlier results\n"
    assert leftovers(tmp_path) == []


def test_motif_discover_into_an_existing_file(copies, tmp_path, capsys):
    pytest.importorskip("lstmcore_motif")
    data, unlabelled, model = copies
    in_the_way = tmp_path / "motifs"
    in_the_way.write_text("not a folder")
    code, out, err = run(["motif", "discover", model, data, "-o", in_the_way], capsys)
    assert_one_line_error(code, err, in_the_way, "is not a folder")
    assert in_the_way.read_text() == "not a folder"


def test_output_folder_that_cannot_be_created_or_written(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserInputError, match="cannot create the output folder"):
        prepare_output_folder(tmp_path / "file" / "sub")
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # a read-only folder, as a non-root user sees it
    with pytest.raises(UserInputError, match="not writable"):
        prepare_output_folder(tmp_path / "readonly")


def test_motif_discover_into_a_read_only_folder(copies, tmp_path, capsys, monkeypatch):
    pytest.importorskip("lstmcore_motif")
    data, unlabelled, model = copies
    folder = tmp_path / "out"
    folder.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path) == folder else real_access(path, mode))
    code, out, err = run(["motif", "discover", model, data, "-o", folder], capsys)
    assert_one_line_error(code, err, folder, "not writable")
    assert list(folder.iterdir()) == []


def test_a_second_ctrl_c_during_the_clean_up_is_one_line(copies, tmp_path, capsys, monkeypatch):
    data, unlabelled, model = copies
    output = tmp_path / "calls.tsv"
    real_remove = atomic._remove_temporary

    def interrupted_rows(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C, while predicting
        time.sleep(1)  # (the handler raises KeyboardInterrupt here)

    def remove_after_a_second_ctrl_c(temporary):
        os.kill(os.getpid(), signal.SIGINT)  # the second, during the clean-up
        real_remove(temporary)

    monkeypatch.setattr(workflows, "write_table", _writer_that_calls(interrupted_rows))
    monkeypatch.setattr(atomic, "_remove_temporary", remove_after_a_second_ctrl_c)
    code, out, err = run(["-q", "predict", model, unlabelled, "-o", output], capsys)
    assert code == 130 and err.strip() == "error: interrupted", err
    assert not output.exists() and leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _writer_that_calls(interrupt):
    from lstmcore.io.writers import write_table

    def write(path, header, rows, writer=None):
        def interrupted():
            yield from []
            interrupt()
        return write_table(path, header, interrupted(), writer)
    return write


def test_open_output_streams_to_stdout(capsys):
    with open_output("-") as handle:
        handle.write("a\tb\n")
    assert capsys.readouterr().out == "a\tb\n"
