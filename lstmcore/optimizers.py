"""Optimizers (SGD, Adam, AdamW, RMSprop), gradient clipping and learning-rate schedules.

Update rules and defaults are Keras 3's.  A model hands its optimizer all
trainable weights as one flat buffer (each weight is a view into it), so an
update step is a handful of vectorised NumPy operations whatever the number
of layers (Adam's, the default, is one native pass:
lstmcore/_native/optimizer_steps.pxi); `segments` (the size of each weight)
keeps per-weight operations such as `clipnorm` exact.  `apply_gradients([(grad, var), ...])` works on any
arrays too, as in Keras.

Clipping, applied in this order: `clipvalue` (each element to [-v, v]),
`clipnorm` (each weight's gradient to norm <= c), `global_clipnorm` (all
gradients together to norm <= c).
"""
from __future__ import annotations

import math
import sys
import types
import warnings

import numpy as np

from . import registry
from ._native import dispatch

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "LearningRateSchedule",
           "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay", "CosineDecay",
           "get", "serialize", "deserialize", "BUILTIN_OPTIMIZERS", "schedules"]


def _positive(name, value, allow_none=False, allow_zero=False):
    if value is None and allow_none:
        return None
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.floating)) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ValueError(f"{name} must be {kind} number{' or None' if allow_none else ''}. "
                         f"Received: {name}={value!r}")
    return float(value)


def _fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1). Received: {name}={value!r}")
    return float(value)


# ----- learning-rate schedules -------------------------------------------------------
class LearningRateSchedule:
    """A learning rate as a function of the optimizer's step count."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps), floored with staircase=True."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        self.initial_learning_rate = _positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.decay_rate = _positive("decay_rate", decay_rate)
        self.staircase = bool(staircase)

    def __call__(self, step):
        exponent = step / self.decay_steps
        if self.staircase:
            exponent = math.floor(exponent)
        return self.initial_learning_rate * self.decay_rate ** exponent

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase}


class InverseTimeDecay(ExponentialDecay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps)."""

    def __call__(self, step):
        ratio = step / self.decay_steps
        if self.staircase:
            ratio = math.floor(ratio)
        return self.initial_learning_rate / (1.0 + self.decay_rate * ratio)


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i] (and values[-1] after the last boundary)."""

    def __init__(self, boundaries, values):
        if len(values) != len(boundaries) + 1:
            raise ValueError("values must have one more entry than boundaries. "
                             f"Received: {len(boundaries)} boundaries and {len(values)} values")
        self.boundaries, self.values = list(boundaries), [float(v) for v in values]

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values}


class CosineDecay(LearningRateSchedule):
    """Cosine from initial_learning_rate down to alpha * initial over decay_steps."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        self.initial_learning_rate = _positive("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive("decay_steps", decay_steps)
        self.alpha = _positive("alpha", alpha, allow_zero=True)

    def __call__(self, step):
        progress = min(step, self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha}


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay,
                                             PiecewiseConstantDecay, CosineDecay)}


_NATIVE_DTYPES = (np.float32, np.float64)


def _one_pass_ok(variable, *others):
    """Whether the native one-pass update applies: float32/float64 arrays of one dtype and
    size, all C-contiguous (a model's flat parameter buffer and its slots always are)."""
    if not isinstance(variable, np.ndarray) or variable.dtype not in _NATIVE_DTYPES \
            or not variable.flags.c_contiguous:
        return False
    return all(isinstance(a, np.ndarray) and a.dtype == variable.dtype and a.size == variable.size
               and a.flags.c_contiguous for a in others)


# ----- optimizers ------------------------------------------------------------------------
def _keras2_learning_rate(class_name, learning_rate, arguments):
    """The learning rate, with Keras 2's `lr=` and `decay=` accepted (DeprecationWarning).

    Keras 2's decay divides the rate by (1 + decay * iterations): InverseTimeDecay(lr, 1, decay).
    """
    for key in arguments:
        if key not in ("lr", "decay"):
            raise TypeError(f"{class_name}.__init__() got an unexpected keyword argument {key!r}")
    if "lr" in arguments:
        warnings.warn(f"{class_name}(lr=...) is Keras 2's spelling; use learning_rate=...",
                      DeprecationWarning, stacklevel=4)
        learning_rate = arguments["lr"]
    decay = arguments.get("decay")
    if decay:  # None or 0 (Keras 2's default) change nothing
        warnings.warn(f"{class_name}(decay=...) is Keras 2's; use learning_rate=InverseTimeDecay(lr, 1, decay)",
                      DeprecationWarning, stacklevel=4)
        if isinstance(learning_rate, LearningRateSchedule):
            raise ValueError("decay cannot be combined with a learning-rate schedule. "
                             f"Received: decay={decay!r}, learning_rate={learning_rate!r}")
        learning_rate = InverseTimeDecay(learning_rate, 1, decay)
    return learning_rate


