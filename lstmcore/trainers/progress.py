"""fit's progress as a callback: a tqdm bar per epoch (verbose=1) or one line per epoch (verbose=2)."""
from __future__ import annotations

import sys

from tqdm.auto import tqdm

from ..callbacks import Callback
from ..progress_bars import progress_bar

__all__ = ["ProgressBar", "format_logs"]


def format_logs(logs) -> str:
    return " - ".join(f"{key}: {value:.4g}" for key, value in logs.items())


class ProgressBar(Callback):
    """On stderr: with verbose=1 a bar over each epoch's batches, the running loss beside it and the
    epoch's logs at its end; with verbose=2 one line per epoch."""

    reads_batch_metrics = False   # the bar shows the running loss only; fit need not compute metrics per batch

    def __init__(self, verbose: int = 1):
        super().__init__()
        self.verbose = verbose
        self._bar = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self.verbose == 1:
            self._bar = progress_bar(total=self.params.get("steps"), desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                             unit="batch", file=sys.stderr, leave=True, dynamic_ncols=True, mininterval=0.25)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        self._bar.update(1)
        if batch % 8 == 0 or batch + 1 == self.params.get("steps"):
            self._bar.set_postfix(loss=f"{(logs or {}).get('loss', float('nan')):.4g}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=True)
            self.close()
        elif self.verbose == 2:
            tqdm.write(f"Epoch {epoch + 1}/{self.params.get('epochs')}: {format_logs(logs or {})}", file=sys.stderr)

    def close(self):
        """End the bar (fit calls it even when an epoch ends by an exception)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
