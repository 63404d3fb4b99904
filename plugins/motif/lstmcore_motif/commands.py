"""The plugin's subcommands: `lstmcore motif attribute | discover | compare`.

    lstmcore motif attribute MODEL DATA... -o DIR [--class NAME] [--no-ism] [--plot]
    lstmcore motif discover  MODEL DATA... -o DIR [--class NAME] [--labels SOURCE|predicted]
                             [--method gradient|ism] [--seeds both|attribution|enrichment] [--width 6]
                             [--motifs 3] [--known FILE] [--plot]
    lstmcore motif compare   FOUND KNOWN [--found-format F] [--known-format F]

Registered through the `register_commands` hook as one command, `motif`,
with its own sub-commands.  User mistakes raise `UserInputError` (one line,
exit 2), like the core's commands.
"""
from __future__ import annotations

import argparse

from lstmcore.commands import Command, positive_int
from lstmcore.errors import UserInputError

from .discovery import SEED_ROUTES

__all__ = ["MOTIF_COMMAND"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="a model file written by `lstmcore train motif`")
    parser.add_argument("data", metavar="DATA", nargs="+", help="FASTA files (plain or gzip)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder to write into")
    parser.add_argument("--class", dest="class_name", default=None, metavar="NAME",
                        help="the class to explain (default: the second of two sorted classes, e.g. 'promoter')")
    parser.add_argument("--plot", action="store_true", help="also write logo PNGs (needs lstmcore-motif[plot])")
    parser.add_argument("--threads", type=positive_int, default=None, help="threads (default: all cores)")


def _arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="motif_action", metavar="ACTION")
    attribute = actions.add_parser("attribute", help="gradient x input and in-silico mutagenesis per position")
    _common(attribute)
    attribute.add_argument("--no-ism", action="store_true", help="gradient x input only (skip mutagenesis)")
    discover = actions.add_parser("discover", help="motifs behind a class: JASPAR, MEME, sites, logos")
    _common(discover)
    discover.add_argument("--labels", default="header", metavar="SOURCE",
                          help="which records belong to the class: 'header' (default), 'file', a TSV, "
                               "or 'predicted' (the model's own calls)")
    discover.add_argument("--method", choices=("gradient", "ism"), default="gradient",
                          help="attribution the windows are ranked by (default gradient)")
    discover.add_argument("--seeds", choices=("both",) + SEED_ROUTES, default="both",
                          help="where motifs are seeded: the model's attribution, enrichment in the class over "
                               "the other records (no model), or both (default; motifs.tsv says which found each)")
    discover.add_argument("--width", type=positive_int, default=6, help="motif width (default 6)")
    discover.add_argument("--motifs", type=positive_int, default=3, help="how many motifs (default 3)")
    discover.add_argument("--known", default=None, metavar="FILE",
                          help="a known matrix to compare with (JASPAR, MEME, TRANSFAC, PFM or sites)")
    discover.add_argument("--known-format", default=None, help="its Bio.motifs format, if the extension is unclear")
    compare = actions.add_parser("compare", help="Pearson match of the motifs in two files")
    compare.add_argument("found", metavar="FOUND")
    compare.add_argument("known", metavar="KNOWN")
    compare.add_argument("--found-format", default=None)
    compare.add_argument("--known-format", default=None)


def _set_threads(args) -> None:
    if getattr(args, "threads", None):
        from lstmcore import set_num_threads

        set_num_threads(args.threads)


def _attribute(args) -> int:
    from .attribution_workflow import attribute_records

    result = attribute_records(args.model, args.data, args.output, class_name=args.class_name,
                               ism=not args.no_ism, plot=args.plot)
    print(f"attribution: {result.table} ({result.rows} positions)")
    if result.logos:
        print(f"logos: {result.logos[0].parent} ({len(result.logos)} files)")
    return 0


def _discover(args) -> int:
    from .discovery_workflow import discover_motifs

    result = discover_motifs(args.model, args.data, args.output, options={"labels": args.labels},
                             class_name=args.class_name, method=args.method, width=args.width,
                             seeds=SEED_ROUTES if args.seeds == "both" else (args.seeds,),
                             count=args.motifs, known_matrix=args.known, known_format=args.known_format,
                             plot=args.plot)
    for rank, (found, match) in enumerate(zip(result.motifs, result.matches), start=1):
        known = "" if match is None else f"  known r={match.correlation:.3f} ({match.strand})"
        print(f"motif {rank}: {found.motif.consensus}  sites={len(found.sites)}  "
              f"column={found.start_column}  seeded by {'+'.join(found.seeded_by)}{known}")
    for name, path in result.files.items():
        print(f"{name}: {path}")
    return 0


def _compare(args) -> int:
    from .formats import read_motifs
    from .similarity import compare_motifs

    known = read_motifs(args.known, args.known_format)
    for found in read_motifs(args.found, args.found_format):
        best = max(((compare_motifs(k, found), k) for k in known if str(k.alphabet) == str(found.alphabet)),
                   key=lambda pair: pair[0].correlation, default=None)
        if best is None:
            raise UserInputError("no motif of the same alphabet to compare with", file=args.known)
        match, motif = best
        print(f"{found.name or found.consensus}\t{motif.name or motif.consensus}\t{match.correlation:.4f}\t"
              f"{match.offset}\t{match.strand}")
    return 0


def _run(args) -> int:
    _set_threads(args)
    action = {"attribute": _attribute, "discover": _discover, "compare": _compare}.get(args.motif_action)
    if action is None:
        raise UserInputError("choose an action: lstmcore motif attribute | discover | compare (see --help)")
    return action(args)


MOTIF_COMMAND = Command("motif attribution, discovery (JASPAR/MEME) and comparison", _arguments, _run,
                        example="motif discover promoters.lstm promoters.fasta -o motifs/ --plot\n"
                                "motif attribute promoters.lstm promoters.fasta -o attribution/\n"
                                "motif compare motifs/motifs.jaspar known.jaspar")
