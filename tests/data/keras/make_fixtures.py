"""Write the Keras files the interop tests read (run with Keras 3 installed: tensorflow-cpu is the
benchmark rival).  Each model is saved as .keras, as Keras 3 weights (.weights.h5) and as legacy HDF5
(.h5), beside the inputs it was given and the outputs Keras computed (<name>.npz).

    python tests/data/keras/make_fixtures.py [FOLDER]
"""
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402


def danq_like():
    return keras.Sequential([
        layers.Input(shape=(24, 4)), layers.Conv1D(6, 5, activation="relu"), layers.MaxPooling1D(2),
        layers.Dropout(0.2), layers.Bidirectional(layers.LSTM(4, return_sequences=True)), layers.LSTM(3),
        layers.Dense(2, activation="softmax")], name="danq_like")


def two_inputs():
    tokens = keras.Input(shape=(7,), dtype="int32", name="tokens")
    signal = keras.Input(shape=(7, 2), name="signal")
    embedded = layers.Embedding(12, 3, name="embedding")(tokens)
    joined = layers.Concatenate(name="joined")([embedded, signal])
    normal = layers.BatchNormalization(name="norm")(joined)
    per_step = layers.TimeDistributed(layers.Dense(4, activation="tanh"), name="per_step")(normal)
    pooled = layers.GlobalAveragePooling1D(name="pooled")(layers.LSTM(5, return_sequences=True)(per_step))
    return keras.Model([tokens, signal], [layers.Dense(1, name="score")(pooled),
                                          layers.Dense(3, activation="softmax", name="kind")(pooled)])


def inputs_for(model, rng):
    arrays = []
    for tensor in model.inputs:
        shape = (5,) + tuple(tensor.shape[1:])
        arrays.append(rng.integers(0, 12, size=shape).astype("int32") if "int" in str(tensor.dtype)
                      else rng.normal(size=shape).astype("float32"))
    return arrays


def main(folder):
    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    for name, build in (("danq_like", danq_like), ("two_inputs", two_inputs)):
        model = build()
        model.compile(optimizer="adam", loss="mse")
        x = inputs_for(model, rng)
        outputs = model.predict(x, verbose=0)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        model.save(folder / f"{name}.keras")
        model.save_weights(folder / f"{name}.weights.h5")
        model.save(folder / f"{name}.h5")
        np.savez(folder / f"{name}.npz", **{f"x{i}": a for i, a in enumerate(x)},
                 **{f"y{i}": a for i, a in enumerate(outputs)})


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent)
