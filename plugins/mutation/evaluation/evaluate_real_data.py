"""Real-data evaluation of lstmcore-mutation (issue 18), written as a markdown table.

    python plugins/mutation/evaluation/evaluate_real_data.py --output RESULTS.md          # CI subset, ~1-2 min
    python plugins/mutation/evaluation/evaluate_real_data.py --output RESULTS.md --full   # everything, ~6 min

Data: ../shared/data/mutation (LSTMCORE_SHARED_DATA overrides), see its README.

1. The 418 Nextstrain genomes against MN908947: calls for all, each genome's
   clade from clades.tsv, with every genome that gets no clade listed with
   its reason, and the clades' sampling dates from the metadata beside them.
2. mappy against PairwiseAligner: on both influenza HA sets (whole
   segments, every genome) they must agree on every call; on the long
   genomes (Nextclade SARS-CoV-2 set, and Nextstrain genomes) windowed
   PairwiseAligner runs between mappy's anchors and each difference is listed.
3. The tagger trained on part of the Nextstrain set, scored on the rest and
   on the Nextclade set (71 genomes of 2020-2021) against the alignment
   calls; tagger and alignment genomes per second from the same run.

The CI subset trains on 150 genomes for 6 epochs and cross-checks 20 long
genomes; --full trains on 300 for 8 epochs and cross-checks every genome.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DATA = Path(os.environ.get("LSTMCORE_SHARED_DATA", REPO.parent / "shared" / "data")) / "mutation"
NCOV = DATA / "sars_cov_2_nextstrain_ncov"
NEXTCLADE = DATA / "nextclade_examples"
INTERIOR = (56, 29803)   # Nextstrain masks the first 55 and last 100 bases of SARS-CoV-2 as unreliable


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="the markdown file to write")
    parser.add_argument("--full", action="store_true", help="all genomes and the full training run")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"error: the real data is missing: {DATA}", file=sys.stderr)
        return 2
    import lstmcore

    lstmcore.set_num_threads(args.threads)
    started = time.perf_counter()
    lines = _header(args)
    lines += _nextstrain_calls_and_clades()
    lines += _cross_checks(args.full)
    lines += _tagger(args.full, args.threads)
    lines += ["", f"Total run time: {time.perf_counter() - started:.0f} s."]
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"results: {args.output}")
    return 0


def _header(args):
    command = "python plugins/mutation/evaluation/evaluate_real_data.py --output RESULTS.md" + \
        (" --full" if args.full else "")
    import mappy
    import pysam
    import Bio

    return ["# lstmcore-mutation on real viral genomes", "",
            f"Command: `{command}` ({'full run' if args.full else 'CI subset'}, {args.threads} thread(s)).", "",
            f"CPU: {_cpu_model()}; Python {platform.python_version()}; mappy {mappy.__version__}, "
            f"pysam {pysam.__version__}, Biopython {Bio.__version__}.",
            "Timings are from a machine shared with other work; compare the two paths of one run, "
            "not runs with each other.", ""]


def _cpu_model() -> str:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown"
    fields = {key.strip(): value.strip() for key, value in
              (line.split(":", 1) for line in text.splitlines() if ":" in line)}
    return (f"{fields.get('Model name', '?')} (lscpu: family {fields.get('CPU family', '?')}, model "
            f"{fields.get('Model', '?')}, {fields.get('CPU(s)', '?')} CPUs, "
            f"{'AVX-512' if 'avx512f' in fields.get('Flags', '') else 'no AVX-512'})")


# --- 1. calls and clades ------------------------------------------------------------------

def _nextstrain_calls_and_clades():
    from lstmcore_mutation.calling import Caller
    from lstmcore_mutation.clades import assign_clade, read_clades
    from lstmcore_mutation.sequences import iter_genomes, read_reference

    reference = read_reference(NCOV / "reference_seq.fasta")
    table = read_clades(NCOV / "clades.tsv", reference)
    caller = Caller(reference, "mappy", cross_check=False)
    dates = _dates()
    results, clades = [], []
    for genome in iter_genomes([NCOV / "example_sequences.fasta.gz"]):
        results.append(caller.call(genome))
        clades.append(assign_clade(results[-1], table, reference.sequence))
    types = collections.Counter(c.type for r in results for c in r.calls)
    lines = ["## 1. Nextstrain ncov example set: 418 genomes against MN908947", "",
             f"Aligned {sum(r.aligned for r in results)} of {len(results)} genomes (mappy, asm20, N scored 0); "
             f"calls: {types['substitution']} substitutions, {types['insertion']} insertions, "
             f"{types['deletion']} deletions, {types['ambiguous']} ambiguity codes (never mutations).", ""]
    not_aligned = [r for r in results if not r.aligned]
    lines += [f"- not aligned: {r.genome}: {r.reason}" for r in not_aligned] or ["Every genome aligned."]
    lines += _clade_table(clades, dates, table)
    return lines


def _dates():
    import csv

    with gzip.open(NCOV / "example_metadata.tsv.gz", "rt", encoding="utf-8") as handle:
        return {row["strain"]: row["date"] for row in csv.DictReader(handle, delimiter="\t")}


def _clade_table(clades, dates, table):
    by_clade = collections.defaultdict(list)
    for call in clades:
        by_clade[call.clade].append(call)
    checkable = [c for c in clades if c.assigned]
    provisional = [c for c in clades if not c.assigned and c.clade not in ("unassigned", "unaligned")]
    lines = ["", f"Clades from clades.tsv ({len(table.alleles)} clades, inheritance resolved; "
             f"{table.skipped_rows} amino-acid rows not used). No published clade of these genomes is in the "
             "data (its README), so the assignment is checked three ways: a genome's clade must carry every "
             f"allele of the clade (the checkable genomes: {len(checkable)} of {len(clades)}, each with all "
             f"alleles of its clade present and none absent); {len(provisional)} more get a clade provisionally "
             "(no allele absent, one missing under an N); the sampling dates below must fit each clade's known "
             "emergence (19A/19B from Dec 2019, 20A-20C from Jan-Feb 2020); and section 2 assigns the clades "
             "again from PairwiseAligner's calls.", "",
             "| clade | genomes | of which provisional | sampling dates (metadata) |", "|---|---:|---:|---|"]
    for clade in sorted(by_clade, key=lambda c: (c in ("unassigned", "unaligned"), c)):
        days = sorted(dates.get(c.genome, "?") for c in by_clade[clade])
        late = sum(1 for c in by_clade[clade] if c in provisional)
        lines.append(f"| {clade} | {len(by_clade[clade])} | {late} | {days[0]} … {days[-1]} |")
    lines += ["", "Genomes with a provisional clade or none, with the reason (alleles written base+site):", ""]
    for call in provisional + [c for c in clades if c.clade in ("unassigned", "unaligned")]:
        lines.append(f"- {call.genome}: {call.clade}: {call.note}; absent {','.join(call.absent) or '-'}; "
                     f"missing (N / not covered) {','.join(call.missing) or '-'}")
    return lines


# --- 2. mappy against PairwiseAligner -----------------------------------------------------------

def _cross_checks(full: bool):
    lines = ["", "## 2. mappy against Biopython's PairwiseAligner", "",
             "Same scores on both sides (match 1, mismatch -4, gap -(6+2k), N 0); calls left-aligned by one code "
             "path. HA segments: whole-sequence PairwiseAligner with free end gaps. Long genomes: PairwiseAligner "
             "in ~2 kb windows cut inside 20-base identical runs of mappy's alignment (a 30 kb x 30 kb matrix "
             "does not fit in memory), the end windows with free end gaps.", "",
             "| set | genomes | agree on every call | genomes with a difference |", "|---|---:|---:|---:|"]
    details = {}
    sets = [("flu H3N2 HA (vs A/Wisconsin/67/2005)", NEXTCLADE / "flu_h3n2_ha", "sequences.fasta", None),
            ("flu H1N1pdm HA (vs A/California/07/2009)", NEXTCLADE / "flu_h1n1pdm_ha", "sequences.fasta", None),
            ("Nextclade SARS-CoV-2", NEXTCLADE / "sars_cov_2", "sequences.fasta.gz", None if full else 20),
            ("Nextstrain ncov", NCOV, "example_sequences.fasta.gz", None if full else 20)]
    for name, folder, fasta, limit in sets:
        reference = folder / ("reference_seq.fasta" if folder == NCOV else "reference.fasta")
        caller, results = _checked(reference, folder / fasta, limit)
        if folder == NCOV:
            agreement = _clade_agreement(caller, results)
        differing = [r for r in results if r.cross_check != "agree"]
        lines.append(f"| {name} | {len(results)} | {len(results) - len(differing)} | {len(differing)} |")
        for r in differing:
            details.setdefault(_explain(r.cross_check), []).append(f"{name}: {r.genome} ({r.cross_check})")
    same, compared, disagreements = agreement
    lines += ["", f"Clades of the Nextstrain genomes assigned from mappy's calls and from PairwiseAligner's: "
              f"the same for {same} of {compared}." + "".join(f"\n- {d}" for d in disagreements)]
    lines += ["", "Differences of calls, grouped by their explanation:", ""]
    for explanation, genomes in details.items():
        lines += [f"- {explanation} ({len(genomes)} genomes): " + "; ".join(genomes)]
    lines += [] if details else ["None."]
    return lines


def _checked(reference_path, genomes_path, limit):
    from itertools import islice

    from lstmcore_mutation.calling import Caller
    from lstmcore_mutation.sequences import iter_genomes, read_reference

    reference = read_reference(reference_path)
    caller = Caller(reference, "mappy", cross_check=True)
    return caller, [caller.call(g) for g in islice(iter_genomes([genomes_path]), limit)]


def _clade_agreement(caller, results):
    """(same clade from both aligners' calls, genomes compared, the disagreements)."""
    from lstmcore_mutation.clades import assign_clade, read_clades
    from lstmcore_mutation.sequences import iter_genomes

    table = read_clades(NCOV / "clades.tsv", caller.reference)
    genomes = {g.id: g for g in iter_genomes([NCOV / "example_sequences.fasta.gz"])}
    same, differ = 0, []
    for result in (r for r in results if r.aligned):
        genome = genomes[result.genome].sequence
        start = len(genome) - len(genome.lstrip("N"))
        core = genome[start:len(genome.rstrip("N"))]
        other = caller.other_result(core, result)
        first = assign_clade(result, table, caller.reference.sequence).clade
        second = assign_clade(other, table, caller.reference.sequence).clade
        same += first == second
        if first != second:
            differ.append(f"{result.genome}: mappy {first}, pairwise {second}")
    return same, sum(r.aligned for r in results), differ


def _explain(difference: str) -> str:
    """Why mappy and PairwiseAligner differ, from where the calls are."""
    positions = [int("".join(ch for ch in part.split("-")[0].split(":")[0] if ch.isdigit()) or 0)
                 for side in difference.split("; ") for part in side.split(": ", 1)[-1].split(",")]
    if positions and min(positions) > 29_800:
        return ("the 3' poly(A) tail (MN908947 ends in 33 A's from 29,871): the genome's tail has another "
                "length; mappy aligns into the tail and writes the difference as an indel there, while "
                "PairwiseAligner's last window, with free end gaps, leaves the tail's end unaligned. Neither "
                "is a mutation to trust: Nextstrain masks the last 100 bases")
    if positions and max(positions) < 60:
        return "the 5' end: how far each aligner reaches into a ragged genome start (Nextstrain masks 55 bases)"
    return ("equal-score alternatives: mappy's banded extension and PairwiseAligner's full matrix place "
            "nearby gaps and mismatches differently")


# --- 3. the tagger ------------------------------------------------------------------------

def _tagger(full: bool, threads: int):
    from lstmcore_mutation.sequences import iter_genomes

    train_count, epochs = (300, 8) if full else (150, 6)
    genomes = list(iter_genomes([NCOV / "example_sequences.fasta.gz"]))
    import numpy as np

    order = np.random.default_rng(0).permutation(len(genomes))
    train_part = [genomes[i] for i in order[:train_count]]
    held_out = [genomes[i] for i in order[train_count:]]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        train_file, held_file = folder / "train.fasta", folder / "held_out.fasta"
        _write(train_file, train_part)
        _write(held_file, held_out)
        model = folder / "m.lstm"
        started = time.perf_counter()
        _cli(["-q", "train", "mutation", str(NCOV / "reference_seq.fasta"), str(train_file), "-o", str(model),
              "--epochs", str(epochs), "--threads", str(threads)])
        seconds = time.perf_counter() - started
        scores = {"Nextstrain held-out": _score(model, NCOV / "reference_seq.fasta", held_file),
                  "Nextclade SARS-CoV-2 (2020-21)": _score(model, NEXTCLADE / "sars_cov_2" / "reference.fasta",
                                                            NEXTCLADE / "sars_cov_2" / "sequences.fasta.gz")}
    return _tagger_table(scores, train_count, epochs, seconds)


def _write(path, genomes):
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(f">{g.id}\n{g.sequence}\n" for g in genomes)


def _cli(argv):
    from lstmcore.cli import main

    status = main(argv)
    if status != 0:
        raise SystemExit(f"lstmcore {' '.join(argv)} failed with status {status}")


def _score(model_path, reference, genomes):
    """The task's own scores, plus substitution F1 inside Nextstrain's unmasked interior."""
    from lstmcore.toolkit import load_task_model
    from lstmcore_mutation.scoring import call_scores, score_tagger

    loaded = load_task_model(model_path)
    data = loaded.task.read([reference, genomes], {"quiet": True}, labelled=True)
    scores = score_tagger(loaded.task, loaded.model, data, loaded.state)
    outputs = loaded.task.predict(loaded.model, loaded.task.encode(data, loaded.state, labelled=False), loaded.state)
    tagged = loaded.task.tagged_calls(data, outputs, loaded.state)
    for kind, types in (("substitution", ("substitution",)), ("indel", ("insertion", "deletion"))):
        truth = {(r.genome, c) for r in data.results for c in r.calls if _interior(c, types)}
        found = {(g.id, c) for g, calls in zip(data.genomes, tagged) for c, _ in calls if _interior(c, types)}
        interior = call_scores(truth, found)
        scores[f"interior_{kind}_f1"], scores[f"interior_{kind}_count"] = interior["f1"], interior["true_calls"]
    return scores


def _interior(call, types) -> bool:
    return call.type in types and INTERIOR[0] <= call.position <= INTERIOR[1]


def _tagger_table(scores, train_count, epochs, seconds):
    lines = ["", "## 3. The BiLSTM tagger against the alignment calls", "",
             f"Trained on {train_count} Nextstrain genomes (seeded split), {epochs} epochs, {seconds:.0f} s "
             "(alignment of the training genomes included). Inputs: the genome's base and what the reference's "
             "k-mer index (k = 12, in the model file) says at each position - no alignment. Calls need an anchor "
             "(a 17-mer found once in the reference) on both sides.", "",
             "| scored on | genomes | substitution P / R / F1 | interior substitution F1 | indel P / R / F1 | "
             "interior indel F1 | AUPRC (positions) | tagger genomes/s | alignment genomes/s |",
             "|---|---:|---|---:|---|---:|---:|---:|---:|"]
    for name, s in scores.items():
        lines.append(f"| {name} | {s['genomes']:.0f} | {s['substitution_precision']:.3f} / "
                     f"{s['substitution_recall']:.3f} / **{s['substitution_f1']:.3f}** | "
                     f"{s['interior_substitution_f1']:.3f} | {s['indel_precision']:.3f} / {s['indel_recall']:.3f} / "
                     f"{s['indel_f1']:.3f} | {s['interior_indel_f1']:.3f} ({s['interior_indel_count']:.0f}) | "
                     f"{s['position_auprc']:.3f} | {s['tagger_genomes_per_second']:.0f} | "
                     f"{s['alignment_genomes_per_second']:.0f} |")
    lines += ["", "Interior = positions 56-29,803 (Nextstrain masks the first 55 and last 100 bases; in brackets "
              "the number of alignment indels there). Most of the tagger's misses lie outside it: within ~17 "
              "bases of a genome's end, or in the poly(A) tail, no anchor exists on one side, so no call. Goal: "
              "substitution F1 >= 0.95 at sites without an ambiguity code (ambiguity codes are never calls on "
              "either side), and more genomes per second than the alignment path (both timed in this run, on "
              "one thread: the tagger's features, BiLSTM and decoding against mappy, left-alignment and calls)."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
