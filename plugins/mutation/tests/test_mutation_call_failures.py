"""`lstmcore mutation call` when things go wrong: a run that calls no genome leaves earlier outputs as they
were, an unreadable reference is one line, and the per-genome progress bar (terminals only, hidden by -q)."""
import gzip
import io
import sys

import numpy as np
import pytest

from lstmcore.cli import main
from lstmcore_mutation.planting import apply_calls, plant_mutations

from mutation_testdata import run, write_fasta


@pytest.fixture()
def genomes(tmp_path, reference_sequence):
    rng = np.random.default_rng(5)
    return write_fasta(tmp_path / "genomes.fasta",
                       [(f"g{i}", apply_calls(reference_sequence, plant_mutations(reference_sequence, rng)))
                        for i in range(2)])


def _contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("output", ["keep.tsv", "keep.vcf"])
@pytest.mark.parametrize("bad_records", [1, 3])
def test_a_run_that_calls_no_genome_leaves_the_earlier_outputs_untouched(tmp_path, capsys, reference_file, genomes,
                                                                         output, bad_records):
    out = tmp_path / output
    assert run(["-q", "mutation", "call", str(reference_file), str(genomes), "-o", str(out)], capsys)[0] == 0
    before = _contents(tmp_path)
    assert out.name in before and "keep.summary.tsv" in before
    all_n = write_fasta(tmp_path / "allN.fa", [(f"r{i}", "N" * 20) for i in range(bad_records)])
    before = _contents(tmp_path)
    status, stdout, err = run(["-q", "mutation", "call", str(reference_file), str(all_n), "-o", str(out)], capsys)
    assert status == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {all_n}: record r0: not called: too many N")
    assert err.rstrip().endswith("so nothing is written") and "calls are written" not in err
    if bad_records > 1:
        assert f"none of the {bad_records} genomes could be called" in err
    assert _contents(tmp_path) == before            # outputs as they were, no temporary file left behind


def test_a_run_that_calls_some_genomes_still_writes_them(tmp_path, capsys, reference_file, genomes):
    out = tmp_path / "calls.tsv"
    all_n = write_fasta(tmp_path / "allN.fa", [("r", "N" * 20)])
    status, _, err = run(["-q", "mutation", "call", str(reference_file), str(genomes), str(all_n), "-o", str(out)],
                         capsys)
    assert status == 2 and err.count("\n") == 1
    assert f"record r: not called: too many N" in err and "the other 2 genomes' calls are written" in err
    assert {line.split("\t")[0] for line in out.read_text().splitlines()[1:]} == {"g0", "g1"}
    assert len((tmp_path / "calls.summary.tsv").read_text().splitlines()) == 4


@pytest.mark.parametrize("content, expected", [
    pytest.param(b"", "is empty: no reference record", id="empty"),
    pytest.param(gzip.compress(b"", mtime=0), "is empty: no reference record", id="empty-gzip"),
    pytest.param(b">only-a-header\n", "record only-a-header: the reference has no sequence", id="header-only"),
    pytest.param(b"hello world\nACGT\n", "is not FASTA or GenBank: line 1 comes before the first '>' header",
                 id="text"),
    pytest.param(bytes(range(256)) * 4, "is a binary file or not UTF-8 text", id="binary"),
    pytest.param(gzip.compress(b">ref\n" + b"ACGT" * 200, mtime=0)[:20], "cannot be read", id="truncated-gzip"),
])
def test_an_empty_or_unreadable_reference_is_one_line(tmp_path, capsys, genomes, content, expected):
    reference = tmp_path / "reference.fa"
    reference.write_bytes(content)
    status, _, err = run(["-q", "mutation", "call", str(reference), str(genomes), "-o", str(tmp_path / "c.tsv")],
                         capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"error: {reference}: ") and expected in err
    assert not (tmp_path / "c.tsv").exists()


class _Terminal(io.StringIO):
    """A standard error that says it is a terminal (of no known size, as `script` or `docker exec -t` give)."""

    def isatty(self):
        return True


def test_a_terminal_shows_a_per_genome_bar_and_quiet_hides_it(tmp_path, monkeypatch, reference_file, genomes):
    outputs = {}
    for quiet in (False, True):
        terminal = _Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        out = tmp_path / f"calls{int(quiet)}.tsv"
        status = main([*(["-q"] if quiet else []), "mutation", "call", str(reference_file), str(genomes),
                       "-o", str(out)])
        monkeypatch.undo()
        assert status == 0
        shown = terminal.getvalue()
        if quiet:
            assert shown == ""
        else:
            assert "align:" in shown and "2/2" in shown and "genomes" in shown   # counted out of the records
        outputs[quiet] = (out.read_bytes(), out.with_name(out.name.replace(".tsv", ".summary.tsv")).read_bytes())
    assert outputs[False] == outputs[True]             # the bar changes no output


def test_no_bar_off_a_terminal(tmp_path, capsys, reference_file, genomes):
    status, _, err = run(["mutation", "call", str(reference_file), str(genomes), "-o", str(tmp_path / "c.tsv")],
                         capsys)
    assert status == 0 and err == ""
