"""A small classifier per dataset: a judge of whether generated images look like the data.

    python -m training.classifier --dataset mnist

Two conv/max-pool stages, dropout and a softmax (keras.io's "Simple MNIST convnet"), trained
on the clean training images with the study's stopping rule (train.CONVERGE: a held-out tenth,
early stopping on its loss, best weights kept). Saved as `weights/<dataset>/classifier.keras`;
its command, epochs and test accuracy go to `weights/classifiers.json` (not the manifest, which
lists denoisers). `training.midpoints` uses it, and so can any measure of realism.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers

from denoiser.config import settings
from denoiser.datasets import DATASETS, Dataset, load_dataset

from .train import CONVERGE, split

FILE = "classifier.keras"
RECORDS = "classifiers.json"


def build(shape: tuple, classes: int) -> keras.Model:
    inputs = keras.Input(shape)
    x = inputs
    for filters in (32, 64):
        x = layers.Conv2D(filters, 3, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.5)(layers.Flatten()(x))
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x), name="classifier")


def path(dataset: str, weights_dir: Path | None = None) -> Path:
    return (weights_dir or settings().weights_dir) / dataset / FILE


def require(dataset: str, weights_dir: Path | None = None) -> Path:
    """The dataset's classifier file, or an error that says how to train it."""
    file = path(dataset, weights_dir)
    if not file.is_file():
        raise FileNotFoundError(f"No classifier for {dataset} at {file}; train it with "
                                f"python -m training.classifier --dataset {dataset}")
    return file


def load(dataset: str, weights_dir: Path | None = None) -> keras.Model:
    """The dataset's trained classifier, or an error that says how to train it."""
    return keras.models.load_model(require(dataset, weights_dir), compile=False)


def labels(values: np.ndarray) -> np.ndarray:
    return np.ravel(values).astype(np.int64)


def train_classifier(data: Dataset, weights_dir: Path, command: str, epochs: int, patience: int,
                     train_images: int | None = None, seed: int = 0) -> dict:
    """Train, save `<weights_dir>/<dataset>/classifier.keras`, record it in classifiers.json; return the record."""
    keras.utils.set_random_seed(seed)
    spec = data.spec
    images = data.x_train[:train_images].reshape(-1, *spec.shape).astype(np.float32) / 255.0
    targets = labels(data.y_train[:train_images])
    (x_fit, x_val), (y_fit, y_val) = split(images, CONVERGE["val_fraction"]), split(targets, CONVERGE["val_fraction"])
    model = build(spec.shape, len(spec.class_names))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stopping = keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    history = model.fit(x_fit, y_fit, batch_size=CONVERGE["batch_size"], epochs=epochs, validation_data=(x_val, y_val),
                        callbacks=[stopping], verbose=2)
    file = path(spec.name, weights_dir)
    file.parent.mkdir(parents=True, exist_ok=True)
    model.save(file)
    _, accuracy = model.evaluate(data.test_images(), labels(data.y_test), verbose=0)
    record = {"dataset": spec.name, "file": f"{spec.name}/{FILE}", "command": command,
              "epochs": len(history.history["loss"]), "best_epoch": stopping.best_epoch + 1,
              "params": int(model.count_params()), "test_accuracy": round(float(accuracy), 4)}
    records_file = weights_dir / RECORDS
    records = json.loads(records_file.read_text()) if records_file.is_file() else {}
    records[spec.name] = record
    records_file.write_text(json.dumps(dict(sorted(records.items())), indent=1) + "\n")
    return record


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", required=True, choices=[n for n, s in DATASETS.items() if s.class_names])
    parser.add_argument("--epochs", type=int, default=CONVERGE["epochs"], help="cap on epochs")
    parser.add_argument("--patience", type=int, default=CONVERGE["patience"])
    parser.add_argument("--train-images", type=int, help="train on the first N training images only")
    parser.add_argument("--weights-dir", help="default: $DENOISER_WEIGHTS_DIR or weights/")
    parser.add_argument("--once", action="store_true", help="do nothing where the dataset's classifier is trained "
                        "(a judge changed midway would change every score it gave)")
    args = parser.parse_args(argv)
    weights_dir = Path(args.weights_dir or os.path.relpath(settings().weights_dir))
    if args.once and path(args.dataset, weights_dir).is_file():
        print(f"{path(args.dataset, weights_dir)} is trained; nothing to do.")
        return
    record = train_classifier(load_dataset(args.dataset), weights_dir, "python -m training.classifier " +
                              shlex.join(argv), args.epochs, args.patience, args.train_images)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
