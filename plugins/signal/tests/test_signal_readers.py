"""Each reader on small hand-made files, read exactly (shape, labels, lengths, channels), and the
.ts reader against the archive's own data (ECG200 written as a .ts file reads back as its UCR table)."""
import numpy as np
import pytest

from lstmcore.errors import UserInputError
from lstmcore_signal.folder_format import read_trace_folder, read_trace_index
from lstmcore_signal.npz_format import read_npz_traces
from lstmcore_signal.readers import format_of, read_traces
from lstmcore_signal.ts_format import read_ts, read_ts_arrays
from lstmcore_signal.ucr_format import read_ucr

MULTIVARIATE_TS = """# a hand-made multivariate file with unequal lengths and a missing value
@problemName handmade
@timeStamps false
@missing true
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3:10,20,30:up
4,?,6,7:40,50,60,70:down
"""


def test_ucr_tsv_with_trailing_nan_padding(write):
    path = write("a.tsv", "1\t0.5\t1.5\t2.5\n-1\t3\t4\tNaN\n2.0000000e+00\t5\t6\t7\n")
    traces = read_ucr(path)
    assert traces.labels == ["1", "-1", "2"]
    assert traces.lengths.tolist() == [3, 2, 3] and traces.channels == 1
    np.testing.assert_array_equal(traces.series[1][:, 0], [3.0, 4.0])
    assert traces.ids == ["row1", "row2", "row3"] and traces.records[1] == "row 2"


def test_ucr_csv_and_whitespace_txt_and_no_label_column(write):
    assert read_ucr(write("a.csv", "1,0.1,0.2\n2,0.3,0.4\n")).series[1][:, 0].tolist() == [0.3, 0.4]
    assert read_ucr(write("a.txt", "  1  0.1  0.2\n  2  0.3  0.4\n")).labels == ["1", "2"]
    unlabelled = read_ucr(write("b.tsv", "0.1\t0.2\t0.3\n"), label_column=False)
    assert unlabelled.labels is None and unlabelled.series[0][:, 0].tolist() == [0.1, 0.2, 0.3]


def test_ts_multivariate_unequal_lengths_missing_values(write):
    traces = read_ts(write("m.ts", MULTIVARIATE_TS))
    assert traces.labels == ["up", "down"] and traces.channels == 2
    assert traces.lengths.tolist() == [3, 4] and traces.records == ["line 10", "line 11"]
    np.testing.assert_array_equal(traces.series[0], [[1, 10], [2, 20], [3, 30]])
    assert np.isnan(traces.series[1][1, 0]) and traces.series[1][3, 1] == 70


def test_ts_arrays_reader_is_registered_for_every_task(write):
    from lstmcore.io.readers import reader_for

    arrays = reader_for(write("m.ts", MULTIVARIATE_TS)).read(write("n.ts", MULTIVARIATE_TS))
    assert arrays["X"].shape == (2, 4, 2) and arrays["lengths"].tolist() == [3, 4]
    assert arrays["y"].tolist() == ["up", "down"] and np.isnan(arrays["X"][0, 3, 0])
    assert read_ts_arrays(write("o.ts", MULTIVARIATE_TS))["X"][1, 2, 1] == 60


def test_ts_old_multivariate_spelling_and_unlabelled(write):
    text = "@problemName x\n@timeStamps false\n@multivariate true 2\n@classLabel false\n@data\n1,2:3,4\n"
    traces = read_ts(write("old.ts", text))
    assert traces.labels is None and traces.series[0].tolist() == [[1, 3], [2, 4]]


def test_ts_read_against_the_archives_ecg200(ecg_data, tmp_path):
    """ECG200_TRAIN.tsv written in the archive's .ts layout (as sktime's writer does) reads back equal."""
    ucr = read_ucr(ecg_data / "ECG200" / "ECG200_TRAIN.tsv")
    lines = ["@problemName ECG200", "@timeStamps false", "@missing false", "@univariate true",
             "@equalLength true", "@seriesLength 96", "@classLabel true -1 1", "@data"]
    raw = [line.split("\t") for line in (ecg_data / "ECG200" / "ECG200_TRAIN.tsv").read_text().splitlines()]
    lines += [",".join(cells[1:]) + ":" + str(int(float(cells[0]))) for cells in raw]
    ts = read_ts(_written(tmp_path / "ECG200_TRAIN.ts", "\n".join(lines) + "\n"))
    assert len(ts) == 100 and ts.labels == ucr.labels and ts.lengths.tolist() == [96] * 100
    np.testing.assert_array_equal(np.stack(ts.series), np.stack(ucr.series))
    assert sorted(set(ucr.labels)) == ["-1", "1"] and ucr.labels.count("-1") == 31


