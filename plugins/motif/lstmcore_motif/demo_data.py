"""Generated example data for `lstmcore demo motif`: the E-box CACGTG planted in random DNA.

Class "motif" carries CACGTG at a random position of a random sequence of
40-60 nt (so the demo also exercises variable lengths); class "background"
is random DNA of the same lengths without it.  A JASPAR file of the planted
site is written beside them, so the demo can compare the motif it finds with
the truth.  Nothing is downloaded.
"""
from __future__ import annotations

from pathlib import Path
import numpy as np

from lstmcore import toolkit as tk

__all__ = ["write_demo_data", "planted_motif_line", "DEMO_MOTIF", "FOUND_CORRELATION"]

DEMO_MOTIF = "CACGTG"
FOUND_CORRELATION = 0.75   # Pearson r of the columns (best offset and strand) that counts as the planted motif
_PARTS = (("train", 400), ("evaluate", 100), ("predict", 40))


def write_known_matrix(path: Path, site: str = DEMO_MOTIF) -> Path:
    """A JASPAR file of the planted site (counts of 10 identical sites), for the demo's comparison."""
    from Bio import motifs
    from Bio.Seq import Seq

    motif = motifs.create([Seq(site)] * 10)
    motif.name, motif.matrix_id = "planted_Ebox", "DEMO0001.1"
    path.write_text(motifs.write([motif], "jaspar"), encoding="utf-8")
    return path


def planted_motif_line(site: str, table) -> str:
    """"planted SITE: found as motif N (...)" or "not found", from the discovery's motifs.tsv."""
    import csv

    rows = []
    if table is not None and Path(table).is_file():
        with open(table, newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["known_correlation"]]
    best = max(rows, key=lambda row: float(row["known_correlation"]), default=None)
    if best is None or float(best["known_correlation"]) < FOUND_CORRELATION:
        closest = "" if best is None else f" (closest: motif {best['rank']}, Pearson r {float(best['known_correlation']):.2f})"
        return f"planted motif {site}: not found{closest}"
    return (f"planted motif {site}: found as motif {best['rank']} ({best['consensus']}), Pearson r "
            f"{float(best['known_correlation']):.2f}, {best['sites']} sites, AUROC "
            f"{float(best['discrimination_auroc']):.2f}, p {best['enrichment_p']}")


def write_demo_data(folder: Path, seed: int = 0) -> tk.ExampleData:
    """Write train / evaluate / predict FASTA files (labels in the headers) and the planted matrix."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for part, count in _PARTS:
        records = tk.planted_sequences(rng, count, [DEMO_MOTIF], prefix=part, labels=("background", "motif"))
        if part == "predict":
            records = [(record_id, sequence, None) for record_id, sequence, _ in records]
        files[part] = folder / f"{part}.fasta"
        tk.write_fasta(files[part], records)
    write_known_matrix(folder / "known_CACGTG.jaspar")
    return tk.ExampleData(folder, [files["train"]], [files["evaluate"]], [files["predict"]], {"labels": "header"},
                       f"random DNA of 40-60 nt; class 'motif' carries {DEMO_MOTIF} at a random position")
