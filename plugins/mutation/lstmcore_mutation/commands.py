"""The plugin's command: `lstmcore mutation call REFERENCE GENOMES... -o calls.tsv|calls.vcf [--clades clades.tsv]`.

Registered through the `register_commands` hook as one command, `mutation`,
with its sub-command `call` (exact calls by alignment).  The learned tagger
runs through the core's `train / predict / evaluate / demo` commands with
the task `mutation`.  User mistakes raise `UserInputError` (one line, exit 2).
"""
from __future__ import annotations

import argparse

from lstmcore.toolkit import Command, UserInputError

from .calling import ALIGNER_CHOICES

__all__ = ["MUTATION_COMMAND"]


def _call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reference", metavar="REFERENCE", help="the reference genome (FASTA or GenBank, plain or gzip)")
    parser.add_argument("genomes", metavar="GENOMES", nargs="+", help="genome FASTA files (plain or gzip)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="calls.tsv (or .csv) or calls.vcf (.vcf.gz); OUT.summary.tsv is written beside it")
    parser.add_argument("--clades", metavar="TSV", default=None,
                        help="a Nextstrain clades.tsv: each genome's clade goes to OUT.clades.tsv")
    parser.add_argument("--reference-record", metavar="ID", default=None,
                        help="which record of a multi-record reference file to use")
    parser.add_argument("--aligner", choices=ALIGNER_CHOICES, default="auto",
                        help="auto (default): PairwiseAligner for references up to 10 kb, mappy (minimap2) above")
    check = parser.add_mutually_exclusive_group()
    check.add_argument("--cross-check", dest="cross_check", action="store_true", default=None,
                       help="align with the other aligner too and report differences in the summary "
                            "(default: on for short references)")
    check.add_argument("--no-cross-check", dest="cross_check", action="store_false")
    parser.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bar (also accepted before the command)")


def _arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="mutation_action", metavar="ACTION")
    _call_arguments(actions.add_parser("call", help="substitutions, insertions and deletions by alignment"))


def _call(args) -> int:
    from .call_workflow import run_calls

    run = run_calls(args.reference, args.genomes, args.output, clades=args.clades, aligner=args.aligner,
                    cross_check=args.cross_check, reference_record=args.reference_record,
                    progress=not args.quiet)
    print(f"genomes: {run.genomes}  calls: {run.calls}")
    for name, path in run.files.items():
        print(f"{name}: {path}")
    return 0


def _run(args) -> int:
    if getattr(args, "mutation_action", None) != "call":
        raise UserInputError("choose an action: lstmcore mutation call (see lstmcore mutation --help)")
    return _call(args)


MUTATION_COMMAND = Command("viral mutation calls by alignment (TSV/VCF, summary, clades)", _arguments, _run,
                           example="mutation call reference.fasta genomes.fasta.gz -o calls.tsv --clades clades.tsv\n"
                                   "mutation call reference.gb genomes.fasta -o calls.vcf")
