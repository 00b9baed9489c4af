"""Train one registry model on one dataset and commit its weights with a manifest entry.

    python -m training.train --dataset mnist --model res_unet --epochs 10
    python -m training.train --dataset mnist --model cnn_dense --epochs 100 --val-fraction 0.1 --patience 5

Batches stream from NumPy with fresh noise each epoch (training/data.py); progress shows in
Keras's bar and in TensorBoard (`tensorboard --logdir runs`); every epoch is backed up under
`runs/`, so running the same command again resumes an interrupted run.

The training itself runs on any Keras backend: `KERAS_BACKEND=jax ... --train-only` trains on
a GPU machine that has no TensorFlow and stops with the trained weights in the run's folder;
the same command run again here (TensorFlow, which the evaluation's noise needs) scores them
and writes the weights file and its manifest entry (README, Training on a GPU).

With `--patience`, the last `--val-fraction` of the training images is held out (with
noise drawn once, so every epoch is scored on the same inputs), training runs at a
constant rate halved on plateaus until the validation loss has not improved for that
many epochs (`--epochs` is then the cap; better means lower by `--min-delta` of the best
loss), and the best epoch's weights are kept. A run
resumed in a later session keeps that count and the best weights (training/stopping.py), so it
stops where one uninterrupted run would. With `--once`, a run whose weights the manifest already
records with the same settings does nothing: a script of long runs (training/study.sh) can be
started again in every session and goes on where it stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras
import numpy as np

from denoiser import models
from denoiser.config import settings
from denoiser.datasets import DATASETS, Dataset, DatasetError, load_dataset
from denoiser.files import InUse, locked, write_whole
from denoiser.metrics import batch_psnr
from denoiser.models.latent_vae import VAE
from denoiser.noise import GAUSSIAN, HAS_TENSORFLOW, NOISES
from denoiser.weights import WeightsEntry, WeightsError, find_entry, read_manifest, write_entry

from . import gan, latent_gan
from .data import (
    ImageBatches,
    NoisyBatches,
    PatchBatches,
    epoch_callback,
    noise_choices,
    noisy_pairs,
    trainable_dataset,
)
from .events import LOGS, EpochScalars
from .scoring import gaussian_metrics
from .stopping import EarlyStopping, ReduceLROnPlateau, StoppingState


def psnr_loss(clean, denoised):
    """Minus the mean per-image PSNR (dB), the very number the evaluation reports.

    Under plain MSE a batch's loss is dominated by its noisiest images (at sigma 0.5 the
    error is ten times that at sigma 0.1), so the low-noise end is left under-trained;
    the log makes every image count the same (capped at 50 dB: metrics.batch_psnr).
    """
    return -batch_psnr(clean, denoised)


def psnr(clean, denoised):
    """The mean per-image PSNR: logged every epoch, for training and validation."""
    return batch_psnr(clean, denoised)


LOSSES = {"mse": "mse", "mae": "mae", "binary_crossentropy": "binary_crossentropy", "psnr": psnr_loss}


@dataclass
class TrainConfig:
    dataset: str
    model: str
    epochs: int = 10
    batch_size: int = 64
    noise: str = GAUSSIAN
    level_min: float | None = None
    level_max: float | None = None
    learning_rate: float = 1e-3
    loss: str | None = None  # None: the model's own (registry) loss
    seed: int = 0
    steps_per_epoch: int | None = None
    train_images: int | None = None
    augment: bool = False
    patch_size: int = 96  # side of the random patches that datasets of any image size train on
    strategy: str = "none"
    init_from: str | None = None
    eval_images: int = 200
    runs_dir: str = "runs"
    # the manifest keeps no machine path: DENOISER_WEIGHTS_DIR relative to the working folder
    weights_dir: str = field(default_factory=lambda: os.path.relpath(settings().weights_dir))
    val_fraction: float = 0.0  # the last part of the training images, held out to validate each epoch
    patience: int | None = None  # early stopping: epochs without a better validation loss (None: run every epoch)
    min_delta: float = 0.0  # ... better by at least this fraction of the best loss (training/stopping.py)
    options: dict = field(default_factory=dict)  # passed to the model's builder (the ladder's sizes, res_unet's depth)
    adversarial_weight: float | None = None  # adversarial models: the GAN term's weight; None: the model's own
    jit_compile: bool | str = "auto"  # XLA: Keras's "auto" leaves it off on CPU-only machines; True asks for it

    @property
    def level_range(self) -> tuple[float, float] | None:
        """The levels to draw from: the kind's own range narrowed by --level-min/--level-max (None: the full range)."""
        if (self.level_min is None and self.level_max is None) or self.noise not in NOISES:
            return None
        kind = NOISES[self.noise]
        return (kind.low if self.level_min is None else self.level_min,
                kind.high if self.level_max is None else self.level_max)

    @property
    def size_multiple(self) -> int:
        """Image sides this network takes: its patches and the photos it is scored on are cut to a multiple."""
        return models.MODELS[self.model].shape_rules(self.options)[0]

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.dataset / self.model


