"""`lstmcore motif discover`: the motifs a trained model relies on, written in the formats motif tools read.

For the records of the class of interest (by their labels, or by the
model's prediction with `--labels predicted`), per-position attribution
(gradient x input, or ISM effect; averaged over the models when several are
given, an ensemble) feeds `discovery.find_motifs`, with the other records
as the background its motifs are ranked against.  Written
into the output folder:

- `motifs.jaspar` and `motifs.meme` (MEME minimal): every motif, best first;
- `motif_K.sites` (JASPAR sites: each site in its sequence) and, with
  plotting available, `motif_K.png` (information-content logo);
- `motifs.tsv`: rank, consensus, sites, attribution, start column, the
  Pearson match to a known matrix when one is given (`--known FILE`), and
  the motif's discrimination (AUROC) and enrichment p-value against the
  other records.

The motif_K.sites / motif_K.png files of an earlier run into the same
folder that this run does not write (it found fewer motifs, or ran without
--plot) are removed, so that the folder holds this run's motifs only.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from lstmcore.errors import UserInputError
from lstmcore.toolkit import input_files_in, prepare_output_folder
from lstmcore.io.writers import write_table, writer_for

from .discovery import SEED_ROUTES, FoundMotif, find_motifs
from .formats import read_motifs, write_motifs, write_sites
from .folders import remove_stale_motif_files, removed_if_failed
from .selection import load_motif_model
from .similarity import MotifMatch, compare_motifs

__all__ = ["discover_motifs", "DiscoveryResult", "motifs_from_records"]

PathLike = Union[str, "os.PathLike[str]"]


@dataclass
class DiscoveryResult:
    motifs: List[FoundMotif]
    matches: List[Optional[MotifMatch]]
    files: Dict[str, Path] = field(default_factory=dict)


def _selected_records(loaded, paths, options: Mapping[str, Any], class_name: Optional[str]):
    """Records of the class of interest: by label (default) or by prediction (`labels: predicted`)."""
    from .selection import class_index_of

    task, state = loaded.task, loaded.state
    index = class_index_of(state, class_name, loaded.path)
    if index is None:
        raise UserInputError("the model has more than two classes: name the one to explain with --class",
                             file=loaded.path)
    wanted = state["classes"][index]
    if options.get("labels") == "predicted":
        records = task.read(paths, options, labelled=False)
        probabilities = task.predict(loaded.model, task.encode(records, state, labelled=False), state)
        chosen = [int(np.argmax(p)) == index for p in probabilities]
        return ([r for r, c in zip(records, chosen) if c], [r for r, c in zip(records, chosen) if not c]), index
    every = task.read(paths, options, labelled=True)
    records = [r for r in every if r.label == wanted]
    if not records:
        raise UserInputError(f"no record has the label {wanted!r}", file=paths[0])
    return (records, [r for r in every if r.label != wanted]), index


def motifs_from_records(loaded, records, class_index: int, *, method: str = "gradient", width: int = 6,
                        count: int = 3, background=None, **search) -> List[FoundMotif]:
    """Attribution of each record for class `class_index`, then `find_motifs` on it against the
    `background` records (None: shuffled copies).  `loaded` is one loaded model or a list of them (an
    ensemble, same task and encoder: their attributions are averaged)."""
    from .attribution_workflow import _letters

    models = list(loaded) if isinstance(loaded, (list, tuple)) else [loaded]
    runs = [_attribution(m, records, class_index, method) for m in models]
    scores = [np.mean([run[i] for run in runs], axis=0) for i in range(len(records))]
    return find_motifs([r.sequence for r in records], scores, _letters(models[0].state), width=width, count=count,
                       background=[r.sequence for r in background or []], **search)


def _attribution(loaded, records, class_index: int, method: str) -> List[np.ndarray]:
    """Per record, the per-position attribution of one model for class `class_index`."""
    from lstmcore.toolkit import gradient_x_input, in_silico_mutagenesis

    task, state, model = loaded.task, loaded.state, loaded.model
    encoded = task.encode(records, state, labelled=False)
    both = bool(state.get("reverse_complement"))
    classes = np.full(len(records), class_index, dtype=np.int64)
    if method == "gradient":
        _, contributions = gradient_x_input(model, encoded.x, encoded.lengths, classes, both)
        scores = [contributions[i, :int(n)].sum(axis=1) for i, n in enumerate(encoded.lengths)]
    elif method == "ism":
        scores = []
        for i, n in enumerate(encoded.lengths):
            x = encoded.x[i, :int(n)]
            scores.append(in_silico_mutagenesis(model, x, class_index, both).position_effect(x))
    else:
        raise UserInputError(f"--method must be 'gradient' or 'ism'. Received: {method!r}")
    return scores


def discover_motifs(model_path: PathLike, paths: Sequence[PathLike], output_folder: PathLike, *,
                    options: Optional[Mapping[str, Any]] = None, class_name: Optional[str] = None,
                    method: str = "gradient", width: int = 6, count: int = 3, seeds: Sequence[str] = SEED_ROUTES,
                    known_matrix: Optional[PathLike] = None, known_format: Optional[str] = None,
                    plot: bool = False) -> DiscoveryResult:
    """Find the motifs behind the model's class `class_name` in the records of `paths` and write them."""
    loaded = load_motif_model(model_path)
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise UserInputError("no such file", file=path)
    inputs = [model_path, *paths, known_matrix, *input_files_in(dict(options or {}))]
    with removed_if_failed(output_folder):
        prepare_output_folder(output_folder, inputs, _output_names(count, plot))
        return _discover_into(loaded, paths, output_folder, inputs, options, class_name, method, width, count,
                              seeds, known_matrix, known_format, plot)


