"""The core's one built-in task, `sequence-classification`: FASTA + labels -> a bidirectional LSTM classifier.

It is small on purpose.  It makes the command line useful (and testable end
to end) before any task plugin is installed, and it is the base that richer
plugins build on: lstmcore-motif subclasses it to add attribution and motif
discovery.  Everything it does goes through the shared registries: the FASTA
reader is found by file extension (`lstmcore.io.readers.reader_for`) and the
one-hot encoder by alphabet name, so a reader or an encoder that a plugin
registers serves it too.

Labels come from `--labels`: "header" (a `label=CLASS` word in each header,
the default), "file" (one file per class), or a TSV/CSV with `id` and `label`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Sequence

import numpy as np

from .. import registry
from ..encoders import detect_alphabet, encoder_from_config
from ..errors import UserInputError
from ..io.fasta import SequenceRecord, chunked, write_fasta
from ..io.labels import attach_labels
from ..io.readers import reader_for
from .contract import Encoded, ExampleData, Task
from .scores import classification_scores
from .synthetic import planted_sequences

__all__ = ["SequenceClassificationTask", "write_fasta"]


class SequenceClassificationTask(Task):
    """Classify whole sequences (DNA, RNA or protein) into two or more classes."""

    name = "sequence-classification"
    summary = "FASTA sequences + labels -> bidirectional LSTM classifier (probability per class)"
    hyperparameters = {
        "alphabet": "auto",        # "auto", or an encoder name: "dna", "rna", "protein", or a plugin's
        "gaps": "error",           # "error", "zero" or "skip" (see lstmcore.encoders)
        "units": 32,               # LSTM units per direction
        "dropout": 0.0,            # dropout before the output layer
        "learning_rate": 0.01,
        "optimizer": "adam",
    }
    hyperparameter_limits = {"units": (1, 4096), "dropout": (0.0, 0.95), "learning_rate": (1e-8, 10.0)}
    demo_hyperparameters = {"units": 16, "learning_rate": 0.02}
    demo_epochs = 10  # reaches ~99 % accuracy on the demo data in a few seconds

    # --- the command line --------------------------------------------------------------
    def add_arguments(self, parser, command: str) -> None:
        if command in ("train", "evaluate"):
            parser.add_argument("--labels", default="header", metavar="SOURCE",
                                help="where the classes come from: 'header' (label=CLASS in each header, "
                                     "the default), 'file' (one FASTA file per class), or a TSV/CSV "
                                     "with columns id and label")
        if command == "train":
            parser.add_argument("--alphabet", default=None, metavar="NAME",
                                help="dna, rna or protein (or a plugin's encoder); default: detected from the "
                                     "letters, and reported")

    def hyperparameters_from_options(self, options: Mapping[str, Any]) -> Dict[str, Any]:
        return {"alphabet": options["alphabet"]} if options.get("alphabet") else {}

    def training_report(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]) -> List[str]:
        if hyperparameters.get("alphabet") != "auto":
            return []
        return [f"alphabet: {state['encoder']['name']} (detected from the letters; --alphabet sets it)"]

    # --- reader ------------------------------------------------------------------------
    def read(self, paths: Sequence[Path], options: Mapping[str, Any], *, labelled: bool) -> List[SequenceRecord]:
        records = list(self._records(paths))
        if labelled:
            records = attach_labels(records, str(options.get("labels") or "header"))
        return records

    def read_chunks(self, paths: Sequence[Path], options: Mapping[str, Any]) -> Iterator[List[SequenceRecord]]:
        return chunked(self._records(paths), self.chunk_size)

    @staticmethod
    def _records(paths: Sequence[Path]) -> Iterator[SequenceRecord]:
        """Records of every file, through the reader its extension picks; an id may appear once."""
        seen: Dict[str, str] = {}
        for path in paths:
            reader = reader_for(path)
            if reader.kind != "sequences":
                raise UserInputError(f"holds {reader.kind} (by its extension), but this task reads sequences (FASTA)",
                                     file=path)
            for record in reader.read(path):
                if record.id in seen:
                    raise UserInputError(f"duplicate record id (also in {seen[record.id]})", file=path,
                                         record=record.id)
                seen[record.id] = str(path)
                yield record

    # --- encoder -----------------------------------------------------------------------
    def fit_encoder(self, records: List[SequenceRecord], hyperparameters: Mapping[str, Any]) -> Dict[str, Any]:
        classes = sorted({r.label for r in records})
        if len(classes) < 2:
            first = records[0]
            raise UserInputError(f"all records have the label {classes[0]!r}; a classifier needs two or "
                                 "more classes", file=first.source)
        alphabet = hyperparameters["alphabet"]
        if alphabet == "auto":
            alphabet = _detected_alphabet(records)
        encoder = registry.encoders.get(alphabet).configured(gaps=hyperparameters["gaps"])
        return {"classes": classes, "encoder": encoder.config()}

    def encode(self, records: List[SequenceRecord], state: Mapping[str, Any], *, labelled: bool) -> Encoded:
        encoder = encoder_from_config(state["encoder"])
        x, lengths = encoder.encode_records(records)
        y = self._class_indices(records, state["classes"]) if labelled else None
        return Encoded(x, y, lengths)

    @staticmethod
    def _class_indices(records: List[SequenceRecord], classes: Sequence[str]) -> np.ndarray:
        index = {name: i for i, name in enumerate(classes)}
        for record in records:
            if record.label not in index:
                raise UserInputError(f"label {record.label!r} is not one of the model's classes "
                                     f"({', '.join(classes)})", file=record.source, record=record.id)
        return np.array([index[r.label] for r in records], dtype=np.int64)

    # --- model -------------------------------------------------------------------------
    def check_state(self, state: Mapping[str, Any], input_shape, output_shape) -> None:
        """Two or more distinct class names, a known encoder whose channels are the model's input
        features, and a model that outputs one probability per class (not one per step)."""
        classes = state.get("classes")
        if not isinstance(classes, list) or not all(isinstance(name, str) for name in classes):
            raise ValueError("its state has no list of class names")
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ValueError(f"its state lists the classes {classes!r}; a classifier needs two or more "
                             "distinct ones")
        if not isinstance(state.get("encoder"), dict) or not isinstance(state["encoder"].get("name"), str):
            raise ValueError("its state has no encoder")
        try:
            channels = encoder_from_config(state["encoder"]).channels
        except registry.UnknownNameError as exc:
            raise ValueError(f"its encoder cannot be rebuilt ({exc.args[0] if exc.args else exc})") from None
        if input_shape is not None and input_shape[-1] not in (None, channels):
            raise ValueError(f"its encoder {state['encoder']['name']!r} makes {channels} channels, but the model "
                             f"takes {input_shape[-1]} features per step")
        if output_shape is not None and tuple(output_shape) != (None, len(classes)):
            raise ValueError(f"the model outputs shape {tuple(output_shape)}, not one probability per class "
                             f"(None, {len(classes)}) for its {len(classes)} classes")

    def build_model(self, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]):
        from .. import layers
        from ..models import Sequential

        channels = encoder_from_config(state["encoder"]).channels
        stack = [layers.Bidirectional(layers.LSTM(int(hyperparameters["units"])), input_shape=(None, channels))]
        if hyperparameters["dropout"] > 0:
            stack.append(layers.Dropout(float(hyperparameters["dropout"])))
        stack.append(layers.Dense(len(state["classes"]), activation="softmax"))
        model = Sequential(stack)
        optimizer_class = registry.optimizers.get(hyperparameters["optimizer"])
        optimizer = optimizer_class(learning_rate=float(hyperparameters["learning_rate"]))
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    # --- evaluation ----------------------------------------------------------------------
    def evaluate(self, model, records: List[SequenceRecord], state: Mapping[str, Any], *, options=None,
                 hyperparameters=None) -> Dict[str, float]:
        encoded = self.encode(records, state, labelled=True)
        probabilities = self.predict(model, encoded, state)
        return classification_scores(encoded.y, probabilities, state["classes"])

    # --- writer --------------------------------------------------------------------------
    def prediction_header(self, state: Mapping[str, Any]) -> List[str]:
        return ["id", "predicted"] + [f"p_{name}" for name in state["classes"]]

    def prediction_rows(self, records: List[SequenceRecord], outputs: np.ndarray,
                        state: Mapping[str, Any]) -> Iterable[Sequence]:
        classes = state["classes"]
        for record, probabilities in zip(records, outputs):
            yield [record.id, classes[int(np.argmax(probabilities))], *map(float, probabilities)]

    # --- demo ----------------------------------------------------------------------------
    def make_example_data(self, folder: Path, seed: int = 0) -> ExampleData:
        """DNA with the E-box CACGTG planted in the class 'motif' and not in 'background'."""
        rng = np.random.default_rng(seed)
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for part, count in (("train", 600), ("evaluate", 200), ("predict", 50)):
            records = planted_sequences(rng, count, ["CACGTG"], lengths=(20, 31), prefix=part)
            if part == "predict":
                records = [(rid, seq, None) for rid, seq, _ in records]
            files[part] = folder / f"{part}.fasta"
            write_fasta(files[part], records)
        return ExampleData(folder, [files["train"]], [files["evaluate"]], [files["predict"]],
                           {"labels": "header"},
                           "random DNA of 20-30 nt; class 'motif' carries CACGTG at a random position")


# A nucleotide file is mostly these letters; protein has about 30 % of them (A, C, G, T and N are amino acids too).
NUCLEOTIDE_LETTERS = "ACGTUN"
NUCLEOTIDE_SHARE = 0.5


def _detected_alphabet(records: List[SequenceRecord]) -> str:
    """The alphabet the letters say; mostly nucleotides plus letters that are not nucleotide codes (DNA
    soft-masked with X) is an error, never a silent protein model."""
    from collections import Counter

    counts: Counter = Counter()
    for record in records:
        counts.update(record.sequence.upper())
    for gap in "-.":
        counts.pop(gap, None)
    total = sum(counts.values()) or 1
    share = sum(counts[letter] for letter in NUCLEOTIDE_LETTERS) / total
    alphabet = detect_alphabet(r.sequence for r in records)
    if alphabet == "protein" and share >= NUCLEOTIDE_SHARE:
        raise _mixed_alphabet_error(records, counts, share)
    return alphabet


def _mixed_alphabet_error(records: List[SequenceRecord], counts, share: float) -> UserInputError:
    """Which letters are not nucleotide codes, how often, and where the first one is."""
    from ..encoders import DNA

    foreign = sorted(letter for letter in counts if letter not in DNA.letters + "U" + "".join(DNA.ambiguity))
    shown = ", ".join(f"{letter!r} ({counts[letter]:,})" for letter in foreign[:8])
    first = next(r for r in records if any(letter in r.sequence.upper() for letter in foreign))
    position = next(i for i, letter in enumerate(first.sequence.upper()) if letter in foreign) + 1
    return UserInputError(f"the sequences look like nucleotides ({share:.0%} of the letters are A, C, G, T, U "
                          f"or N) but also hold letters that are not nucleotide codes: {shown}; the first is at "
                          f"position {position} here. Give --alphabet protein if they are protein; otherwise "
                          "replace those letters (N for an unknown base)",
                          file=first.source, record=first.id)
