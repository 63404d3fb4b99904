"""Write the Keras files the interop tests read (run with Keras 3 installed: tensorflow-cpu is the
benchmark rival).  Each model is saved as .keras, as Keras 3 weights (.weights.h5) and as legacy HDF5
(.h5), beside the inputs it was given and the outputs Keras computed (<name>.npz).

    python tests/data/keras/make_fixtures.py [FOLDER [NAME ...]]     (NAME: only those models)
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


def masked():
    """Padded sequences through Embedding(mask_zero=True) and Masking: Keras 3 records the masks'
    computation in the functional graph as operations (NotEqual, Any), not as layers."""
    tokens = keras.Input(shape=(9,), dtype="int32", name="tokens")
    signal = keras.Input(shape=(9, 3), name="signal")
    from_tokens = layers.LSTM(3, name="token_lstm")(layers.Embedding(6, 4, mask_zero=True, name="embedding")(tokens))
    from_signal = layers.Bidirectional(layers.LSTM(2), name="signal_lstm")(layers.Masking(0.0, name="masking")(signal))
    joined = layers.Concatenate(name="joined")([from_tokens, from_signal])
    return keras.Model([tokens, signal], layers.Dense(2, activation="softmax", name="out")(joined), name="masked")


def padded_inputs(rng):
    """Tokens 1-5 and signal rows, each sequence padded at its end (zeros) to 9 steps from a length of 3-9."""
    lengths = rng.integers(3, 10, size=5)
    steps = np.arange(9)[None, :] < lengths[:, None]
    tokens = np.where(steps, rng.integers(1, 6, size=(5, 9)), 0).astype("int32")
    signal = np.where(steps[:, :, None], rng.normal(size=(5, 9, 3)), 0.0).astype("float32")
    return [tokens, signal]


def inputs_for(model, rng):
    if model.name == "masked":
        return padded_inputs(rng)
    arrays = []
    for tensor in model.inputs:
        shape = (5,) + tuple(tensor.shape[1:])
        arrays.append(rng.integers(0, 12, size=shape).astype("int32") if "int" in str(tensor.dtype)
                      else rng.normal(size=shape).astype("float32"))
    return arrays


def main(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    for name, build in (("danq_like", danq_like), ("two_inputs", two_inputs), ("masked", masked)):
        model = build()
        if names and name not in names:
            continue
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
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent, sys.argv[2:])
