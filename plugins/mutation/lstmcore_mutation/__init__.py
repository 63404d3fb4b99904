"""lstmcore-mutation: mutation sites of viral genomes against a reference.

- `lstmcore mutation call`: exact calls by alignment (mappy/minimap2, and
  Biopython's PairwiseAligner for short segments and as cross-check), as a
  TSV or a multi-sample VCF (pysam), with a per-genome summary and
  Nextstrain clades;
- the task `mutation`: a bidirectional LSTM tagger of mutated sites trained
  on those calls (`lstmcore train / predict / evaluate / demo mutation`);
- the loss `focal-binary` it trains with, and a `vcf` prediction writer.

lstmcore finds this module through the entry point `mutation` in the group
`lstmcore` (pyproject.toml).
"""
import lstmcore

__version__ = "0.1.0"


@lstmcore.hookimpl
def register_tasks(register):
    from .task import MutationTask

    register(MutationTask.name, MutationTask())


@lstmcore.hookimpl
def register_commands(register):
    from .commands import MUTATION_COMMAND

    register("mutation", MUTATION_COMMAND)


@lstmcore.hookimpl
def register_losses(register):
    from .losses import FocalBinaryCrossentropy

    register("focal-binary", FocalBinaryCrossentropy)


@lstmcore.hookimpl
def register_writers(register):
    from .prediction_vcf import VCF_WRITER

    register("vcf", VCF_WRITER)
