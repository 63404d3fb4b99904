"""Helpers the motif tests import (a module name of its own: `conftest` is ambiguous across test folders)."""
import numpy as np

from lstmcore.cli import main
from lstmcore.io.fasta import write_fasta


def run(argv, capsys):
    """The `lstmcore` command on `argv` (paths may be Path objects): (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err

def assert_one_line_error(status, err, *fragments):
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    for fragment in fragments:
        assert str(fragment) in lines[0], lines[0]



def train_small_model(folder):
    """(FASTA with labels in its headers, motif model file) in `folder`, trained for one epoch: enough to run
    the motif commands."""
    rng = np.random.default_rng(0)
    data = folder / "train.fa"
    write_fasta(data, [(f"s{i}", "".join(rng.choice(list("ACGT"), size=12)), "ab"[i % 2]) for i in range(16)])
    model = folder / "model.lstm"
    assert main(["-q", "train", "motif", str(data), "-o", str(model), "--epochs", "1", "--threads", "1"]) == 0
    return data, model
