"""The `mutation` task: a BiLSTM tagger of mutated sites, trained on the exact alignment calls.

    lstmcore train mutation REFERENCE.fasta GENOMES.fasta -o M.lstm
    lstmcore predict M.lstm GENOMES.fasta -o calls.tsv|calls.vcf      (no alignment; a probability column)
    lstmcore evaluate M.lstm REFERENCE.fasta GENOMES.fasta --json     (against the alignment calls)
    lstmcore demo mutation

The first data file of train and evaluate is the reference; the model file
keeps it (the encoder's state), so predict needs only genomes.  Training
aligns every genome (calling.py) for its labels, then trains on chunks of
`train_chunk` positions: every chunk that holds a mutation or a candidate
position and `negatives_per_genome` others, since all-reference chunks
teach little.  Ambiguity codes and unaligned ends carry no weight.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import numpy as np

from lstmcore import toolkit as tk
from lstmcore.toolkit import Encoded, ExampleData, UserInputError

from .calling import Caller
from .features import _NONE, genome_features
from .sequences import Genome, iter_genomes, read_reference
from .tagger_data import PREDICTION_HEADER, MutationData, PredictionTally, TaggerEncoded, reference_index

__all__ = ["MutationTask", "MutationData", "TaggerEncoded", "PREDICTION_HEADER"]

MIN_ANCHORED = 0.5   # a genome with fewer of its positions anchored in the reference is not tagged


class MutationTask(tk.Task):
    """Tag mutated positions of viral genomes with a bidirectional LSTM; calls without aligning."""

    name = "mutation"
    summary = ("viral genomes vs a reference: BiLSTM tagger of mutated sites trained on mappy calls "
               "(focal loss, chunked 30 kb genomes); TSV/VCF with probabilities")
    hyperparameters = {
        "k": 12,                      # reference k-mer length of the encoder's index
        "units": 16,                  # LSTM units per direction
        "learning_rate": 0.01,
        "focal_gamma": 2.0,
        "focal_alpha": 0.75,
        "train_chunk": 256,           # positions per training chunk
        "negatives_per_genome": 4,    # chunks without a candidate position, per genome
        "augment_indels": 4,          # indels planted in a copy of each training genome (0: none)
        "chunk": 2048,                # positions per prediction chunk ...
        "overlap": 256,               # ... of which this many each side are context only
        "screen": True,               # run the LSTM only around candidate positions (tagger.py), in
        "screen_chunk": 256,          # ... chunks of this many positions
        "screen_overlap": 64,         # ... with this much context each side
        "threshold": 0.5,
        "epochs": 8,
        "batch_size": 32,
    }
    demo_hyperparameters = {"epochs": 6}
    demo_epochs = 6
    chunk_size = 32                   # genomes per prediction chunk (features: ~2 MB per 30 kb genome)

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser, command: str) -> None:
        if command in ("train", "evaluate"):
            parser.add_argument("--reference-record", default=None, metavar="ID",
                                help="which record of a multi-record reference file (the first DATA file)")

    # --- reader ------------------------------------------------------------------------
    def read(self, paths: Sequence[Path], options: Mapping[str, Any], *, labelled: bool) -> MutationData:
        """Labelled: REFERENCE GENOMES... aligned for their calls; unlabelled: GENOMES... only."""
        if not labelled:
            return MutationData(None, list(iter_genomes(paths)))
        if len(paths) < 2:
            raise UserInputError("give the reference first, then the genome files", file=paths[0])
        reference = read_reference(paths[0], options.get("reference_record"))
        caller = Caller(reference, "mappy", cross_check=False)
        genomes, results, seconds = [], [], 0.0
        for genome in _progress(iter_genomes(paths[1:]), not options.get("quiet"), "align"):
            started = time.perf_counter()
            results.append(caller.call(genome))
            seconds += time.perf_counter() - started
            genomes.append(genome)
        return MutationData(reference, genomes, results, seconds)

    def read_chunks(self, paths: Sequence[Path], options: Mapping[str, Any]) -> Iterator[MutationData]:
        """Chunks of genomes for `predict`.  The core asks for the next chunk once every row of this one is
        out, so after the last chunk the run's tally is complete: when not one genome could be tagged the
        run stops here, before the table is published (an earlier output stays as it was)."""
        batch: List[Genome] = []
        tally = PredictionTally()
        for genome in iter_genomes(paths):
            batch.append(genome)
            if len(batch) == self.chunk_size:
                yield MutationData(None, batch, tally=tally)
                batch = []
        if batch:
            yield MutationData(None, batch, tally=tally)
        _check_tally(tally)

    # --- encoder -----------------------------------------------------------------------
    def fit_encoder(self, data: MutationData, hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
        usable = sum(r.aligned and r.strand == "+" for r in data.results)
        if usable == 0:
            raise UserInputError("no genome aligns to the reference: nothing to train on",
                                 file=data.genomes[0].source if data.genomes else None)
        # The hyper-parameters ride along: encode and predict (chunking, screen, threshold) get only the state.
        return {"reference_id": data.reference.id, "reference": data.reference.sequence,
                "k": int(hyperparameters["k"]), "hyperparameters": dict(hyperparameters)}

    def encode(self, data: MutationData, state: Mapping[str, Any], *, labelled: bool) -> TaggerEncoded:
        from .training_chunks import sample_training_chunks

        index = reference_index(state)
        if not labelled:
            features = [genome_features(g.sequence, index) if not g.problem else None for g in data.genomes]
            return TaggerEncoded(np.zeros((len(features), 0, 0), dtype=np.float32), features=features)
        return sample_training_chunks(data, index, state.get("hyperparameters", self.hyperparameters))

    # --- model -------------------------------------------------------------------------
    def build_model(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
        from .tagger import build_tagger

        return build_tagger(hyperparameters)

    def validation_split(self, encoded: Encoded, fraction: float):
        """Whole genomes held out (a genome's chunks, and its indel-planted copy, stay on one side)."""
        groups = encoded.groups if encoded.groups is not None else np.arange(encoded.x.shape[0])
        genomes = np.random.default_rng(0).permutation(np.unique(groups))
        held = set(genomes[len(genomes) - int(round(fraction * len(genomes))):].tolist()) if fraction else set()
        mask = np.array([g in held for g in groups], dtype=bool)
        return np.flatnonzero(~mask), np.flatnonzero(mask)

    def fit(self, model, encoded: TaggerEncoded, *, epochs: int, batch_size: int, validation_split: float,
            verbose: int = 0, hyperparameters: Optional[Mapping[str, Any]] = None):
        train, held_out = self.validation_split(encoded, validation_split)
        fitted, validation = encoded.subset(train), encoded.subset(held_out)
        extra = {}
        if validation.x.shape[0]:
            extra = {"validation_data": (validation.x, validation.y, validation.weights),
                     "validation_lengths": validation.lengths}
        return model.fit(fitted.x, fitted.y, epochs=epochs, batch_size=batch_size, verbose=verbose,
                         lengths=fitted.lengths, sample_weight=fitted.weights, **extra)

    def predict(self, model, encoded: TaggerEncoded, state: Optional[Mapping[str, Any]] = None, *,
                batch_size: int = 64) -> List[Optional[tuple]]:
        """Per genome, (its features, the probability of each position being mutated); None if unusable."""
        from .tagger import predict_positions

        settings = {**self.hyperparameters, **dict((state or {}).get("hyperparameters", {}))}
        usable = [f for f in encoded.features if f is not None]
        screen = bool(settings["screen"])
        chunk, overlap = (settings["screen_chunk"], settings["screen_overlap"]) if screen else \
            (settings["chunk"], settings["overlap"])
        probabilities = iter(predict_positions(model, usable, chunk=int(chunk), overlap=int(overlap), screen=screen,
                                               batch_size=batch_size))
        return [None if f is None else (f, next(probabilities)) for f in encoded.features]

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self, model, data: MutationData, state: Mapping[str, Any], *, options=None,
                 hyperparameters=None) -> Dict[str, float]:
        from .scoring import score_tagger

        if data.reference.sequence != state["reference"]:
            raise UserInputError(f"is not the reference the model was trained on ({state['reference_id']}, "
                                 f"{len(state['reference'])} nt)", file=data.reference.source,
                                 record=data.reference.id)
        return score_tagger(self, model, data, state)

    # --- writer --------------------------------------------------------------------------
    def prediction_header(self, state: Mapping[str, Any]) -> List[str]:
        return list(PREDICTION_HEADER)

    def prediction_rows(self, data: MutationData, outputs, state: Mapping[str, Any]):
        from .prediction_vcf import CallRow, PredictionContext

        context = PredictionContext.for_state(state)
        for genome, output, calls in zip(data.genomes, outputs, self.tagged_calls(data, outputs, state,
                                                                                  warn=False)):
            problem = genome.problem if output is None else _untaggable(output[0])
            if problem:   # the table is written without it, then predict exits 2 naming it
                skipped = tk.SkippedRecord(genome.source, genome.id, f"not tagged: {problem}")
                if data.tally is not None:
                    data.tally.skipped.append(skipped)
                yield skipped
                continue
            if data.tally is not None:
                data.tally.tagged += 1
            context.add_genome(genome)
            for call, probability in calls:
                yield CallRow([genome.id, call.position, call.ref, call.alt, call.type, round(probability, 6)],
                              context)

    def tagged_calls(self, data: MutationData, outputs, state: Mapping[str, Any], *,
                     warn: bool = True) -> List[List]:
        """Per genome, the (call, probability) pairs its tagged positions give.

        A genome that cannot be tagged (empty, protein, or one whose bases are
        mostly not anchored in the reference: another virus) has no calls, and
        (with `warn`) a warning line on stderr names it, so "no mutation" is
        never silent.  `predict` reports such genomes itself (one line at the
        end), so it asks for no warnings here.
        """
        from .decode import decode_calls

        reference = state["reference"]
        threshold = float({**self.hyperparameters, **state.get("hyperparameters", {})}["threshold"])
        calls = []
        for genome, output in zip(data.genomes, outputs):
            problem = genome.problem if output is None else _untaggable(output[0])
            if problem:
                if warn:
                    _warn(genome, problem)
                calls.append([])
                continue
            features, probability = output
            calls.append(decode_calls(genome.sequence, features, probability, reference, threshold))
        return calls

    # --- demo ----------------------------------------------------------------------------
    def make_example_data(self, folder: Path, seed: int = 0) -> ExampleData:
        from .demo_data import write_demo_data

        return write_demo_data(folder, seed)

    def demo_outputs(self, model_path: Path, data: ExampleData, folder: Path) -> Dict[str, Path]:
        from .demo_data import check_demo

        return check_demo(model_path, data, folder)


