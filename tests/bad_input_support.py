"""What the tests of a user's mistakes (tests/test_bad_input_*.py) share: running the command line in-process,
the one-line error check, a small trained model, byte snapshots of files, and crafted model files."""
import json
import struct
from pathlib import Path

import numpy as np

from lstmcore.cli import main
from lstmcore.io.fasta import write_fasta


def run(argv, capsys):
    """Run `lstmcore ARGV` in-process; return (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, *fragments):
    """Exit status 2, one line `error: ...` holding every fragment, no traceback."""
    lines = [line.split("\r")[-1] for line in err.strip().split("\n")]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert str(fragment) in lines[0], lines[0]


def labelled_records(count=24, seed=1, letters="ACGT"):
    rng = np.random.default_rng(seed)
    return [(f"s{i}", "".join(rng.choice(list(letters), size=int(rng.integers(8, 13)))), "ab"[i % 2])
            for i in range(count)]


def write_data(folder: Path):
    """A labelled FASTA file and an unlabelled one in `folder`."""
    records = labelled_records()
    data = folder / "train.fa"
    write_fasta(data, records)
    unlabelled = folder / "unl.fa"
    write_fasta(unlabelled, [(rid, seq, None) for rid, seq, _ in records[:6]])
    return data, unlabelled


def train_small_model(folder: Path):
    """(labelled FASTA, unlabelled FASTA, model file) trained for one epoch through the command line."""
    data, unlabelled = write_data(folder)
    model = folder / "base.lstm"
    assert main(["-q", "train", "sequence-classification", str(data), "-o", str(model), "--epochs", "1",
                 "--batch-size", "8", "--config", '{"units": 4}']) == 0
    return data, unlabelled, model


def snapshot(*paths):
    """{path: bytes} of files, to check they are byte-identical after a refused command."""
    return {Path(p): Path(p).read_bytes() for p in paths}


def assert_unchanged(before):
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed"


def leftovers(folder: Path):
    """Temporary files an atomic write left behind (none may be)."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def crafted_model(source: Path, target: Path, edit):
    """Copy a model file, with `edit(header)` applied to its lstmcore JSON header (weights untouched)."""
    data = source.read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    outer = json.loads(data[8:8 + length])
    header = json.loads(outer["__metadata__"]["lstmcore"])
    edit(header)
    outer["__metadata__"]["lstmcore"] = json.dumps(header)
    text = json.dumps(outer).encode()
    text += b" " * (-len(text) % 8)
    target.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length:])
    return target


def crafted_tensors(source: Path, target: Path, edit_tensors):
    """Copy a model file with `edit_tensors(tensors)` applied to its {name: array} (header untouched): a
    weight removed, or a zero-byte tensor of any shape added (what a crafted file can hold at no cost)."""
    import safetensors.numpy

    data = Path(source).read_bytes()
    length = struct.unpack("<Q", data[:8])[0]
    metadata = json.loads(data[8:8 + length])["__metadata__"]
    tensors = safetensors.numpy.load(data)
    edit_tensors(tensors)
    Path(target).write_bytes(safetensors.numpy.save(tensors, metadata=metadata))
    return target
