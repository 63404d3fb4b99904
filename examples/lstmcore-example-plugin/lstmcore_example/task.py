"""The `gc-content` task: from a DNA sequence, predict the fraction of G and C in it.

The target is computed from the sequence itself, so any FASTA file is
training data; the model has to learn to count along the sequence.
"""
import numpy as np

from lstmcore.encoders import DNA
from lstmcore.io.fasta import chunked, read_fasta, iter_fasta
from lstmcore.tasks import Encoded, ExampleData, Task


def gc_fraction(sequence):
    """The share of G and C among the A, C, G, T letters of `sequence` (0 when it has none)."""
    upper = sequence.upper()
    bases = sum(upper.count(base) for base in "ACGT")
    return (upper.count("G") + upper.count("C")) / bases if bases else 0.0


class GCContentTask(Task):
    name = "gc-content"
    summary = "DNA FASTA -> GC fraction of each sequence (a regression example)"
    hyperparameters = {"units": 8, "learning_rate": 0.01, "loss": "log-cosh"}
    demo_epochs = 8

    def read(self, paths, options, *, labelled):
        return read_fasta(paths)

    def read_chunks(self, paths, options):
        return chunked((r for path in paths for r in iter_fasta(path)), self.chunk_size)

    def fit_encoder(self, records, hyperparameters):
        return {"encoder": DNA.config()}

    def encode(self, records, state, *, labelled):
        x, lengths = DNA.encode_records(records)
        y = np.array([[gc_fraction(r.sequence)] for r in records], dtype=np.float32) if labelled else None
        return Encoded(x, y, lengths)

    def build_model(self, state, hyperparameters):
        from lstmcore import Sequential, layers, optimizers

        model = Sequential([layers.LSTM(hyperparameters["units"], input_shape=(None, 4)),
                            layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer=optimizers.Adam(learning_rate=hyperparameters["learning_rate"]),
                      loss=hyperparameters["loss"], metrics=["mae"])
        return model

    def evaluate(self, model, records, state, *, options=None, hyperparameters=None):
        encoded = self.encode(records, state, labelled=True)
        predicted = self.predict(model, encoded, state)
        return {"mae": float(np.mean(np.abs(predicted - encoded.y))), "n": float(len(records))}

    def prediction_header(self, state):
        return ["id", "gc_predicted", "gc_observed"]

    def prediction_rows(self, records, outputs, state):
        for record, output in zip(records, outputs):
            yield [record.id, float(output[0]), gc_fraction(record.sequence)]

    def make_example_data(self, folder, seed=0):
        rng = np.random.default_rng(seed)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for part, count in (("train", 300), ("evaluate", 60), ("predict", 20)):
            paths[part] = folder / f"{part}.fasta"
            with open(paths[part], "w") as handle:
                for i in range(count):
                    gc = rng.uniform(0.2, 0.8)
                    bases = rng.choice(list("ACGT"), p=[(1 - gc) / 2, gc / 2, gc / 2, (1 - gc) / 2],
                                       size=int(rng.integers(20, 40)))
                    handle.write(f">{part}{i}\n{''.join(bases)}\n")
        return ExampleData(folder, [paths["train"]], [paths["evaluate"]], [paths["predict"]], {},
                           "random DNA with GC content between 0.2 and 0.8")
