"""Training, apart from the model: `Trainer` (compile, fit, evaluate, predict, the training step and its
gradient seam) and the progress bar as a callback."""
from .progress import ProgressBar
from .trainer import Trainer

__all__ = ["Trainer", "ProgressBar"]
