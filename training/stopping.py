"""Training to convergence across restarts: early stopping's memory kept with the run's backup.

On this CPU a `--converge` run can outlast a working session. `BackupAndRestore` brings back the
weights, the optimizer (learning rate included) and the epoch, but early stopping and the
plateau schedule start afresh: their counters at zero, no best loss, and the best epoch's
weights, held only in memory, gone. A resumed run would then keep its last weights rather than
its best, and wait `patience` more epochs from wherever it restarted. `StoppingState` writes
those counters and the best weights into the backup folder at every epoch's end and puts them
back when the same command starts again. They live and die with the backup: a finished run
(whose backup Keras deletes) or a deleted backup leaves nothing for the next run to inherit.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import keras
import numpy as np

from denoiser.files import write_whole


def improves(value: float, best: float | None, min_delta: float) -> bool:
    """Whether a loss beats the best so far by `min_delta` of it: the one rule of early stopping, the
    plateau schedule and training.curves' kept epoch."""
    return best is None or float(value) < float(best) * (1 - abs(min_delta))


class RelativeDelta:
    """For Keras's callbacks that watch a loss: an epoch improves on the best only when it lowers it by
    `min_delta` *of it*. Keras's own `min_delta` is absolute, and the study's models train on losses of
    different scales (mean squared error near 0.009, cross-entropy 0.073 to 0.077 on MNIST), which no one
    absolute threshold suits. With none, gains in the fifth decimal at ever smaller rates went past 42 epochs."""

    def _is_improvement(self, monitor_value, reference_value) -> bool:  # MonitorCallback's test, made relative
        return improves(monitor_value, reference_value, self.min_delta)  # Keras turns min_delta negative here


class EarlyStopping(RelativeDelta, keras.callbacks.EarlyStopping):
    pass


class ReduceLROnPlateau(RelativeDelta, keras.callbacks.ReduceLROnPlateau):
    pass


# The attributes of each callback that carry from one epoch to the next (keras 3's names)
MEMORY = {EarlyStopping: ("wait", "best", "best_epoch"), ReduceLROnPlateau: ("wait", "best", "cooldown_counter")}


def _plain(value):
    """A counter or loss as JSON takes it (the best loss is a NumPy or Python float, or None)."""
    return None if value is None else value.item() if hasattr(value, "item") else value


def _save_arrays(path: Path, arrays: list[np.ndarray]) -> None:
    with open(path, "wb") as file:  # a file object: np.savez would add ".npz" to the temporary name
        np.savez(file, *arrays)


class StoppingState(keras.callbacks.Callback):
    """Saves and restores the memory of the callbacks listed before it in `fit`'s list."""

    def __init__(self, folder: Path, callbacks: list[keras.callbacks.Callback]):
        super().__init__()
        self.folder, self.callbacks = folder, callbacks
        self.state, self.weights = folder / "stopping.json", folder / "stopping_best.npz"
        self.early = [c for c in callbacks if isinstance(c, EarlyStopping)]

    def on_train_begin(self, logs=None):
        if not self.state.is_file():
            return
        try:
            saved = json.loads(self.state.read_text())
            weights = None
            if self.weights.is_file():
                with np.load(self.weights) as arrays:
                    weights = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
        except (OSError, ValueError) as error:  # a damaged file: better a fresh count than a wrong one
            warnings.warn(f"{self.folder}: early stopping's saved state is unreadable ({error}); it starts afresh.")
            return
        if weights is None and any(callback.restore_best_weights for callback in self.early):
            warnings.warn(f"{self.folder}: the best epoch's weights are missing; early stopping starts afresh.")
            return
        for callback, values in zip(self.callbacks, saved):
            for name, value in values.items():
                setattr(callback, name, value)
        for callback in self.early:
            callback.best_weights = weights

    def on_epoch_end(self, epoch, logs=None):
        self.folder.mkdir(parents=True, exist_ok=True)
        for callback in self.early:
            if callback.best_epoch == epoch and callback.best_weights is not None:
                write_whole(self.weights, lambda path, best=callback.best_weights: _save_arrays(path, best))
        memory = [{name: _plain(getattr(c, name)) for name in MEMORY[type(c)]} for c in self.callbacks]
        write_whole(self.state, lambda path: path.write_text(json.dumps(memory)))

    def on_train_end(self, logs=None):
        self.state.unlink(missing_ok=True)
        self.weights.unlink(missing_ok=True)
