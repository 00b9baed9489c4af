"""Training to convergence across restarts: early stopping's memory kept beside the run's backup.

On this CPU a `--converge` run can outlast a working session. `BackupAndRestore` brings back the
weights, the optimizer (learning rate included) and the epoch, but early stopping and the
plateau schedule start afresh: their counters at zero, no best loss, and the best epoch's
weights, held only in memory, gone. A resumed run would then keep its last weights rather than
its best, and wait `patience` more epochs from wherever it restarted. `StoppingState` writes
those counters and the best weights at every epoch's end and puts them back when the same
command starts again; a run that ends normally removes them, as the backup is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

# The attributes of each callback that carry from one epoch to the next (keras 3's names)
MEMORY = {keras.callbacks.EarlyStopping: ("wait", "best", "best_epoch"),
          keras.callbacks.ReduceLROnPlateau: ("wait", "best", "cooldown_counter")}


def _plain(value):
    """A counter or loss as JSON takes it (the best loss is a NumPy or Python float, or None)."""
    return None if value is None else value.item() if hasattr(value, "item") else value


class StoppingState(keras.callbacks.Callback):
    """Saves and restores the memory of the callbacks listed before it in `fit`'s list."""

    def __init__(self, folder: Path, callbacks: list[keras.callbacks.Callback]):
        super().__init__()
        self.callbacks = callbacks
        self.state, self.weights = folder / "stopping.json", folder / "stopping_best.npz"

    def on_train_begin(self, logs=None):
        if not self.state.is_file():
            return
        for callback, values in zip(self.callbacks, json.loads(self.state.read_text())):
            for name, value in values.items():
                setattr(callback, name, value)
        if self.weights.is_file():
            with np.load(self.weights) as arrays:
                weights = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
            for callback in self.callbacks:
                if isinstance(callback, keras.callbacks.EarlyStopping):
                    callback.best_weights = weights

    def on_epoch_end(self, epoch, logs=None):
        for callback in self.callbacks:
            if isinstance(callback, keras.callbacks.EarlyStopping) and callback.best_epoch == epoch \
                    and callback.best_weights is not None:
                np.savez(self.weights, *callback.best_weights)
        self.state.write_text(json.dumps([{name: _plain(getattr(callback, name)) for name in MEMORY[type(callback)]}
                                          for callback in self.callbacks]))

    def on_train_end(self, logs=None):
        self.state.unlink(missing_ok=True)
        self.weights.unlink(missing_ok=True)
