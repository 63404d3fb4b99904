"""Class labels for FASTA records: from the header, from a TSV keyed by record id, or one file per class.

- header: a `label=CLASS` field in the header (`>seq1 label=promoter`); a
  class with spaces is quoted (`label="my class"` or `label='my class'`), as
  in key=value headers elsewhere; an unquoted value ends at the first space;
- a TSV (or CSV) with columns `id` and `label`;
- "file": each input file is one class, named after the file (`pos.fa` -> `pos`).

Records without a label, and labels without a record, are errors naming the
file and the record, so a typo in an id is never silently dropped.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from ..errors import UserInputError
from .fasta import SequenceRecord
from .tables import read_table

__all__ = ["attach_labels", "label_from_header", "header_fields", "read_label_table", "class_name_of_file"]

PathLike = Union[str, "os.PathLike[str]"]
HEADER_KEY = "label="


_FIELD_KEY = re.compile(r"(?<!\S)([A-Za-z_][\w.\-]*)=")


def header_fields(text: str) -> Dict[str, str]:
    """The key=value fields of a FASTA header after its id: values may be quoted ("..." or '...') to hold
    spaces; a quote that is never closed, or a key given twice, is a ValueError saying so."""
    parts = text.split(None, 1)
    rest = parts[1] if len(parts) > 1 else ""
    fields: Dict[str, str] = {}
    position = 0
    while True:
        match = _FIELD_KEY.search(rest, position)
        if match is None:
            return fields
        key, start = match.group(1), match.end()
        if start < len(rest) and rest[start] in "\"'":
            end = rest.find(rest[start], start + 1)
            if end < 0:
                raise ValueError(f"the value of {key}= opens a quote ({rest[start]}) that is never closed")
            value, position = rest[start + 1:end], end + 1
        else:
            end = start
            while end < len(rest) and not rest[end].isspace():
                end += 1
            value, position = rest[start:end], end
        if key in fields:
            raise ValueError(f"the header gives {key}= twice ({fields[key]!r} and {value!r})")
        fields[key] = value


def label_from_header(record: SequenceRecord) -> Optional[str]:
    """The CLASS of a `label=CLASS` field in the record's header (quoted when it has spaces), or None."""
    try:
        label = header_fields(record.description).get(HEADER_KEY[:-1])
    except ValueError as exc:
        raise UserInputError(str(exc), file=record.source, record=record.id) from None
    return label or None


def read_label_table(path: PathLike, id_column: str = "id", label_column: str = "label") -> Dict[str, str]:
    """Map record id -> label from a table with an `id` and a `label` column; an id listed twice is an error."""
    table = read_table(path)
    ids = table.column(id_column)
    labels = table.column(label_column)
    mapping: Dict[str, str] = {}
    for row, (record_id, label) in enumerate(zip(ids, labels)):
        if record_id in mapping:
            raise UserInputError(f"id listed twice (line {table.line_numbers[row]})", file=table.path,
                                 record=record_id)
        mapping[record_id] = label
    return mapping


def class_name_of_file(path: PathLike) -> str:
    """The class a file stands for: its name without FASTA and gzip suffixes."""
    name = Path(path).name
    for suffix in (".gz", ".fasta", ".fa", ".fna", ".faa", ".fas", ".fsa", ".seq"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def attach_labels(records: Sequence[SequenceRecord], source: str = "header") -> List[SequenceRecord]:
    """Give every record its label from `source`: "header", "file", or the path of a label table."""
    if source == "header":
        return [_require_label(r.with_label(label_from_header(r)), "no 'label=CLASS' in its header "
                                "(or give --labels FILE.tsv, or --labels file for one file per class)")
                for r in records]
    if source == "file":
        return [r.with_label(class_name_of_file(r.source)) for r in records]
    return _labels_from_table(records, source)


def _labels_from_table(records: Sequence[SequenceRecord], table_path: str) -> List[SequenceRecord]:
    mapping = read_label_table(table_path)
    labelled = [_require_label(r.with_label(mapping.get(r.id)), f"has no label in {table_path}")
                for r in records]
    record_ids = {r.id for r in records}
    for record_id in mapping:
        if record_id not in record_ids:
            raise UserInputError("has a label but no record in the FASTA input", file=table_path,
                                 record=record_id)
    return labelled


def _require_label(record: SequenceRecord, problem: str) -> SequenceRecord:
    if record.label is None:
        raise UserInputError(problem, file=record.source, record=record.id)
    return record
