"""Class labels for FASTA records: from the header, from a TSV keyed by record id, or one file per class.

- header: a `label=CLASS` word in the header (`>seq1 label=promoter`);
- a TSV (or CSV) with columns `id` and `label`;
- "file": each input file is one class, named after the file (`pos.fa` -> `pos`).

Records without a label, and labels without a record, are errors naming the
file and the record, so a typo in an id is never silently dropped.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

from ..errors import UserInputError
from .fasta import SequenceRecord
from .tables import read_table

__all__ = ["attach_labels", "label_from_header", "read_label_table", "class_name_of_file"]

PathLike = Union[str, "os.PathLike[str]"]
HEADER_KEY = "label="


def label_from_header(record: SequenceRecord) -> Optional[str]:
    """The CLASS of a `label=CLASS` word in the record's header, or None."""
    for word in record.description.split()[1:]:
        if word.startswith(HEADER_KEY) and len(word) > len(HEADER_KEY):
            return word[len(HEADER_KEY):]
    return None


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