class Optimizer:
    """Base class: clipping, the learning rate (a float or a schedule) and per-variable slots.

    Args:
        learning_rate: a positive float or a LearningRateSchedule.
        clipnorm, clipvalue, global_clipnorm: positive floats or None (default).
        weight_decay: decoupled weight decay (var -= lr * wd * var) or None.
        name: a label.
    """

    slot_names = ()

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, **keras2_arguments):
        self.learning_rate = _keras2_learning_rate(type(self).__name__, learning_rate, keras2_arguments)
        self.clipnorm = _positive("clipnorm", clipnorm, allow_none=True)
        self.clipvalue = _positive("clipvalue", clipvalue, allow_none=True)
        self.global_clipnorm = _positive("global_clipnorm", global_clipnorm, allow_none=True)
        if self.clipnorm is not None and self.global_clipnorm is not None:
            raise ValueError("clipnorm and global_clipnorm cannot both be set. "
                             f"Received: clipnorm={clipnorm!r}, global_clipnorm={global_clipnorm!r}")
        self.weight_decay = _positive("weight_decay", weight_decay, allow_none=True, allow_zero=True)
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots = {}

    # learning rate -------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The current learning rate (a float, evaluated from the schedule if there is one)."""
        if isinstance(self._learning_rate, LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
        else:
            self._learning_rate = _positive("learning_rate", value)

    lr = learning_rate

    # slots -----------------------------------------------------------------------------
    def _slots_for(self, key, variable):
        slots = self._slots.get(key)
        if slots is None or slots["_shape"] != variable.shape or slots["_dtype"] != variable.dtype:
            slots = {name: np.zeros_like(variable) for name in self.slot_names}
            slots["_work"] = np.empty_like(variable)
            slots["_shape"], slots["_dtype"] = variable.shape, variable.dtype
            self._slots[key] = slots
        return slots

    # clipping ---------------------------------------------------------------------------
    def _clip(self, grads, segments):
        if self.clipvalue is not None:
            for grad in grads:
                np.clip(grad, -self.clipvalue, self.clipvalue, out=grad)
        if self.clipnorm is not None:
            for grad, sizes in zip(grads, segments):
                self._clip_segments(grad, sizes)
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))
            if norm > self.global_clipnorm:
                scale = self.global_clipnorm / norm
                for grad in grads:
                    grad *= scale

    def _clip_segments(self, grad, sizes):
        flat = grad.reshape(-1)
        if sizes is None or len(sizes) <= 1:
            norm = float(np.sqrt(np.dot(flat, flat)))
            if norm > self.clipnorm:
                flat *= self.clipnorm / norm
            return
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        norms = np.sqrt(np.add.reduceat(flat * flat, starts))
        scale = np.minimum(1.0, self.clipnorm / np.maximum(norms, 1e-30)).astype(flat.dtype)
        flat *= np.repeat(scale, sizes)

    # applying -------------------------------------------------------------------------------
    def apply(self, variables, grads, segments=None, keys=None):
        """Update `variables` in place from `grads` (lists of arrays; grads may be clipped in place).

        segments: for each variable, the sizes of the weights it packs (for clipnorm).
        keys: stable slot keys for the variables (default: their position).
        """
        segments = segments or [None] * len(variables)
        keys = keys or list(range(len(variables)))
        self._clip(grads, segments)
        lr = self.learning_rate  # a schedule's rate at the step count before this step, as Keras
        self.iterations += 1
        for key, variable, grad in zip(keys, variables, grads):
            slots = self._slots_for(key, variable)
            if self.weight_decay:
                variable -= (lr * self.weight_decay) * variable
            self._update(variable, grad, lr, slots)

    def apply_gradients(self, grads_and_vars):
        """Keras's form: a list of (gradient, variable) pairs; variables are updated in place."""
        pairs = list(grads_and_vars)
        grads = [np.array(g, dtype=v.dtype) for g, v in pairs]
        variables = [v for _, v in pairs]
        self.apply(variables, grads, keys=[("var", id(v)) for v in variables])

    def _update(self, variable, grad, lr, slots):
        raise NotImplementedError

    # state and config ----------------------------------------------------------------------
    def get_state(self):
        """Slot arrays and the step count, for saving with a model."""
        state = {"iterations": np.array([self.iterations], np.int64)}
        for key, slots in self._slots.items():
            for name in self.slot_names:
                state[f"{key}.{name}"] = slots[name]
        return state

    def set_state(self, state, variables_by_key):
        """Restore what `get_state` returned; `variables_by_key` gives each slot's variable."""
        self.iterations = int(state["iterations"][0])
        for key, variable in variables_by_key.items():
            slots = self._slots_for(key, variable)
            for name in self.slot_names:
                value = state.get(f"{key}.{name}")
                if value is not None and value.shape == variable.shape:
                    np.copyto(slots[name], value, casting="unsafe")

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {"learning_rate": lr, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm, "weight_decay": self.weight_decay,
                "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = _SCHEDULES[lr["class_name"]].from_config(lr["config"])
        return cls(**config)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as Keras 3.

    m = momentum * m - lr * g;  var += m   (nesterov: var += momentum * m - lr * g)
    Defaults: learning_rate=0.01, momentum=0.0, nesterov=False.
    """

    slot_names = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _fraction("momentum", momentum)
        self.nesterov = bool(nesterov)
        if not self.momentum:
            self.slot_names = ()

    def _update(self, variable, grad, lr, slots):
        if not self.momentum:
            grad *= lr
            variable -= grad
            return
        m = slots["momentum"]
        m *= self.momentum
        grad *= lr
        m -= grad
        if self.nesterov:
            work = slots["_work"]
            np.multiply(m, self.momentum, out=work)
            work -= grad
            variable += work
        else:
            variable += m

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config


class Adam(Optimizer):
    """Adam (Kingma & Ba), Keras 3's update; defaults lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7.

    m += (1 - beta_1) (g - m);  v += (1 - beta_2) (g**2 - v)
    var -= lr sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon)
    """

    slot_names = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1 = _fraction("beta_1", beta_1)
        self.beta_2 = _fraction("beta_2", beta_2)
        self.epsilon = _positive("epsilon", epsilon)
        self.amsgrad = bool(amsgrad)
        if self.amsgrad:
            self.slot_names = ("m", "v", "v_hat")

    def _update(self, variable, grad, lr, slots):
        t = self.iterations
        alpha = lr * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        m, v, work = slots["m"], slots["v"], slots["_work"]
        if not self.amsgrad and _one_pass_ok(variable, grad, m, v):
            dispatch.active().adam(variable, grad, m, v, alpha, self.beta_1, self.beta_2, self.epsilon)
            return
        np.subtract(grad, m, out=work)
        work *= 1.0 - self.beta_1
        m += work
        np.multiply(grad, grad, out=work)
        work -= v
        work *= 1.0 - self.beta_2
        v += work
        if self.amsgrad:
            np.maximum(slots["v_hat"], v, out=slots["v_hat"])
            v = slots["v_hat"]
        np.sqrt(v, out=work)
        work += self.epsilon
        np.divide(m, work, out=work)
        work *= alpha
        variable -= work

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon, amsgrad=self.amsgrad)
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (default weight_decay=0.004, Keras 3's)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop, Keras 3's update; defaults lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False.

    v = rho v + (1 - rho) g**2;  var -= lr g / sqrt(v [- mg**2 if centered] + epsilon)
    (epsilon inside the square root, as Keras 3 has it: outside, the first steps of small
    gradients moved the weights differently, by 0.008 after four steps of a small LSTM).
    """

    slot_names = ("velocity", "average_gradient", "momentum")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _fraction("rho", rho)
        self.momentum = _fraction("momentum", momentum)
        self.epsilon = _positive("epsilon", epsilon)
        self.centered = bool(centered)

    def _update(self, variable, grad, lr, slots):
        v, work = slots["velocity"], slots["_work"]
        v *= self.rho
        np.multiply(grad, grad, out=work)
        work *= 1.0 - self.rho
        v += work
        if self.centered:
            mg = slots["average_gradient"]
            mg *= self.rho
            mg += (1.0 - self.rho) * grad
            np.multiply(mg, mg, out=work)
            np.subtract(v, work, out=work)
            work += self.epsilon
        else:
            np.add(v, self.epsilon, out=work)
        np.sqrt(work, out=work)
        np.divide(grad, work, out=work)
        work *= lr
        if self.momentum:
            m = slots["momentum"]
            m *= self.momentum
            m += work
            variable -= m
        else:
            variable -= work

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon, centered=self.centered)
        return config


BUILTIN_OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}

# Keras's spelling, keras.optimizers.schedules.ExponentialDecay (attribute or import): the same classes.
schedules = types.ModuleType(f"{__name__}.schedules", "Learning-rate schedules, as keras.optimizers.schedules.")
for _schedule in (LearningRateSchedule, ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, CosineDecay):
    setattr(schedules, _schedule.__name__, _schedule)
sys.modules[schedules.__name__] = schedules


def get(identifier, argument="optimizer"):
    """An Optimizer from an instance, a class, or a name registered in `registry.optimizers`."""
    return registry.resolve(registry.optimizers, identifier, Optimizer, argument, "adam")


def serialize(optimizer):
    name = getattr(optimizer, "registered_name", None) or type(optimizer).__name__.lower()
    return {"name": name, "config": optimizer.get_config()}


def deserialize(spec):
    cls = registry.optimizers.get(spec["name"])
    optimizer = cls.from_config(spec.get("config", {}))
    optimizer.registered_name = spec["name"]
    return optimizer