def _written(path, text):
    path.write_text(text)
    return path


def test_ucr_archive_files_read_exactly(ecg_data):
    for name, n, length, counts in (("ECG200", 100, 96, {"-1": 36, "1": 64}),
                                    ("TwoLeadECG", 1139, 82, {"1": 569, "2": 570}),
                                    ("ECGFiveDays", 861, 136, {"1": 428, "2": 433})):
        traces = read_ucr(ecg_data / name / f"{name}_TEST.tsv")
        assert len(traces) == n and set(traces.lengths.tolist()) == {length} and traces.channels == 1
        assert {c: traces.labels.count(c) for c in counts} == counts


def test_npz_two_and_three_dimensional(tmp_path):
    path = tmp_path / "a.npz"
    x = np.arange(12, dtype=float).reshape(2, 3, 2)
    x[1, 2] = np.nan
    np.savez(path, X=x, y=np.array([1.0, 2.0]), ids=np.array(["cellA", "cellB"]))
    traces = read_npz_traces(path, labelled=True)
    assert traces.labels == ["1", "2"] and traces.ids == ["cellA", "cellB"]
    assert traces.lengths.tolist() == [3, 2] and traces.channels == 2
    np.savez(tmp_path / "b.npz", X=np.ones((3, 5)), y=np.array(["a", "b", "a"]), lengths=np.array([5, 4, 2]))
    flat = read_npz_traces(tmp_path / "b.npz", labelled=True)
    assert flat.lengths.tolist() == [5, 4, 2] and flat.channels == 1 and flat.labels == ["a", "b", "a"]


def test_folder_of_csv_traces_with_labels_table(write, tmp_path):
    write("cells/c1.csv", "ca,voltage\n0.1,1\n0.2,2\n0.3,3\n")
    write("cells/c2.csv", "0.5,5\n0.6,6\n")
    index = write("cells/labels.tsv", "file\tlabel\nc1.csv\tdividing\nc2.csv\tresting\n")
    for traces in (read_trace_index(index, labelled=True), read_trace_folder(tmp_path / "cells", labelled=True)):
        assert traces.ids == ["c1", "c2"] and traces.labels == ["dividing", "resting"]
        assert traces.lengths.tolist() == [3, 2] and traces.channels == 2
        assert traces.series[0][2].tolist() == [0.3, 3.0]
    assert format_of(index) == "folder" and format_of(write("u.tsv", "1\t2\t3\n")) == "ucr"
    unlabelled = read_trace_folder(tmp_path / "cells", labelled=False)
    assert unlabelled.labels == ["dividing", "resting"]


def test_several_files_concatenate_and_channel_mismatch_is_an_error(write):
    a = write("a.tsv", "1\t1\t2\n")
    b = write("b.tsv", "2\t3\t4\t5\n")
    traces = read_traces([a, b], {}, labelled=True)
    assert traces.labels == ["1", "2"] and traces.files == [str(a), str(b)]
    m = write("m.ts", MULTIVARIATE_TS)
    with pytest.raises(UserInputError, match="has 2 channels, the first trace has 1"):
        read_traces([a, m], {}, labelled=True)


@pytest.mark.parametrize("text,message", [
    ("@classLabel true a b\n@data\n1,2:c\n", "class 'c' is not among those @classLabel declares"),
    ("@dimensions 2\n@classLabel true a\n@data\n1,2:a\n", "has 1 channels but the header declares 2"),
    ("@univariate true\n@classLabel true a\n@data\n1,2:3,4:a\n", "has 2 channels but the header declares 1"),
    ("@equalLength true\n@classLabel true a\n@data\n1,2:a\n1,2,3:a\n",
     "header says @equalLength true"),
    ("@seriesLength 3\n@classLabel true a\n@data\n1,2:a\n", "@seriesLength is 3"),
    ("@missing false\n@classLabel true a\n@data\n1,?:a\n", "@missing false"),
    ("@timeStamps true\n@data\n(1,2):a\n", "@timeStamps true is not supported"),
    ("@classLabel true a\n1,2:a\n", "data before @data"),
    ("@classLabel true a\n", "has no @data line"),
    ("@classLabel true a\n@data\n1,x:a\n", "'x' is not a number"),
], ids=["undeclared-class", "too-few-channels", "univariate-but-two", "unequal-under-equal-length",
        "series-length", "missing-under-missing-false", "timestamps", "data-before-header-ends", "no-data-line",
        "word-in-data"])
def test_ts_header_disagreeing_with_data_names_the_line(write, text, message):
    with pytest.raises(UserInputError, match=message) as caught:
        read_ts(write("bad.ts", text))
    assert caught.value.file.endswith("bad.ts")
