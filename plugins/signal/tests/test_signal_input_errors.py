"""A user's mistake in a signal file is one short line naming the file, the record and the problem (exit
status 2): another separator, a .ts line without its class, a word in a per-trace CSV file, a labels table
naming a folder; and quoted numbers in a UCR CSV file are numbers."""
import numpy as np
import pytest

from lstmcore.cli import main
from lstmcore.errors import UserInputError
from lstmcore_signal.folder_format import read_trace_index
from lstmcore_signal.ts_format import read_ts
from lstmcore_signal.ucr_format import read_ucr

LONG_ROW = [f"{np.sin(i / 7):.8f}" for i in range(400)]  # a row of thousands of characters


def train_error(tmp_path, capsys, data):
    """The one line `lstmcore train signal DATA` writes to stderr, checked to exit 2 and be short."""
    status = main(["train", "signal", str(data), "-o", str(tmp_path / "m.lstm")])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, err[:500]
    assert len(lines[0]) < 400, lines[0]
    assert not (tmp_path / "m.lstm").exists()
    return lines[0]


@pytest.mark.parametrize("name,separator,named", [
    ("semicolons.csv", ";", "';'"), ("tabs.csv", "\t", "tabs"), ("semicolons.tsv", ";", "';'"),
    ("commas.tsv", ",", "','"), ("semicolons.txt", ";", "';'")])
def test_ucr_table_with_another_separator_names_the_row_and_separator(tmp_path, capsys, write, name, separator,
                                                                      named):
    rows = [separator.join([str(label)] + LONG_ROW) for label in (1, 2, 1)]
    data = write(name, "\n".join(rows) + "\n")
    line = train_error(tmp_path, capsys, data)
    assert line.startswith(f"error: {data}: record row 1: one column found: is the file separated by {named}?")
    assert "..." in line and ";".join(LONG_ROW[:8]) not in line


def test_ucr_row_longer_than_the_csv_field_limit_under_another_separator(tmp_path, capsys, write):
    row = ";".join(["1"] + LONG_ROW * 40)  # over csv's field size limit (131072 characters)
    line = train_error(tmp_path, capsys, write("huge.csv", row + "\n" + row + "\n"))
    assert "record row 1: one column found: is the file separated by ';'?" in line


def test_long_words_in_ucr_cells_are_quoted_in_short(tmp_path, capsys, write):
    word = "x" * 5000
    line = train_error(tmp_path, capsys, write("label.tsv", f"1\t0.1\t0.2\n{word}\t0.3\t0.4\n"))
    assert "record row 2: the label (first column) 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... is not" in line
    line = train_error(tmp_path, capsys, write("sample.tsv", f"1\t0.1\t0.2\n2\t0.3\t{word}\n"))
    assert "record row 2: column 3: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'... is not a number" in line


TS_HEADER = "@problemName x\n@univariate true\n@classLabel true a b\n@data\n"


@pytest.mark.parametrize("header,row,problem", [
    (TS_HEADER, ",".join(LONG_ROW), "no class after the last ':'"),
    ("@classLabel true\n@data\n", ",".join(LONG_ROW), "no class after the last ':'"),
    ("@classLabel true\n@data\n", "1,2,3:" + ",".join(LONG_ROW), "no class after the last ':': the last part"),
    ("@classLabel true\n@data\n", "1,2,3:", "the class after the last ':' is empty"),
    (TS_HEADER, "1,2,3:" + "c" * 3000, "class 'cccccccccccccccccccccccccccccccccccccccc'... is not among"),
], ids=["no-colon", "no-colon-undeclared", "values-as-class", "empty-class", "long-undeclared-class"])
def test_ts_data_line_without_its_class_names_the_line(tmp_path, capsys, write, header, row, problem):
    data = write("bad.ts", header + "1,2,3:a\n" + row + "\n")
    line = train_error(tmp_path, capsys, data)
    record = f"line {header.count(chr(10)) + 2}"
    assert line.startswith(f"error: {data}: record {record}: {problem}"), line
    assert ",".join(LONG_ROW[:8]) not in line


def test_ts_classes_and_values_still_read(write):
    traces = read_ts(write("ok.ts", "@classLabel true\n@data\n1,2,3:a\n4,5,6:b b\n7,8,9:1\n"))
    assert traces.labels == ["a", "b b", "1"] and traces.series[2][:, 0].tolist() == [7, 8, 9]


