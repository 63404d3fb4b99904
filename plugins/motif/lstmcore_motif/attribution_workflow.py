"""`lstmcore motif attribute`: per-position attribution of every record, as a TSV (and logos with --plot).

One row per position of every record:

    id  position  letter  class  gradient_x_input  ism_effect  ism_<L1> ... ism_<Lk>

`gradient_x_input` is the contribution of the base there to log P(class);
`ism_<L>` the change of log P(class) when the base is replaced by letter L
(0 for the reference letter), and `ism_effect` the reference minus the mean
of the substitutions.  Positions are 1-based.  Records are processed in
chunks, so files larger than memory stream through.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

import numpy as np

from lstmcore.errors import UserInputError
from lstmcore.toolkit import prepare_output_folder
from lstmcore.io.writers import write_table, writer_for

from lstmcore.toolkit import gradient_x_input, in_silico_mutagenesis
from .folders import removed_if_failed
from .selection import load_motif_model, target_classes

__all__ = ["attribute_records", "AttributionResult", "record_attributions"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class AttributionResult:
    table: Path
    rows: int
    logos: List[Path] = field(default_factory=list)


def record_attributions(loaded, chunk, class_name: Optional[str], with_ism: bool):
    """Per record of a chunk: (class index, gradient x input (L, C), ISM result or None, one-hot x (L, C))."""
    task, state, model = loaded.task, loaded.state, loaded.model
    encoded = task.encode(chunk, state, labelled=False)
    both = bool(state.get("reverse_complement"))
    classes = target_classes(state, class_name, task.predict(model, encoded, state), loaded.path)
    _, contributions = gradient_x_input(model, encoded.x, encoded.lengths, classes, both)
    for i, record in enumerate(chunk):
        length = int(encoded.lengths[i])
        x = encoded.x[i, :length]
        ism = in_silico_mutagenesis(model, x, int(classes[i]), both) if with_ism else None
        yield record, int(classes[i]), contributions[i, :length], ism, x


def _letters(state: Mapping[str, Any]) -> str:
    from lstmcore.encoders import encoder_from_config

    return encoder_from_config(state["encoder"]).letters


def attribute_records(model_path: PathLike, paths: Sequence[PathLike], output_folder: PathLike, *,
                      class_name: Optional[str] = None, ism: bool = True, plot: bool = False,
                      options: Optional[Mapping[str, Any]] = None) -> AttributionResult:
    """Write `attribution.tsv` (and `logos/ID.png` with `plot`) into `output_folder`."""
    from lstmcore.toolkit import require_files

    loaded = load_motif_model(model_path)
    paths = require_files(paths)
    with removed_if_failed(output_folder, ["logos"] if plot else []):
        return _attribute_into(loaded, paths, output_folder, model_path, class_name, ism, plot, options)


def _attribute_into(loaded, paths, output_folder, model_path, class_name, ism, plot, options) -> AttributionResult:
    folder = prepare_output_folder(output_folder, [model_path, *paths], ["attribution.tsv"],
                                   folders=["logos"] if plot else [])
    letters = _letters(loaded.state)
    classes = loaded.state["classes"]
    logos: List[Path] = []
    counter = [0]

    def rows() -> Iterator[list]:
        for chunk in loaded.task.read_chunks(paths, dict(options or {})):
            for record, class_index, contributions, result, x in record_attributions(loaded, chunk, class_name, ism):
                if plot:
                    from .logos import attribution_logo

                    logos.append(attribution_logo(contributions, letters, folder / "logos" / f"{_safe(record.id)}.png",
                                                  f"{record.id}: log P({classes[class_index]})"))
                per_position = contributions.sum(axis=1)
                effect = result.position_effect(x) if result is not None else None
                for p in range(x.shape[0]):
                    counter[0] += 1
                    row = [record.id, p + 1, record.sequence[p], classes[class_index], float(per_position[p])]
                    if result is not None:
                        row += [float(effect[p]), *map(float, result.delta[p])]
                    yield row

    header = ["id", "position", "letter", "class", "gradient_x_input"]
    if ism:
        header += ["ism_effect"] + [f"ism_{letter}" for letter in letters]
    table = folder / "attribution.tsv"
    try:
        write_table(table, header, rows(), writer_for(table))
    except BaseException:
        for logo in logos:  # a failed run leaves no logos of it behind (the table is written atomically)
            logo.unlink(missing_ok=True)
        raise
    return AttributionResult(table, counter[0], logos)


def _safe(name: str) -> str:
    """A record id usable as a file name."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return cleaned or "record"