ONCE = "--once"  # skips a run whose weights are recorded with the same settings; left out of the recorded command
TRAIN_ONLY = "--train-only"  # stops with the trained weights in the run's folder; left out of the recorded command too
BACKUP = "backup"  # in a run's folder: BackupAndRestore's files, and early stopping's memory beside them
TRAINED = "trained.weights.h5"  # in a run's folder: the finished run's weights, until they are scored and saved
TRAINED_RECORD = "trained.json"  # beside them: the settings they were trained with, and the epoch kept
CLOCK = "clock.json"  # in a run's folder: training seconds and epochs, added up across resumed runs
STARTED = "started.json"  # in a run's folder: the settings its first epoch began with, which a resumed run keeps
AFTER_TRAINING = ("eval_images", "weights_dir", "runs_dir")  # settings that do not change the trained weights
MAX_SEED = 2**32 - 1  # keras.utils.set_random_seed's largest
# Training to convergence (--converge): a cap on epochs, the held-out part of the training set, how
# many epochs without a better validation loss end the run, and the batch. The study's runs all use these.
# An epoch counts as better only if it lowers the best loss by 0.1%: with no threshold, gains in the fifth
# decimal at ever smaller rates kept cnn_pool going past 40 epochs (README, Training to convergence).
CONVERGE = {"epochs": 100, "val_fraction": 0.1, "patience": 5, "min_delta": 1e-3,
            "batch_size": 32}  # batch 32: the study's tutorial


def mirrored_scope():
    """TensorFlow's MirroredStrategy: the model's variables on every GPU of this machine."""
    import tensorflow as tf  # this strategy alone needs TensorFlow; the rest of training runs on any backend

    return tf.distribute.MirroredStrategy().scope()


# No multi-machine strategy: Keras 3's Model.fit does not run under MultiWorkerMirroredStrategy
# (keras-team/keras#20585); two workers on 127.0.0.1 fail in fit's first step (README, Training).
STRATEGIES = {"none": contextlib.nullcontext, "mirrored": mirrored_scope}


class EpochClock(keras.callbacks.Callback):
    """Adds up training seconds across resumed runs, in a small file beside the backup."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        state = json.loads(path.read_text()) if path.is_file() else {"seconds": 0.0, "epochs_done": 0}
        self.seconds, self.epochs_done = state["seconds"], state["epochs_done"]

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.monotonic() - self.start
        self.epochs_done = epoch + 1
        write_whole(self.path, lambda path: path.write_text(json.dumps({"seconds": self.seconds,
                                                                       "epochs_done": self.epochs_done})))


def warm_start_entry(config: TrainConfig) -> WeightsEntry | None:
    """The manifest entry a run continues from, when --init-from names committed weights.

    The new entry then records the whole chain of commands, epochs and seconds, so the
    file can still be rebuilt from its manifest entry alone.
    """
    if not config.init_from:
        return None
    for entry in read_manifest(Path(config.weights_dir)):
        if entry.path(Path(config.weights_dir)).resolve() == Path(config.init_from).resolve():
            return entry
    return None


def split(images: np.ndarray, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation images: the last `val_fraction` of the training set is held out."""
    held_out = int(round(len(images) * val_fraction))
    return images[: len(images) - held_out], images[len(images) - held_out :]


