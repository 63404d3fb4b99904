"""pad_sequences: lists of variable-length sequences to one array, as keras.utils.pad_sequences."""
from __future__ import annotations

import numpy as np

__all__ = ["pad_sequences"]


def _sample_shape(sequences):
    """Lengths of the sequences and the shape of one step (from the first non-empty one)."""
    lengths, sample_shape = [], None
    for position, sequence in enumerate(sequences):
        try:
            lengths.append(len(sequence))
        except TypeError:
            raise ValueError("sequences must be a list of iterables. "
                             f"Received: a non-iterable at position {position}: {sequence!r}") from None
        if sample_shape is None and len(sequence):
            sample_shape = np.asarray(sequence).shape[1:]
    return lengths, sample_shape or ()


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pad (and truncate) sequences to a (len(sequences), maxlen, ...) array, Keras's rules.

    Args:
        sequences: a list of sequences (lists or arrays; each step may itself be an array).
        maxlen: None (default: the longest) or the output length.
        dtype: of the result, default 'int32'.
        padding: 'pre' (default) or 'post': where the padding goes.
        truncating: 'pre' (default) or 'post': which end of a longer sequence is cut off.
        value: the padding value, default 0.

    Example::

        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post")
        array([[2, 3],
               [4, 0]], dtype=int32)

    lstmcore's LSTMs take the lengths instead of masking: with padding='post'
    pass `lengths=np.minimum([len(s) for s in sequences], maxlen)` to fit/predict.
    A mask (Embedding(mask_zero=True), Masking) is read as trailing lengths too, so
    padding='pre' (Keras's default) before a masked model runs the padding as data,
    where Keras skips it: lstmcore warns then; pad with padding='post'.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences must be a list of sequences. Received: {type(sequences).__name__}")
    if padding not in ("pre", "post"):
        raise ValueError(f"padding must be 'pre' or 'post'. Received: padding={padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"truncating must be 'pre' or 'post'. Received: truncating={truncating!r}")
    lengths, sample_shape = _sample_shape(sequences)
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen must be a non-negative integer or None. Received: maxlen={maxlen!r}")
    is_text = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(f"dtype {dtype!r} is not compatible with value {value!r}; use dtype=object for text")
    result = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for row, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = np.asarray(sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen], dtype=dtype)
        if kept.shape[1:] != tuple(sample_shape):
            raise ValueError(f"Every step must have shape {tuple(sample_shape)}. "
                             f"Received: sequence {row} has steps of shape {kept.shape[1:]}")
        if padding == "post":
            result[row, :len(kept)] = kept
        else:
            result[row, -len(kept):] = kept
    return result
