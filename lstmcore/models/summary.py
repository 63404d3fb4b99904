"""`model.summary()`: the table of layers, output shapes and parameter counts, as Keras prints it."""
from __future__ import annotations

__all__ = ["print_summary"]


def print_summary(model, rows, print_fn, connected=False):
    """Print `rows` ((name (type), output shape, parameters[, connected to]) per layer) and the totals."""
    headers = ("Layer (type)", "Output Shape", "Param #") + (("Connected to",) if connected else ())
    columns = len(headers)
    widths = [max([len(headers[i])] + [len(row[i]) for row in rows]) + 2 for i in range(columns)]
    line = "─" * sum(widths)
    print_fn(f'Model: "{model.name}"')
    print_fn(line)
    print_fn("".join(h.ljust(w) for h, w in zip(headers, widths)))
    print_fn("═" * sum(widths))
    for row in rows:
        print_fn("".join(cell.ljust(width) for cell, width in zip(row, widths)))
    print_fn(line)
    total = model.count_params() if model.built else 0
    trainable = sum(w.size for w in model.trainable_weights) if model.built else 0
    print_fn(f" Total params: {total:,}")
    print_fn(f" Trainable params: {trainable:,}")
    print_fn(f" Non-trainable params: {total - trainable:,}")