def validation_data(images: np.ndarray, config: TrainConfig, labels: np.ndarray | None = None) -> tuple:
    """(noisy, clean) validation images whose noise is drawn once: every epoch is scored on the same inputs;
    their labels third for a model that learns the classes."""
    pair = noisy_pairs(images, config.batch_size, config.noise, config.level_range, config.seed + 1)
    return pair if labels is None else (*pair, labels)


def training_batches(images: np.ndarray, config: TrainConfig, fixed_size: bool,
                     labels: np.ndarray | None = None) -> NoisyBatches:
    """Whole images for a dataset of one image size, random patches for photos of any size; an epoch is
    as many batches as the images fill (the rest go first in the next) unless --steps-per-epoch says otherwise."""
    steps = config.steps_per_epoch or max(1, len(images) // config.batch_size)
    common = (images, config.batch_size, config.noise, config.level_range, config.seed, steps)
    if fixed_size:
        return ImageBatches(*common, augment=config.augment, labels=labels)
    return PatchBatches(*common, patch=config.patch_size)


def stopping_callbacks(config: TrainConfig) -> list[keras.callbacks.Callback]:
    """Early stopping on the validation loss with the best weights restored, and the rate halved on plateaus;
    their memory is kept in the run's folder, so that a run resumed in a later session stops as one run would."""
    if config.patience is None:
        return []
    stopping = [EarlyStopping(patience=config.patience, min_delta=config.min_delta, restore_best_weights=True,
                              verbose=1),
                ReduceLROnPlateau(factor=0.5, patience=max(1, config.patience // 2), min_delta=config.min_delta,
                                  verbose=1)]
    return [*stopping, StoppingState(config.run_dir / BACKUP, stopping)]


def learning_rate(config: TrainConfig, steps: int, factor: float = 1.0):
    """The Adam rate: constant under early stopping (halved on plateaus), else cosine-decayed over the run."""
    peak = config.learning_rate * factor
    if config.patience is not None:
        return peak
    return keras.optimizers.schedules.CosineDecay(peak, decay_steps=config.epochs * steps, alpha=0.05)


def compiled(network: keras.Model, config: TrainConfig, steps: int) -> keras.Model:
    """What `fit` trains: the network itself, or for an adversarial model the network and its discriminator:
    a LatentGAN around a VAE, a ConditionalGAN around a denoiser."""
    spec = models.MODELS.lookup(config.model)
    loss_name = config.loss or spec.loss
    if spec.adversarial:
        weight = spec.adversarial_weight if config.adversarial_weight is None else config.adversarial_weight
        model = (latent_gan.LatentGAN(network, weight) if isinstance(network, VAE)
                 else gan.ConditionalGAN(network, keras.losses.get(LOSSES[loss_name]), weight))
        model.compile(*(keras.optimizers.Adam(learning_rate(config, steps, factor), beta_1=gan.ADAM_BETA_1)
                        for factor in (1.0, gan.D_RATE_FACTOR)), jit_compile=config.jit_compile)
        return model
    network.compile(optimizer=keras.optimizers.Adam(learning_rate(config, steps)),
                    loss=LOSSES[loss_name] if loss_name else None,
                    metrics=[psnr] if loss_name else None,  # a model without a registry loss scores itself
                    jit_compile=config.jit_compile)
    return network


def fit(config: TrainConfig, data: Dataset) -> dict:
    """Run the epochs (resuming from the run's backup), then keep in the run's folder the network's weights
    (TRAINED) and what its manifest entry will need (TRAINED_RECORD): all of training that needs no TensorFlow."""
    earlier = warm_start_entry(config)  # read now: the --init-from file may be replaced before the entry is written
    started = config.run_dir / STARTED
    if (config.run_dir / BACKUP).exists():  # resumed: only with the settings it began with (where they are known)
        if started.is_file():
            check_same_settings(json.loads(started.read_text()), config, "an unfinished run")
    else:  # a fresh run: the clock and curves an earlier one left do not count
        (config.run_dir / CLOCK).unlink(missing_ok=True)
        shutil.rmtree(config.run_dir / LOGS, ignore_errors=True)
        write_whole(started, lambda path: path.write_text(json.dumps(as_stored(asdict(config)))))
    keras.utils.set_random_seed(config.seed)
    images, held_out = split(data.x_train[: config.train_images], config.val_fraction)
    if not len(images):
        raise DatasetError(f"No training images are left once --val-fraction {config.val_fraction:g} is held out of "
                           f"{len(held_out)}.")
    labels, held_out_labels = (split(data.y_train[: config.train_images], config.val_fraction)
                               if models.MODELS.lookup(config.model).labelled else (None, None))
    batches = training_batches(images, config, data.spec.fixed_size, labels)
    with STRATEGIES[config.strategy]():
        network = models.build(config.model, data.spec.shape, **config.options)
        if config.init_from:
            network.load_weights(config.init_from)
        model = compiled(network, config, len(batches))
    stopping = stopping_callbacks(config)
    model.fit(
        batches,
        epochs=config.epochs,
        shuffle=False,  # the loader shuffles, from the seed: Keras's own shuffle of the batches is not resumable
        validation_data=validation_data(held_out, config, held_out_labels) if len(held_out) else None,
        validation_batch_size=config.batch_size,
        callbacks=[
            # kept until the trained weights are (below), so that a kill after the last epoch loses no epoch;
            # two of them, so that a kill while one is written leaves the other
            keras.callbacks.BackupAndRestore(str(config.run_dir / BACKUP), double_checkpoint=True,
                                             delete_checkpoint=False),
            EpochClock(config.run_dir / CLOCK),
            epoch_callback(batches),
            *stopping,
            EpochScalars(config.run_dir / LOGS),  # last: it logs the rate that ReduceLROnPlateau adds
        ],
        verbose=1 if sys.stdout.isatty() else 2,
    )
    bare = models.build(config.model, data.spec.shape, **config.options)  # without optimizer state: half the size
    bare.set_weights(network.get_weights())  # a GAN's generator alone
    bare.save_weights(config.run_dir / TRAINED)  # the record, written whole after it, marks it complete
    record = {"config": as_stored(asdict(config)), "best_epoch": stopping[0].best_epoch + 1 if stopping else None,
              "warm_start": earlier and {"command": earlier.command, "epochs": earlier.epochs,
                                         "train_seconds": earlier.train_seconds}}
    write_whole(config.run_dir / TRAINED_RECORD, lambda path: path.write_text(json.dumps(record)))
    shutil.rmtree(config.run_dir / BACKUP, ignore_errors=True)  # the trained weights and their record stand for it
    return record


def trained_record(config: TrainConfig) -> dict | None:
    """What `fit` left in the run's folder, if it finished a run whose weights are not saved yet."""
    path = config.run_dir / TRAINED_RECORD
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    check_same_settings(record["config"], config, f"trained weights ({TRAINED}) not yet saved")
    return record


def check_same_settings(stored: dict, config: TrainConfig, what: str) -> None:
    """Refuse to go on with `what` (trained or begun with the settings `stored`) under other training settings: the
    weights would mix two runs, and the manifest would give a command that does not rebuild them."""
    given = as_stored(asdict(config))
    changed = sorted(key for key, value in given.items() if key not in AFTER_TRAINING and stored.get(key) != value)
    if changed:
        raise WeightsError(f"{config.run_dir} holds {what} with other settings ({', '.join(changed)} differ): run the "
                           f"command that began it again to go on, or delete {config.run_dir} to train afresh.")


def train(config: TrainConfig, data: Dataset, command: str, train_only: bool = False) -> WeightsEntry | None:
    """Train, save `weights/<dataset>/<model>.keras` and its manifest entry; return the entry.

    With `train_only`, stop once the weights are trained (nothing is scored or saved, None is
    returned): the same call later, where TensorFlow is installed, goes on from there.
    """
    config.run_dir.mkdir(parents=True, exist_ok=True)
    with locked(config.run_dir, wait=False):  # one process a run: two would train into one backup
        record = trained_record(config) or fit(config, data)
        return None if train_only else save(config, data, command, record)


def save(config: TrainConfig, data: Dataset, command: str, record: dict) -> WeightsEntry:
    """Score the trained weights in the run's folder and save them with their manifest entry (train)."""
    earlier = record["warm_start"]
    bare = models.build(config.model, data.spec.shape, **config.options)
    bare.load_weights(config.run_dir / TRAINED)
    clock = EpochClock(config.run_dir / CLOCK)
    entry = WeightsEntry(
        dataset=data.spec.name,
        model=config.model,
        command=f"{earlier['command']} && {command}" if earlier else command,
        config=asdict(config),
        epochs=clock.epochs_done + (earlier["epochs"] if earlier else 0),
        train_seconds=round(clock.seconds + (earlier["train_seconds"] if earlier else 0), 1),
        params=int(bare.count_params()),
        metrics=gaussian_metrics(bare, data, config.eval_images, config.size_multiple),
        best_epoch=record["best_epoch"],
    )
    path = entry.path(Path(config.weights_dir))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, bare.save)  # a kill mid-save leaves the old file, which the manifest still describes
    write_entry(entry, Path(config.weights_dir))
    # The run is complete: the same command now starts afresh (a backup left beside a copied-in run goes too).
    shutil.rmtree(config.run_dir / BACKUP, ignore_errors=True)
    for name in (TRAINED_RECORD, TRAINED, CLOCK, STARTED):
        (config.run_dir / name).unlink(missing_ok=True)
    return entry


def at_least(low: float, kind: type = int, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a number of `kind` no smaller than `low` (or, `above`, larger): 0 epochs or a batch of 0
    would train nothing and still save the untrained network."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number, got {text!r}")
        if not (value > low if above else value >= low):
            raise argparse.ArgumentTypeError(f"must be {'above' if above else 'at least'} {low:g}, got {text}")
        return value
    return parse


def builder_options(text: str) -> dict:
    """--options: a JSON object, checked here so a typo fails before any data loads."""
    try:
        options = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(options, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object of option names and values")
    return options


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     allow_abbrev=False)  # a flag is spelled out: --once is looked for in the command
    parser.add_argument("--dataset", required=True, type=trainable_dataset)
    parser.add_argument("--model", required=True, type=models.MODELS.arg)
    parser.add_argument("--epochs", type=at_least(1),
                        help="epochs to run, or the cap with --patience (default: %(default)s)")
    parser.add_argument("--batch-size", type=at_least(1), help="(default: %(default)s)")
    parser.add_argument("--noise", choices=noise_choices(), help="noise kind to train on; 'mix' draws a kind per "
                        "batch, 'none' trains plain reconstruction (default: %(default)s)")
    parser.add_argument("--level-min", type=float, help="lowest noise level (default: the kind's own range)")
    parser.add_argument("--level-max", type=float, help="highest noise level (default: the kind's own range)")
    parser.add_argument("--learning-rate", type=at_least(0, float, above=True),
                        help="peak Adam rate, cosine-decayed (default: %(default)s)")
    parser.add_argument("--loss", choices=list(LOSSES),
                        help="training loss (default: the model's own; MSE, or cross-entropy for study #1, #3, #4);"
                        " 'psnr' weighs every image the same, as the evaluation does")
    parser.add_argument("--seed", type=at_least(0), help="(default: %(default)s)")
    parser.add_argument("--steps-per-epoch", type=at_least(1),
                        help="batches per epoch (default: one pass over the data)")
    parser.add_argument("--train-images", type=at_least(1), help="train on the first N training images only")
    parser.add_argument("--augment", action="store_true", help="random flips of the clean images")
    parser.add_argument("--patch-size", type=at_least(1), help="side of the random training patches, for datasets of "
                        "any image size (photos) (default: %(default)s)")
    parser.add_argument("--strategy", choices=list(STRATEGIES),
                        help="tf.distribute strategy: 'mirrored' uses every GPU of this machine (default: %(default)s)")
    parser.add_argument("--init-from", help="start from the weights in this .keras file (fine-tuning)")
    parser.add_argument("--eval-images", type=at_least(1),
                        help="test images for the manifest's metrics (default: %(default)s)")
    parser.add_argument("--runs-dir", help="TensorBoard logs and resumable backups (default: %(default)s)")
    parser.add_argument("--weights-dir", help="where the .keras file and manifest entry go (default: "
                        "$DENOISER_WEIGHTS_DIR, relative to this folder: %(default)s)")
    parser.add_argument("--val-fraction", type=float,
                        help="hold out this last part of the training images to validate every epoch")
    parser.add_argument("--patience", type=int,
                        help="stop when the validation loss has not improved for this many epochs and keep the best"
                        " epoch's weights (--epochs is then the cap); needs --val-fraction")
    parser.add_argument("--min-delta", type=at_least(0.0, float),
                        help="with --patience: an epoch is better only if it lowers the best validation loss by at "
                        "least this fraction of it (default: %(default)s)")
    parser.add_argument("--options", type=builder_options,
                        help="JSON object of the model builder's options, e.g. '{\"widths\": [32, 64, 96, 128]}' for a "
                        "four-level res_unet (README, Recipe experiments)")
    parser.add_argument("--adversarial-weight", type=float,
                        help="adversarial models: the weight of the GAN term added to res_unet_gan's pixel loss "
                        f"(default: {models.PIX2PIX_WEIGHT:g}) or to latent_vae_gan's ELBO, a sum over pixels that "
                        f"takes weights thousands of times larger (default: {models.LATENT_GAN_WEIGHT:g})")
    parser.add_argument("--jit-compile", action="store_const", const=True,
                        help="compile the training step with XLA, which Keras leaves off on a CPU; on this 2-core CPU "
                        "it cut a res_unet step on 64 patches of 96x96 from 8.2 to 6.3 s in isolation, though the "
                        "photo run with its input pipeline was no faster (6.1 s a step, 5.7 without)")
    parser.add_argument(ONCE, action="store_true",
                        help="do nothing if the manifest's weights for this dataset and model were trained with these "
                        "same settings: scripts of runs can be started again and go on where they stopped")
    parser.add_argument(TRAIN_ONLY, action="store_true",
                        help="stop when training ends, with the weights in the run's folder, unscored and unsaved: "
                        "for a machine without TensorFlow (KERAS_BACKEND=jax); the same command without it saves them")
    parser.add_argument("--converge", action="store_true",
                        help="train to convergence: " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in
                                                                   CONVERGE.items()) + " unless given")
    parser.set_defaults(**asdict(TrainConfig(dataset="", model="")))  # the defaults are TrainConfig's, written once
    return parser


