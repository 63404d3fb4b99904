"""`lstmcore demo mutation`: generated genomes with planted mutations, and the demo's check against them.

A 6 kb random reference (with homopolymer runs) and genomes that descend
from eight founders: each genome carries its founder's planted mutations
and a few of its own (substitutions, insertions, deletions, some in
homopolymer runs), plus what real genomes have: lowercase, leading and
trailing N runs, an internal N run and IUPAC codes away from the mutations.
`planted.tsv` holds the truth.  After training, the demo checks that the
alignment calls give exactly the planted mutations, and how many of them
the tagger finds without aligning.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np

from lstmcore.io.atomic import atomic_open
from lstmcore.toolkit import ExampleData

from .calls import Call
from .planting import apply_calls, plant_mutations, random_reference

__all__ = ["write_demo_data", "check_demo", "demo_genomes"]

PARTS = (("train", 80), ("evaluate", 30), ("predict", 10))


def demo_genomes(reference: str, count: int, rng: np.random.Generator, founders: List[List[Call]], prefix: str):
    """(name, sequence as written, planted calls) of `count` genomes descending from `founders`."""
    genomes = []
    for number in range(count):
        inherited = founders[int(rng.integers(len(founders)))]
        own = plant_mutations(reference, rng, substitutions=3, insertions=1, deletions=1)
        own = [c for c in own if all(abs(c.position - f.position) > 30 for f in inherited)]
        calls = sorted(inherited + own)
        genomes.append((f"{prefix}{number}", _with_sequencing_marks(apply_calls(reference, calls), calls, rng),
                        calls))
    return genomes


def _with_sequencing_marks(sequence: str, calls: List[Call], rng) -> str:
    """N runs at the ends and one inside, two IUPAC codes, lowercase: none within 40 bases of a mutation."""
    letters = list(sequence)
    busy = np.zeros(len(letters) + 100, dtype=bool)
    for call in calls:
        busy[max(0, call.position - 40):call.position + 40] = True
    for code in ("R", "Y", "N" * 30):
        for _ in range(50):
            at = int(rng.integers(100, len(letters) - 100))
            if not busy[at:at + len(code) + 1].any():
                letters[at:at + len(code)] = list(code)
                busy[at - 5:at + len(code) + 5] = True
                break
    lead, trail = int(rng.integers(0, 40)), int(rng.integers(0, 40))
    text = "N" * lead + "".join(letters[lead:len(letters) - trail]) + "N" * trail
    return text.lower() if rng.random() < 0.3 else text


def write_demo_data(folder: Path, seed: int = 0) -> ExampleData:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    reference = random_reference(6000, rng, homopolymers=6)
    founders = [plant_mutations(reference, rng, substitutions=5, insertions=1, deletions=1, spacing=200)
                for _ in range(8)]
    _write_fasta(folder / "reference.fasta", [("demo-reference", reference)])
    paths, truth = {}, []
    for part, count in PARTS:
        genomes = demo_genomes(reference, count, rng, founders, f"{part}-")
        paths[part] = folder / f"{part}.fasta"
        _write_fasta(paths[part], [(name, sequence) for name, sequence, _ in genomes])
        truth += [[name, c.position, c.ref, c.alt, c.type] for name, _, calls in genomes for c in calls]
    with atomic_open(folder / "planted.tsv", "w", encoding="utf-8") as handle:
        handle.write("genome\tposition\tref\talt\ttype\n")
        handle.writelines("\t".join(map(str, row)) + "\n" for row in truth)
    ref_path = folder / "reference.fasta"
    return ExampleData(folder, [ref_path, paths["train"]], [ref_path, paths["evaluate"]], [paths["predict"]], {},
                       "6 kb generated reference; genomes of 8 founders with planted substitutions and indels")


def _write_fasta(path: Path, records) -> None:
    with atomic_open(path, "w", encoding="utf-8") as handle:
        for name, sequence in records:
            handle.write(f">{name}\n")
            handle.writelines(sequence[i:i + 70] + "\n" for i in range(0, len(sequence), 70))


def check_demo(model_path: Path, data: ExampleData, folder: Path) -> Dict[str, Path]:
    """Alignment calls and tagger calls of the evaluate genomes, each against what was planted."""
    from lstmcore.toolkit import load_task_model

    from .scoring import call_scores

    planted = _planted(data.folder / "planted.tsv")
    loaded = load_task_model(model_path)
    evaluation = loaded.task.read(data.evaluate, {"quiet": True}, labelled=True)
    aligned = {(r.genome, c) for r in evaluation.results for c in r.calls if c.type != "ambiguous"}
    outputs = loaded.task.predict(loaded.model, loaded.task.encode(evaluation, loaded.state, labelled=False),
                                  loaded.state)
    tagged = {(g.id, c) for g, calls in zip(evaluation.genomes, loaded.task.tagged_calls(evaluation, outputs,
                                                                                          loaded.state))
              for c, _ in calls}
    truth = {item for item in planted if item[0] in {g.id for g in evaluation.genomes}}
    report = {"planted": len(truth), "alignment": call_scores(truth, aligned), "tagger": call_scores(truth, tagged),
              "alignment_exact": aligned == truth}
    path = folder / "planted_check.json"
    with atomic_open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    found = len(truth & tagged)
    label = (f"planted check ({len(truth)} planted; alignment {'exact' if aligned == truth else 'DIFFERS'}, "
             f"tagger found {found})")
    return {label: path}


def _planted(path: Path):
    rows = path.read_text(encoding="utf-8").splitlines()[1:]
    return {(g, Call(int(p), t, r, a)) for g, p, r, a, t in (row.split("\t") for row in rows)}
