"""Every epoch's scores in TensorBoard event files, written without TensorFlow.

The layout Keras's TensorBoard callback writes (`logs/train` and `logs/validation`, tags
`epoch_<name>`, step = the epoch from 0), so `tensorboard --logdir runs` and
`training.curves` read the runs of either alike. Keras's callback needs TensorFlow; this
one needs only the tensorboard package, so a run on a GPU machine without TensorFlow logs too.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter

LOGS = "logs"  # in a run's folder, a folder per split:
TRAIN, VALIDATION = "train", "validation"
VALIDATION_PREFIX = "val_"  # Keras's prefix for the scores on the validation data
RATE = "learning_rate"


class EpochScalars(keras.callbacks.Callback):
    """Writes each epoch's logs, the training scores under TRAIN and the validation ones under VALIDATION."""

    def __init__(self, logdir: Path):
        super().__init__()
        self.logdir = logdir
        self.writers: dict[str, EventFileWriter] = {}

    def write(self, split: str, epoch: int, values: dict) -> None:
        if split not in self.writers:
            self.writers[split] = EventFileWriter(str(self.logdir / split))
        summary = Summary(value=[Summary.Value(tag=f"epoch_{name}", simple_value=float(value))
                                 for name, value in values.items()])
        self.writers[split].add_event(Event(wall_time=time.time(), step=epoch, summary=summary))
        self.writers[split].flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if RATE not in logs:  # a decaying schedule's rate at the epoch's end, as Keras's callback logs it
            logs[RATE] = keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)
        splits: dict[str, dict] = {TRAIN: {}, VALIDATION: {}}
        for name, value in logs.items():
            if name.startswith(VALIDATION_PREFIX):
                splits[VALIDATION][name.removeprefix(VALIDATION_PREFIX)] = value
            else:
                splits[TRAIN][name] = value
        for split, values in splits.items():
            if values:
                self.write(split, epoch, values)

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()
