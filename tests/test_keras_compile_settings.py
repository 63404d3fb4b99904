"""A Keras file loads compiled as Keras saved it (its compile_config / training_config), so a script
that loads a model and evaluates or fine-tunes it runs; what lstmcore cannot follow is named."""
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lstmcore as lc
from lstmcore import losses, optimizers
from lstmcore.saving.keras_compile import compile_arguments

FIXTURES = Path(__file__).parent / "data" / "keras"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_keras_model_loads_compiled_as_saved_and_evaluates(suffix):
    model = lc.load_model(FIXTURES / f"masked{suffix}")     # compile(optimizer="adam", loss="mse")
    assert model.compiled and isinstance(model.optimizer, optimizers.Adam)
    assert isinstance(model.loss, losses.MeanSquaredError)
    assert model.optimizer.learning_rate == pytest.approx(1e-3)
    data = np.load(FIXTURES / "masked.npz")
    x = [data["x0"], data["x1"]]
    target = np.zeros_like(data["y0"])
    expected = np.mean((model.predict(x, verbose=0) - target) ** 2)
    assert model.evaluate(x, target, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert not lc.load_model(FIXTURES / f"masked{suffix}", compile=False).compiled


def test_settings_lstmcore_lacks_leave_the_model_uncompiled_and_say_why(tmp_path):
    with zipfile.ZipFile(FIXTURES / "masked.keras") as archive:
        config, weights = json.loads(archive.read("config.json")), archive.read("model.weights.h5")
    config["compile_config"]["optimizer"]["config"]["learning_rate"] = {
        "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay", "config": {}}
    with zipfile.ZipFile(tmp_path / "scheduled.keras", "w") as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", weights)
    with pytest.warns(UserWarning, match=r"scheduled\.keras: its compile settings were not restored "
                                         r"\(.*learning-rate schedule \(ExponentialDecay\)\).*call compile\(\)"):
        model = lc.load_model(tmp_path / "scheduled.keras")
    assert not model.compiled


def test_keras_serialized_optimizers_losses_and_metrics_translate():
    arguments = compile_arguments({
        "optimizer": {"class_name": "RMSprop", "config": {"name": "rmsprop", "learning_rate": 0.01, "rho": 0.8,
                                                          "momentum": 0.1, "centered": True, "use_ema": False,
                                                          "weight_decay": None}},
        "loss": {"module": "keras.losses", "class_name": "BinaryCrossentropy",
                 "config": {"name": "binary_crossentropy", "reduction": "sum_over_batch_size", "from_logits": True,
                            "label_smoothing": 0.1, "axis": -1}},
        "metrics": ["accuracy", {"class_name": "AUC", "config": {"name": "auc"}}], "loss_weights": None})
    optimizer, loss = arguments["optimizer"], arguments["loss"]
    assert isinstance(optimizer, optimizers.RMSprop) and optimizer.learning_rate == 0.01
    assert (optimizer.rho, optimizer.momentum, optimizer.centered) == (0.8, 0.1, True)
    assert isinstance(loss, losses.BinaryCrossentropy) and loss.from_logits and loss.label_smoothing == 0.1
    assert arguments["metrics"] == ["accuracy", "auc"] and "loss_weights" not in arguments
    per_output = compile_arguments({"optimizer": "sgd", "loss": {"score": "mse", "kind": {
        "class_name": "function", "config": "sparse_categorical_crossentropy"}}, "loss_weights": {"score": 0.5}})
    assert isinstance(per_output["loss"]["kind"], losses.SparseCategoricalCrossentropy)
    assert per_output["loss_weights"] == {"score": 0.5}


@pytest.mark.parametrize("config, message", [
    ({"optimizer": {"class_name": "Adam", "config": {"use_ema": True}}, "loss": "mse"}, r"moving average"),
    ({"optimizer": "adam", "loss": {"class_name": "SparseCategoricalCrossentropy",
                                    "config": {"ignore_class": 0}}}, r"ignore_class=0"),
    ({"optimizer": "adagrad", "loss": "mse"}, r"optimizer 'adagrad' has no lstmcore equivalent"),
    ({"optimizer": "adam", "loss": {"class_name": "MyLoss", "config": {}}}, r"loss 'my_loss'"),
])
def test_what_would_compute_otherwise_is_refused_by_name(config, message):
    with pytest.raises(ValueError, match=message):
        compile_arguments(config)
