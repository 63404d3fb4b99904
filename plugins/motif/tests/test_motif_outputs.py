"""What a person reads of the motif plugin's results: logos on one scale with their evidence, MEME files
without invented E-values, and the demo's closing line about the planted motif."""
import io

import numpy as np
import pytest
from Bio import motifs
from Bio.Seq import Seq

from lstmcore_motif.demo_data import planted_motif_line
from lstmcore_motif.formats import meme_minimal_text


def _motif(sites):
    return motifs.create([Seq(site) for site in sites])


def test_logos_share_one_scale_and_carry_their_evidence():
    pytest.importorskip("logomaker")
    from lstmcore_motif.logos import motif_figure, motif_title

    strong = motif_figure(_motif(["CACGTG"] * 20), motif_title(1, "CACGTG", 20, 0.98, 1e-12))
    weak = motif_figure(_motif(["ACGTAC", "TTGACA", "GCATGC", "CATGCA"]), motif_title(3, "NNNNNN", 4, 0.52, 0.124))
    for figure in (strong, weak):
        assert figure.axes[0].get_ylim() == (0.0, 2.0)
        assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == ["1", "2", "3", "4", "5", "6"]
    assert weak.axes[0].get_title() == "motif 3: NNNNNN  (4 sites, AUROC 0.52, p = 0.12)"


def test_meme_leaves_out_an_e_value_it_does_not_have_and_biopython_reads_it():
    found = _motif(["CACGTG"] * 5 + ["CACGTA"])
    text = meme_minimal_text([found])
    assert "E=" not in text and "nsites= 6" in text
    read = motifs.parse(io.StringIO(text), "minimal")[0]
    np.testing.assert_allclose(read.counts["C"], found.counts["C"])
    found.evalue = 3.2e-5
    assert "E= 3.2e-05" in meme_minimal_text([found])


def _table(tmp_path, rows):
    header = "rank\tconsensus\tsites\tattribution\tstart_column\tknown_correlation\tknown_offset\tknown_strand\t" \
             "discrimination_auroc\tenrichment_p\tseeded_by"
    path = tmp_path / "motifs.tsv"
    path.write_text("\n".join([header] + ["\t".join(map(str, row)) for row in rows]) + "\n")
    return path


def test_the_demo_says_whether_it_found_the_planted_motif(tmp_path):
    found = _table(tmp_path, [[1, "CACGTG", 180, 5.1, 20, 0.991, 0, "+", 0.97, "1e-40", "attribution"],
                              [2, "GATTAC", 12, 0.4, 3, 0.31, 1, "-", 0.52, "0.124", "enrichment"]])
    assert planted_motif_line("CACGTG", found) == ("planted motif CACGTG: found as motif 1 (CACGTG), Pearson r "
                                                   "0.99, 180 sites, AUROC 0.97, p 1e-40")
    missed = _table(tmp_path, [[1, "GATTAC", 12, 0.4, 3, 0.31, 1, "-", 0.52, "0.124", "enrichment"]])
    assert planted_motif_line("CACGTG", missed) == "planted motif CACGTG: not found (closest: motif 1, Pearson r 0.31)"
    assert planted_motif_line("CACGTG", None) == "planted motif CACGTG: not found"
