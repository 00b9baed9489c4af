"""Streaming (noisy, clean) batches from NumPy arrays, noise made on the fly.

The loaders are `keras.utils.PyDataset`s written with NumPy alone, so one loader feeds
every Keras backend: TensorFlow here, JAX on a GPU machine that has no TensorFlow. Each
batch is made from a generator seeded by (seed, epoch, batch): runs are repeatable, yet no
two epochs share noise or crops.
`training.train` tells a loader the epoch (`epoch_callback`), so a resumed run goes on with
fresh batches instead of replaying its first epochs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import os

import keras
import numpy as np

from denoiser.datasets import DATASETS, to_float
from denoiser.noise import GAUSSIAN, NOISES, draw_noise

CLEAN = "none"  # plain reconstruction: the input is the clean image itself
MIX = "mix"  # every batch takes one noise kind at random, over that kind's full range
MIX_WEIGHTS = {GAUSSIAN: 3.0}  # Gaussian, the benchmark's noise, gets half the batches; others 1
NOISE_THREADS = 8  # at most; a batch's numbers are the same for any count


def noise_choices() -> list[str]:
    return [*NOISES, MIX, CLEAN]


@functools.cache
def noise_threads() -> concurrent.futures.ThreadPoolExecutor:
    """The threads that noise a batch's images side by side: NumPy's generators and ufuncs let go of the GIL,
    and on a GPU machine the host side, not the GPU, bounds a step (README, Training on a GPU)."""
    return concurrent.futures.ThreadPoolExecutor(min(NOISE_THREADS, os.cpu_count() or 1), "noise")


def corrupt(clean: np.ndarray, noise: str, level_range: tuple[float, float] | None,
            rng: np.random.Generator) -> np.ndarray:
    """One batch of noisy images; the level of each image is uniform in its range.

    Each image's noise comes from its own generator, spawned from the batch's, so the threads
    share the work and the numbers do not depend on how many there are.
    """
    if noise == CLEAN:
        return clean
    if noise == MIX:
        weights = np.array([MIX_WEIGHTS.get(name, 1.0) for name in NOISES])
        noise, level_range = list(NOISES)[rng.choice(len(weights), p=weights / weights.sum())], None
    low, high = level_range or (NOISES[noise].low, NOISES[noise].high)
    levels = rng.uniform(low, high, len(clean)).astype(np.float32)
    noisy = np.empty_like(clean, dtype=np.float32)

    def draw(number: int, generator: np.random.Generator) -> None:
        noisy[number] = draw_noise(clean[number], noise, levels[number], generator)

    list(noise_threads().map(draw, range(len(clean)), rng.spawn(len(clean))))
    return noisy


def with_channels(images: np.ndarray) -> np.ndarray:
    """Gray images (N, H, W) as (N, H, W, 1), the shape the networks take; colour ones as they are."""
    return images[..., None] if images.ndim == 3 else images


def dihedral(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of the 8 rotations and mirror images of an image (H, W, C), drawn from the generator."""
    image = np.rot90(image, rng.integers(4))
    return image[:, ::-1] if rng.integers(2) else image


class NoisyBatches(keras.utils.PyDataset):
    """`steps` (noisy, clean) float32 batches an epoch; a subclass says how a batch's clean images are cut."""

    def __init__(self, images: np.ndarray, batch_size: int, noise: str, level_range: tuple[float, float] | None,
                 seed: int, steps: int):
        # One worker: batches are made when asked for, so each is made for the epoch `fit` is in (Keras's
        # worker threads would make some ahead, before `epoch_callback` runs). A batch of 64 noisy 96x96
        # photo patches took 52 ms on this busy 2-core CPU; JAX's steps run while the next one is made.
        super().__init__(workers=1)
        self.images = with_channels(images)
        self.batch_size, self.noise, self.level_range = batch_size, noise, level_range
        self.seed, self.steps, self.epoch = seed, steps, 0

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        epoch = self.epoch
        rng = np.random.default_rng([self.seed, epoch, index])
        clean = to_float(self.clean_batch(epoch * self.steps + index, rng), self.images.shape[-1])
        return corrupt(clean, self.noise, self.level_range, rng), clean

    def clean_batch(self, number: int, rng: np.random.Generator) -> np.ndarray:
        """The `number`-th batch of the run, counted across epochs, as uint8 images."""
        raise NotImplementedError


