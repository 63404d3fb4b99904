"""Every bad argument gets a message naming the argument and the value received."""
import numpy as np
import pytest

import lstmcore as lc
from lstmcore import callbacks as cb
from lstmcore import layers as L
from lstmcore import losses, metrics, optimizers


def _compiled():
    model = lc.Sequential([L.LSTM(2, input_shape=(3, 1)), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


X, Y = np.zeros((4, 3, 1)), np.zeros(4)

CASES = [
    ("lstm-units-zero", lambda: L.LSTM(0), r"units must be a positive integer\. Received: units=0"),
    ("lstm-units-float", lambda: L.LSTM(2.5), r"units=2\.5"),
    ("lstm-dropout-one", lambda: L.LSTM(2, dropout=1.0), r"dropout must be a number in \[0, 1\)\. Received: dropout=1\.0"),
    ("lstm-recurrent-dropout", lambda: L.LSTM(2, recurrent_dropout=0.2), r"recurrent_dropout=0\.2"),
    ("lstm-activation", lambda: L.LSTM(2, activation="relu"), r"activation='relu'"),
    ("lstm-initializer", lambda: L.LSTM(2, kernel_initializer="glorious"), r"kernel_initializer='glorious'"),
    ("lstm-regularizer", lambda: L.LSTM(2, kernel_regularizer="l3"), r"kernel_regularizer='l3'"),
    ("lstm-return-sequences", lambda: L.LSTM(2, return_sequences="yes"), r"return_sequences='yes'"),
    ("lstm-unknown-keyword", lambda: L.LSTM(2, unitz=3), r"unitz=3"),
    ("bidirectional-merge-mode", lambda: L.Bidirectional(L.LSTM(2), merge_mode="max"), r"merge_mode='max'"),
    ("bidirectional-not-lstm", lambda: L.Bidirectional(L.Dense(2)), r"layer must be an LSTM layer"),
    ("dense-units", lambda: L.Dense(-1), r"units must be a positive integer\. Received: units=-1"),
    ("dense-activation", lambda: L.Dense(2, activation="swishy"), r"activation='swishy'"),
    ("dropout-rate", lambda: L.Dropout(1.5), r"rate=1\.5"),
    ("embedding-input-dim", lambda: L.Embedding(0, 4), r"input_dim=0"),
    ("layer-normalization-epsilon", lambda: L.LayerNormalization(epsilon=0), r"epsilon=0"),
    ("layer-normalization-axis", lambda: L.LayerNormalization(axis=1), r"axis=1"),
    ("masking-value", lambda: L.Masking("x"), r"mask_value='x'"),
    ("input-shape", lambda: L.LSTM(2, input_shape=(0, 1)), r"input_shape=\(0, 1\)"),
    ("model-dtype", lambda: lc.Sequential(dtype="int8"), r"dtype='int8'"),
    ("set-floatx", lambda: lc.set_floatx("float16"), r"dtype='float16'"),
    ("set-seed", lambda: lc.set_seed(-1), r"seed=-1"),
    ("optimizer-name", lambda: _compiled().compile(optimizer="adamm", loss="mse"), r"optimizer='adamm'"),
    ("loss-name", lambda: _compiled().compile(optimizer="adam", loss="msee"), r"loss='msee'"),
    ("loss-missing", lambda: lc.Sequential([L.Dense(1)]).compile(optimizer="adam"), r"loss=None"),
    ("metric-name", lambda: _compiled().compile(optimizer="adam", loss="mse", metrics=["acc2"]), r"'acc2'"),
    ("learning-rate", lambda: optimizers.Adam(learning_rate=-1), r"learning_rate=-1"),
    ("beta-1", lambda: optimizers.Adam(beta_1=1.0), r"beta_1=1\.0"),
    ("clipnorm", lambda: optimizers.SGD(clipnorm=0), r"clipnorm=0"),
    ("momentum", lambda: optimizers.SGD(momentum=2), r"momentum=2"),
    ("huber-delta", lambda: losses.Huber(delta=0), r"delta=0"),
    ("from-logits", lambda: losses.BinaryCrossentropy(from_logits="yes"), r"from_logits='yes'"),
    ("auc-curve", lambda: metrics.AUC(curve="ROCK"), r"curve='ROCK'"),
    ("early-stopping-patience", lambda: cb.EarlyStopping(patience=-1), r"patience=-1"),
    ("early-stopping-mode", lambda: cb.EarlyStopping(mode="up"), r"mode='up'"),
    ("reduce-lr-factor", lambda: cb.ReduceLROnPlateau(factor=2), r"factor=2"),
    ("fit-epochs", lambda: _compiled().fit(X, Y, epochs=0, verbose=0), r"epochs=0"),
    ("fit-batch-size", lambda: _compiled().fit(X, Y, batch_size=0, verbose=0), r"batch_size=0"),
    ("fit-validation-split", lambda: _compiled().fit(X, Y, validation_split=1.0, verbose=0), r"validation_split=1\.0"),
    ("fit-verbose", lambda: _compiled().fit(X, Y, verbose=3), r"verbose=3"),
    ("fit-initial-epoch", lambda: _compiled().fit(X, Y, initial_epoch=-1, verbose=0), r"initial_epoch=-1"),
    ("fit-y-rows", lambda: _compiled().fit(X, np.zeros(3), verbose=0), r"y\.shape=\(3,\)"),
    ("fit-y-shape", lambda: _compiled().fit(X, np.zeros((4, 5)), verbose=0), r"y\.shape=\(4, 5\)"),
    ("fit-lengths-range", lambda: _compiled().fit(X, Y, lengths=[1, 2, 3, 4], verbose=0), r"lengths\[3\]=4"),
    ("fit-lengths-shape", lambda: _compiled().fit(X, Y, lengths=[1, 2], verbose=0), r"lengths\.shape=\(2,\)"),
    ("fit-sample-weight", lambda: _compiled().fit(X, Y, sample_weight=np.ones(3), verbose=0), r"sample_weight\.shape=\(3,\)"),
    ("fit-class-weight", lambda: _compiled().fit(X, Y, class_weight=[1, 2], verbose=0), r"class_weight=\[1, 2\]"),
    ("fit-validation-data", lambda: _compiled().fit(X, Y, validation_data=X, verbose=0), r"validation_data"),
    ("fit-callback", lambda: _compiled().fit(X, Y, callbacks=[print], verbose=0), r"callbacks"),
    ("predict-batch-size", lambda: _compiled().predict(X, batch_size=-2), r"batch_size=-2"),
    ("input-gradients-index", lambda: _compiled().input_gradients(X, output_index=3), r"output_index=3"),
    ("set-weights-count", lambda: _compiled().set_weights([np.zeros(1)]), r"a list of 1"),
    ("compile-unknown-option", lambda: _compiled().compile(optimizer="adam", loss="mse", foo=1), r"foo=1"),
]


@pytest.mark.parametrize("make, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_argument_message_names_argument_and_value(make, pattern):
    with pytest.raises((ValueError, TypeError)) as info:
        make()
    assert __import__("re").search(pattern, str(info.value)), str(info.value)


def test_fit_before_compile_says_what_to_do():
    model = lc.Sequential([L.Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 2)), np.zeros(2))


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="built"):
        lc.Sequential([L.Dense(1)]).save(tmp_path / "m.lstm")


def test_layer_returning_several_arrays_must_be_last():
    with pytest.raises(ValueError, match="return_state"):
        lc.Sequential([L.LSTM(2, return_state=True, input_shape=(3, 1)), L.Dense(1)])


COMPONENT_NAMES = {
    "unknown-loss": (dict(optimizer="adam", loss="nosuch"), r"loss must be a Loss or a known loss name \(Unknown loss 'nosuch'. Known: .*mse.*\). Received: loss='nosuch'"),
    "unknown-optimizer": (dict(optimizer="nosuch", loss="mse"), r"optimizer must be an Optimizer or a known optimizer name \(Unknown optimizer 'nosuch'.*\). Received: optimizer='nosuch'"),
    "unknown-metric": (dict(optimizer="adam", loss="mse", metrics=["nosuch"]), r"metrics must be a Metric or a known metric name \(Unknown metric 'nosuch'.*\). Received: metrics='nosuch'"),
    "loss-of-wrong-type": (dict(optimizer="adam", loss=3), r"loss must be a Loss or a loss name such as 'mse'. Received: loss=3"),
}


@pytest.mark.parametrize("kwargs,message", COMPONENT_NAMES.values(), ids=COMPONENT_NAMES.keys())
def test_compile_names_the_component_it_cannot_find(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _compiled().compile(**kwargs)
