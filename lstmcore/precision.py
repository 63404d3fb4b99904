"""Inference precision: the opt-in bfloat16 products of the LSTM layers, per thread.

Training, and inference by default, run in the weights' dtype (float32).
Inside ``with lstmcore.inference_precision("bfloat16"):`` (or
``model.predict(x, precision="bfloat16")``) the LSTM layers of a float32
model multiply h by the recurrent kernel (and, for inputs wider than 16
features, x by the input kernel) with both rounded to bfloat16 and float32
sums (``lstmcore.ops.lstm_forward(precision=...)``): half the bytes of
weights to stream, which is what batch 1 is bound by, and AVX512-BF16
instructions where the CPU has them.  Outputs move by about 1e-3; the
figures are in docs/precision.md.

The setting is a context variable, so each thread (and each asyncio task)
has its own: one thread predicting in bfloat16 does not change another's
float32 predictions.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

__all__ = ["PRECISIONS", "inference_precision", "get_inference_precision"]

PRECISIONS = ("float32", "bfloat16")

_PRECISION: contextvars.ContextVar[str] = contextvars.ContextVar("lstmcore_inference_precision",
                                                                  default="float32")


def get_inference_precision() -> str:
    """The precision of LSTM inference in this thread: "float32" unless set by `inference_precision`."""
    return _PRECISION.get()


def check_precision(precision) -> None:
    """Raise ValueError unless `precision` is one of PRECISIONS."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}; "
                         f"received {precision!r}")


@contextlib.contextmanager
def inference_precision(precision: str) -> Iterator[str]:
    """Run the LSTM layers' inference inside the block at `precision` ("float32" or "bfloat16")."""
    check_precision(precision)
    token = _PRECISION.set(precision)
    try:
        yield precision
    finally:
        _PRECISION.reset(token)