@functools.lru_cache(maxsize=8)
def pass_order(seed: int, which: int, count: int, shuffle: bool) -> np.ndarray:
    """The image order of the `which`-th pass over `count` images, made once per pass, not per batch."""
    return np.random.default_rng([seed, which]).permutation(count) if shuffle else np.arange(count)


class ImageBatches(NoisyBatches):
    """Whole images, in a new random order on every pass over them, optionally flipped at random; with
    `labels`, each batch's labels come third, (noisy, clean, labels), for a model that learns the classes."""

    def __init__(self, *args, shuffle: bool = True, augment: bool = False, labels: np.ndarray | None = None):
        super().__init__(*args)
        self.shuffle, self.augment, self.labels = shuffle, augment, labels

    def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
        pair = super().__getitem__(index)
        if self.labels is None:
            return pair
        return (*pair, self.labels[self.picks(self.epoch * self.steps + index)])

    def picks(self, number: int) -> list[int]:
        """The images of the `number`-th batch of the run."""
        count, size = len(self.images), min(self.batch_size, len(self.images))
        start = number * size  # batches follow one another through endless passes, one straddling two at times
        return [pass_order(self.seed, position // count, count, self.shuffle)[position % count]
                for position in range(start, start + size)]

    def clean_batch(self, number: int, rng: np.random.Generator) -> np.ndarray:
        batch = self.images[self.picks(number)]
        if self.augment:
            batch = np.where(rng.random((len(batch), 1, 1, 1)) < 0.5, batch[:, :, ::-1], batch)
            batch = np.where(rng.random((len(batch), 1, 1, 1)) < 0.5, batch[:, ::-1], batch)
        return batch


class PatchBatches(NoisyBatches):
    """Random patches cut from large images: a random crop of a random image in a random one of its 8
    orientations, so 380 photos give millions of distinct patches."""

    def __init__(self, *args, patch: int):
        super().__init__(*args)
        self.patch = patch

    def clean_batch(self, number: int, rng: np.random.Generator) -> np.ndarray:
        height, width = self.images.shape[1:3]
        patches = []
        for image in rng.integers(len(self.images), size=self.batch_size):
            top, left = rng.integers(height - self.patch + 1), rng.integers(width - self.patch + 1)
            patches.append(dihedral(self.images[image, top : top + self.patch, left : left + self.patch], rng))
        return np.stack(patches)


def epoch_callback(batches: NoisyBatches) -> keras.callbacks.Callback:
    """Tells the loader which epoch is starting, counted as `fit` counts it, a resumed run's too."""
    return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs=None: setattr(batches, "epoch", epoch))


def noisy_pairs(images: np.ndarray, batch_size: int, noise: str, level_range: tuple[float, float] | None,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Every image once, in order, noised once batch by batch (under `mix`, a kind per batch as in training):
    a validation set that each epoch sees the same."""
    rng = np.random.default_rng(seed)
    images = with_channels(images)
    clean = to_float(images, images.shape[-1])
    noisy = [corrupt(clean[start : start + batch_size], noise, level_range, rng)
             for start in range(0, len(clean), batch_size)]
    return np.concatenate(noisy), clean


def trainable_dataset(name: str) -> str:
    """An argparse type for the training tools: a registry dataset that has a training split."""
    name = DATASETS.arg(name)
    if DATASETS[name].evaluation_only:
        raise argparse.ArgumentTypeError(f"{name} is an evaluation-only set, with no training split.")
    return name