def problem(config: TrainConfig, train_only: bool) -> str | None:
    """What makes a command's settings unusable here, if anything: said before any work starts."""
    backend = keras.backend.backend()
    if backend != "tensorflow" and models.MODELS[config.model].tensorflow_step:
        return (f"KERAS_BACKEND={backend}: {config.model} trains with a step written for TensorFlow; "
                "train it with KERAS_BACKEND=tensorflow.")
    if backend != "tensorflow" and config.strategy != "none":
        return f"KERAS_BACKEND={backend}: --strategy {config.strategy} is TensorFlow's."
    if not HAS_TENSORFLOW and not train_only:
        return (f"TensorFlow is not installed here, and scoring the trained weights needs it: add {TRAIN_ONLY}, "
                "then run the same command without it where TensorFlow is installed.")
    if config.seed > MAX_SEED:
        return f"--seed {config.seed}: Keras takes seeds up to {MAX_SEED} (2**32 - 1)."
    if config.adversarial_weight is not None and not models.MODELS[config.model].adversarial:
        return f"--adversarial-weight: {config.model} trains without a discriminator; the weight would do nothing."
    if config.init_from and not Path(config.init_from).is_file():
        return f"--init-from {config.init_from}: no such file."
    if config.options:
        try:
            models.build(config.model, DATASETS[config.dataset].shape, **config.options)
        except (TypeError, ValueError) as error:
            return f"--options: {error}"
    multiple, spec = config.size_multiple, DATASETS[config.dataset]
    if spec.fixed_size and any(side % multiple for side in spec.shape[:2]):
        return (f"--options: this network takes sides that are multiples of {multiple}; "
                f"{config.dataset}'s images are {spec.shape[0]}x{spec.shape[1]}.")
    if not spec.fixed_size and config.patch_size % multiple:
        return f"--patch-size {config.patch_size} is not a multiple of {multiple}, this network's size multiple."
    if not 0 <= config.val_fraction < 1:
        return f"--val-fraction {config.val_fraction:g}: it must be at least 0 and below 1."
    if config.val_fraction and not DATASETS[config.dataset].fixed_size:
        return f"--val-fraction: {config.dataset} streams random patches; validation needs fixed-size images."
    if config.patience is not None and (config.patience < 1 or not config.val_fraction):
        return "--patience needs a whole number of epochs ≥ 1 and a --val-fraction to validate on."
    if config.patience is not None and models.MODELS[config.model].adversarial:
        return ("--patience: halving the rate on plateaus would change the generator's alone, not the two rates' "
                "ratio (training.gan); train an adversarial model for a fixed number of epochs.")
    if config.level_min is not None or config.level_max is not None:
        if config.noise not in NOISES:
            return f"--level-min/--level-max narrow one noise kind's range; --noise {config.noise} has none."
        low, high = config.level_range
        try:
            for level in (low, high):
                NOISES[config.noise].check(level)
        except ValueError as error:
            return f"--level-min/--level-max: {error}"
        if low > high:
            return f"--level-min {low:g} is above --level-max {high:g}."
    return None


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.converge:  # parse again with the convergence defaults under what the command line gives
        parser.set_defaults(**CONVERGE)
        args = parser.parse_args(argv)
    train_only = args.train_only
    del args.converge, args.once, args.train_only
    config = TrainConfig(**vars(args))
    if reason := problem(config, train_only):
        parser.error(reason)
    return config