def _untaggable(features) -> Optional[str]:
    anchored = float(np.mean(features.left_offset != _NONE)) if len(features) else 0.0
    if anchored < MIN_ANCHORED:
        return (f"only {100 * anchored:.0f}% of it is anchored in the reference (another virus, or mostly N?): "
                "no calls")
    return None


def _check_tally(tally: PredictionTally) -> None:
    """After the last chunk of `predict`: stop (nothing published) when no genome could be tagged; when some
    could, one line names the others not tagged (the core's final error names the first, with its reason)."""
    import sys

    if not tally.skipped:
        return
    first, count = tally.skipped[0], len(tally.skipped)
    if not tally.tagged:
        more = f"; none of the {count} records could be tagged" if count > 1 else ""
        raise UserInputError(f"{first.problem}{more}, so nothing is written", file=first.file, record=first.record)
    if count > 1:
        print(f"warning: {count} records not tagged: {_listed(s.record for s in tally.skipped)}", file=sys.stderr)


def _listed(names, limit: int = 5) -> str:
    names = list(names)
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _warn(genome: Genome, problem: str) -> None:
    import sys

    print(f"warning: {genome.source}: record {genome.id}: not tagged: {problem}", file=sys.stderr)


def _progress(items, show: bool, what: str):
    if not show:
        return items
    return tk.progress_bar(items, desc=what, unit=" genomes", leave=False, disable=None)