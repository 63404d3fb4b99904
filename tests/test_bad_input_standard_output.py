"""Standard output that cannot be written: a full disk (ENOSPC, EDQUOT, EFBIG, EIO) is one line and exit 2,
whether `-o -` streams a table or a command prints its results; a reader that leaves early (EPIPE) ends the
command quietly with status 141 (issue 20)."""
import errno
import io
import os
import shutil
import subprocess
import sys

import pytest

from lstmcore.io.fasta import write_fasta
from lstmcore.io.outputs import StandardOutputError, open_output
from lstmcore.io.writers import write_table

from bad_input_support import assert_one_line_error, assert_unchanged, run, snapshot, train_small_model

FULL_DISK = "error: <stdout>: cannot write to standard output: No space left on device"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("standard-output")
    return (folder, *train_small_model(folder))


def _lstmcore(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "lstmcore", *map(str, args)], timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, **kwargs)


def _assert_quiet_one_line(stderr: str, expected: str):
    """One line, the one expected; no traceback, and nothing from the interpreter's exit ("Exception ignored")."""
    assert stderr.splitlines() == [stderr.strip()] and stderr.startswith(expected), stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


# --- a full disk ----------------------------------------------------------------------------------------

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="a full disk is simulated with Linux's /dev/full")
@pytest.mark.parametrize("command", [["-q", "predict", "{model}", "{data}", "-o", "-"],
                                     ["evaluate", "{model}", "{labelled}"],
                                     ["info", "{model}", "--json"]],
                         ids=["predict-table", "evaluate-printed", "info-printed"])
def test_a_full_disk_on_standard_output_is_one_line(trained, command):
    folder, labelled, unlabelled, model = trained
    before = snapshot(labelled, unlabelled, model)
    argv = [part.format(model=model, data=unlabelled, labelled=labelled) for part in command]
    with open("/dev/full", "w") as full:  # every write to /dev/full fails with ENOSPC
        result = _lstmcore(argv, stdout=full, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 2, result.stderr
    _assert_quiet_one_line(result.stderr, FULL_DISK)
    assert_unchanged(before)


class _FailingStream(io.TextIOBase):
    """A text stream whose writes fail with `error_number` (a full disk, an I/O error, a closed pipe)."""

    def __init__(self, error_number):
        self.error_number = error_number
        self.buffer = self

    def write(self, text):
        raise OSError(self.error_number, os.strerror(self.error_number))

    def flush(self):
        pass


@pytest.mark.parametrize("error_number", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO],
                         ids=["ENOSPC", "EDQUOT", "EFBIG", "EIO"])
def test_write_table_to_standard_output_raises_the_user_error(monkeypatch, error_number):
    monkeypatch.setattr(sys, "stdout", _FailingStream(error_number))
    with pytest.raises(StandardOutputError, match=f"<stdout>: cannot write to standard output: "
                                                  f"{os.strerror(error_number)}"):
        write_table("-", ["id", "p"], [["a", 0.5]])
    with pytest.raises(StandardOutputError):
        with open_output("-", "wb") as handle:
            handle.write(b"x")


def test_a_closed_pipe_stays_a_broken_pipe_in_python(monkeypatch):
    monkeypatch.setattr(sys, "stdout", _FailingStream(errno.EPIPE))
    with pytest.raises(BrokenPipeError):
        write_table("-", ["id", "p"], [["a", 0.5]])


def test_a_full_disk_through_the_command_line_in_process(trained, monkeypatch, capsys):
    folder, labelled, unlabelled, model = trained
    monkeypatch.setattr(sys, "stdout", _FailingStream(errno.EDQUOT))
    code, out, err = run(["-q", "predict", model, unlabelled, "-o", "-"], capsys)
    assert_one_line_error(code, err, "<stdout>", os.strerror(errno.EDQUOT))


# --- a reader that leaves --------------------------------------------------------------------------------

def _many_records(folder):
    """6,000 records: a table of about 180 KB, more than a pipe holds."""
    path = folder / "many.fa"
    write_fasta(path, [(f"r{i}", "ACGTACGTAC"[i % 3:], None) for i in range(6000)])
    return path


def test_a_reader_that_leaves_early_ends_the_command_quietly_with_141(trained, tmp_path):
    """`lstmcore predict MODEL DATA -o - | head -1`: a real pipe, closed after one line while the command still
    has most of its table to write (more than a pipe's 64 KiB buffer)."""
    folder, labelled, unlabelled, model = trained
    many = _many_records(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "lstmcore", "-q", "predict", str(model), str(many), "-o", "-"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        first = process.stdout.readline()
        process.stdout.close()  # as `head -1` does
        code = process.wait(timeout=120)
        stderr = process.stderr.read().decode()
    finally:
        process.kill()
    assert first.startswith(b"id\tpredicted\t")
    assert code == 141, stderr
    assert stderr == ""  # no traceback, no "Exception ignored", no message at all


@pytest.mark.skipif(shutil.which("bash") is None, reason="the pipe is written in bash (PIPESTATUS)")
def test_a_shell_pipe_into_head(trained, tmp_path):
    folder, labelled, unlabelled, model = trained
    many = _many_records(tmp_path)
    line = f"{sys.executable} -m lstmcore -q predict {model} {many} -o - | head -1; echo \"status ${{PIPESTATUS[0]}}\""
    result = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.stdout.splitlines()[0].startswith("id\tpredicted\t")
    assert result.stdout.splitlines()[-1] == "status 141" and result.stderr == ""