def as_stored(settings: dict) -> dict:
    """Settings as the manifest gives them back: through JSON, so tuples are lists."""
    return json.loads(json.dumps(settings))


def recorded_run(config: TrainConfig) -> WeightsEntry | None:
    """The manifest's entry for this dataset and model, if its weights came from these settings and this network.

    Settings the entry predates count as their defaults. The parameter count catches a builder
    changed since (say cnn_dense_large set from the capacity ladder), whose options are the same.
    """
    try:
        entry = find_entry(config.dataset, config.model, Path(config.weights_dir))
    except WeightsError:
        return None
    recorded = {**as_stored(asdict(TrainConfig(config.dataset, config.model))), **entry.config}
    if recorded != as_stored(asdict(config)) or not entry.path(Path(config.weights_dir)).is_file():
        return None
    network = models.build(config.model, DATASETS[config.dataset].shape, **config.options)
    return entry if network.count_params() == entry.params else None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    config = parse_args(argv)
    command = "python -m training.train " + shlex.join(arg for arg in argv if arg not in (ONCE, TRAIN_ONLY))
    if ONCE in argv and recorded_run(config) and not (config.run_dir / TRAINED_RECORD).is_file():
        print(f"{config.dataset}/{config.model}: the manifest's weights were trained with these settings; "
              "nothing to do.")
        return
    try:
        entry = train(config, load_dataset(config.dataset), command, train_only=TRAIN_ONLY in argv)
    except (WeightsError, DatasetError, InUse) as error:
        sys.exit(str(error))
    except KeyboardInterrupt:
        sys.exit(f"Stopped: run the same command again to go on from the last finished epoch (kept in "
                 f"{config.run_dir}).")
    if entry is None:
        print(f"{config.dataset}/{config.model}: trained, in {config.run_dir / TRAINED}; run the same command without "
              f"{TRAIN_ONLY} where TensorFlow is installed to score and save it.")
        return
    print(json.dumps({"weights": str(entry.path(Path(config.weights_dir))), **entry.metrics}, indent=1))


if __name__ == "__main__":
    main()