def _folder(write, bad_text="a,b\n1,2\n3,abc\n5,6\n"):
    write("cells/good.csv", "1,2\n3,4\n5,6\n")
    write("cells/bad.csv", bad_text)
    write("cells/sub/x.csv", "1,2\n")


def test_word_in_a_per_trace_csv_names_the_row_column_and_value(tmp_path, capsys, write):
    _folder(write)
    index = write("cells/labels.csv", "file,label\ngood.csv,x\nbad.csv,y\n")
    line = train_error(tmp_path, capsys, index)
    assert line == f"error: {tmp_path / 'cells' / 'bad.csv'}: record row 3: column 2: 'abc' is not a number"


def test_ragged_per_trace_csv_names_the_row(tmp_path, write):
    _folder(write, "1,2\n3,4\n5\n")
    with pytest.raises(UserInputError, match="record row 3: has 1 columns, the first row of samples"):
        read_trace_index(write("cells/labels.tsv", "file\tlabel\ngood.csv\tx\nbad.csv\ty\n"), labelled=True)


@pytest.mark.parametrize("entry,problem", [
    (".", "the file cell '.' names the labels table's own folder, not a trace file"),
    ("..", "the file cell '..' names a folder"),
    ("sub", "the file cell 'sub' names a folder"),
    ("sub/", "the file cell 'sub/' names a folder"),
    ("../elsewhere.csv", "the trace file '../elsewhere.csv' does not exist: it lies outside the folder of labels.csv"),
    ("/no/such/folder/t.csv", "the trace file '/no/such/folder/t.csv' does not exist: it lies outside the folder"),
    ("absent.csv", "the trace file 'absent.csv' does not exist in the folder of labels.csv"),
], ids=["dot", "dotdot", "subfolder", "subfolder-slash", "outside", "absolute", "absent"])
def test_labels_table_entry_that_is_no_trace_file(tmp_path, capsys, write, entry, problem):
    _folder(write)
    index = write("cells/labels.csv", f"file,label\ngood.csv,x\n{entry},y\n")
    line = train_error(tmp_path, capsys, index)
    assert line.startswith(f"error: {index}: record row 3: {problem}"), line


def test_labels_table_may_name_a_trace_in_a_subfolder_or_by_absolute_path(tmp_path, write):
    _folder(write)
    index = write("cells/labels.csv", f"file,label\nsub/x.csv,x\n{tmp_path / 'cells' / 'good.csv'},y\n")
    traces = read_trace_index(index, labelled=True)
    assert traces.series[0].tolist() == [[1, 2]] and traces.series[1][:, 1].tolist() == [2, 4, 6]


def test_quoted_numbers_in_a_ucr_csv_are_numbers(write):
    quoted = read_ucr(write("q.csv", '"1","0.5","2.25"\n"2", "0.125",3\n-1,"NaN","-4e-2"\n'))
    plain = read_ucr(write("p.csv", "1,0.5,2.25\n2,0.125,3\n-1,NaN,-4e-2\n"))
    assert quoted.labels == plain.labels == ["1", "2", "-1"]
    for a, b in zip(quoted.series, plain.series):
        np.testing.assert_array_equal(a, b)
    assert read_ucr(write("q.tsv", '"1"\t"0.5"\n'), label_column=True).series[0].tolist() == [[0.5]]


def test_quoted_labels_table_header_is_recognised(tmp_path, write):
    from lstmcore_signal.readers import format_of

    _folder(write)
    assert format_of(write("cells/labels.csv", '"file","label"\n"good.csv","x"\n')) == "folder"


def test_unquoted_ucr_files_read_exactly_as_the_split_lines(write):
    """The csv module reads plain rows exactly as splitting at the separator did (CRLF, blanks, padding)."""
    rows = [[str(1 + i % 3)] + [f"{v:.9g}" for v in np.random.default_rng(i).normal(size=30)] for i in range(12)]
    rows[4][-3:] = ["NaN", "", "nan"]
    for name, separator, end in (("a.tsv", "\t", "\n"), ("b.csv", ",", "\r\n"), ("c.csv", ", ", "\n")):
        traces = read_ucr(write(name, end.join(separator.join(r) for r in rows) + end))
        assert traces.labels == [r[0] for r in rows] and traces.lengths.tolist() == [30] * 4 + [27] + [30] * 7
        for row, trace in zip(rows, traces.series):
            expected = np.array([float(c) for c in row[1:1 + trace.shape[0]]])
            np.testing.assert_array_equal(trace[:, 0], expected)