def _discover_into(loaded, paths, output_folder, inputs, options, class_name, method, width, count, seeds,
                   known_matrix, known_format, plot) -> DiscoveryResult:
    known = read_motifs(known_matrix, known_format)[0] if known_matrix else None
    (records, others), class_index = _selected_records(loaded, paths, dict(options or {"labels": "header"}),
                                                       class_name)
    found = motifs_from_records(loaded, records, class_index, method=method, width=width, count=count,
                                background=others, seeds=seeds)
    if not found:
        raise UserInputError(f"no motif found: no window of width {width} raises the class's probability "
                             "in two or more records", file=paths[0])
    matches = [_match(known, m.motif) for m in found]
    files = _write_outputs(Path(output_folder), found, matches, records, plot)
    remove_stale_motif_files(output_folder, files.values(), keep=inputs)
    return DiscoveryResult(found, matches, files)


def _output_names(count: int, plot: bool) -> List[str]:
    """Every file `_write_outputs` may write into the folder, checked before any work."""
    ranks = range(1, count + 1)
    return ["motifs.jaspar", "motifs.meme", "motifs.tsv", *(f"motif_{rank}.sites" for rank in ranks),
            *((f"motif_{rank}.png" for rank in ranks) if plot else ())]


def _match(known, motif) -> Optional[MotifMatch]:
    if known is None:
        return None
    if str(known.alphabet) != str(motif.alphabet):
        raise UserInputError(f"the known matrix's alphabet ({known.alphabet}) differs from the model's "
                             f"({motif.alphabet})")
    return compare_motifs(known, motif)


def _write_outputs(folder: Path, found: List[FoundMotif], matches, records, plot: bool) -> Dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for rank, item in enumerate(found, start=1):
        item.motif.name = f"lstmcore_motif_{rank}"
        item.motif.matrix_id = f"LSTM{rank:04d}.1"
    files = {"jaspar": write_motifs([m.motif for m in found], folder / "motifs.jaspar", "jaspar"),
             "meme": write_motifs([m.motif for m in found], folder / "motifs.meme", "meme")}
    width = found[0].motif.length
    for rank, item in enumerate(found, start=1):
        sites = [(records[s.sequence].id, records[s.sequence].sequence, s.start, s.start + width) for s in item.sites]
        files[f"motif_{rank}_sites"] = write_sites(folder / f"motif_{rank}.sites", item.motif.name, sites)
        if plot:
            from .logos import motif_logo, motif_title

            title = motif_title(rank, str(item.motif.consensus), len(item.sites), item.discrimination, item.p_value)
            files[f"motif_{rank}_logo"] = motif_logo(item.motif, folder / f"motif_{rank}.png", title)
    header = ["rank", "consensus", "sites", "attribution", "start_column", "known_correlation", "known_offset",
              "known_strand", "discrimination_auroc", "enrichment_p", "seeded_by"]
    rows = [[rank, str(m.motif.consensus), len(m.sites), round(m.attribution, 6), m.start_column,
             "" if match is None else round(match.correlation, 4), "" if match is None else match.offset,
             "" if match is None else match.strand, round(m.discrimination, 4), f"{m.p_value:.3g}",
             "+".join(m.seeded_by)]
            for rank, (m, match) in enumerate(zip(found, matches), start=1)]
    files["table"] = folder / "motifs.tsv"
    write_table(files["table"], header, rows, writer_for(files["table"]))
    return files
