"""Sequence logos as PNG files (logomaker + matplotlib, the plugin's optional `plot` extra).

- `attribution_logo`: one sequence, each position's letter drawn with the
  height of its gradient x input (negative below the axis), the usual
  "saliency logo" of a sequence model.
- `motif_logo`: a found motif's information content in bits, every logo on
  the same axis (0 to log2 of the alphabet's size: 2 bits for DNA), so a weak
  motif looks weak beside a strong one; the title carries its number of
  sites, AUROC and enrichment p-value.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np

from lstmcore.errors import UserInputError

__all__ = ["attribution_logo", "motif_logo", "motif_figure", "motif_title", "require_plotting"]

PathLike = Union[str, "os.PathLike[str]"]


def require_plotting():
    """logomaker and pyplot (Agg backend), or a one-line error saying how to install them."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import logomaker
        import matplotlib.pyplot as pyplot
    except ImportError:
        raise UserInputError("--plot needs matplotlib and logomaker: pip install 'lstmcore-motif[plot]'") from None
    return logomaker, pyplot


def _save(figure, path: PathLike, pyplot) -> Path:
    """Write the figure as a PNG atomically (a folder or a special file in its place is one line), then
    close it; the folder is made if needed (the command checked before its work that nothing is in the way)."""
    from lstmcore.io.atomic import atomic_path

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as temporary:
            figure.savefig(temporary, format="png", dpi=100)
    except FileExistsError:
        raise UserInputError("cannot write the logo: a file is in the place of its folder",
                             file=path.parent) from None
    finally:
        pyplot.close(figure)
    return path


def attribution_logo(contributions: np.ndarray, letters: str, path: PathLike, title: str = "") -> Path:
    """A logo of a (L, letters) matrix of per-letter contributions (gradient x input)."""
    import pandas

    logomaker, pyplot = require_plotting()
    frame = pandas.DataFrame(np.asarray(contributions, dtype=float), columns=list(letters))
    figure, axis = pyplot.subplots(figsize=(max(4.0, 0.18 * len(frame)), 2.2))
    logomaker.Logo(frame, ax=axis, color_scheme="classic" if letters in ("ACGT", "ACGU") else "chemistry")
    axis.axhline(0, color="black", linewidth=0.5)
    axis.set_xlabel("position (0-based)")
    axis.set_ylabel("gradient x input")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return _save(figure, path, pyplot)


def motif_title(rank: int, consensus: str, sites: int, auroc: float, p_value: float) -> str:
    """The title every found motif's logo carries: what it is and how much to trust it."""
    return f"motif {rank}: {consensus}  ({sites} sites, AUROC {auroc:.2f}, p = {p_value:.2g})"


def motif_logo(motif, path: PathLike, title: str = "") -> Path:
    """An information-content logo (bits, axis 0 to log2 of the alphabet size) of a Bio.motifs.Motif."""
    _, pyplot = require_plotting()
    return _save(motif_figure(motif, title), path, pyplot)


def motif_figure(motif, title: str = ""):
    """The matplotlib figure `motif_logo` saves."""
    import pandas

    logomaker, pyplot = require_plotting()
    letters = str(motif.alphabet)
    counts = pandas.DataFrame({letter: list(motif.counts[letter]) for letter in letters})
    information = logomaker.transform_matrix(counts, from_type="counts", to_type="information")
    figure, axis = pyplot.subplots(figsize=(max(3.0, 0.5 * len(counts)), 2.2))
    logomaker.Logo(information, ax=axis, color_scheme="classic" if letters in ("ACGT", "ACGU") else "chemistry")
    axis.set_ylim(0, np.log2(len(letters)))
    axis.set_xticks(range(len(counts)))
    axis.set_xticklabels([str(i + 1) for i in range(len(counts))])
    axis.set_xlabel("position")
    axis.set_ylabel("bits")
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    return figure
