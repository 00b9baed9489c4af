"""Streaming (noisy, clean) batches with `tf.data`, noise made on the fly.

Noise is drawn per batch from stateless ops whose seed comes from a seeded random
stream that is re-drawn every epoch: runs are repeatable, yet no two epochs share noise.
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from denoiser.datasets import DATASETS
from denoiser.noise import NOISES, apply_noise

CLEAN = "none"  # plain reconstruction: the input is the clean image itself
MIX = "mix"  # every batch takes one noise kind at random, over that kind's full range
MIX_WEIGHTS = {"gaussian": 3.0}  # Gaussian, the benchmark's noise, gets half the batches; others 1


def noise_choices() -> list[str]:
    return [*NOISES, MIX, CLEAN]


def _noisy_batch(clean: tf.Tensor, kind: str, low: float, high: float, seed: tf.Tensor) -> tf.Tensor:
    levels = tf.random.stateless_uniform([tf.shape(clean)[0], 1, 1, 1], seed, low, high)
    return apply_noise(clean, kind, levels, seed + 1)


def corrupt(clean: tf.Tensor, noise: str, level_range: tuple[float, float] | None, seed: tf.Tensor) -> tf.Tensor:
    """One batch of noisy images; the level of each image is uniform in its range."""
    if noise == CLEAN:
        return clean
    if noise == MIX:
        branches = [
            (lambda k=kind: _noisy_batch(clean, k.name, k.low, k.high, seed)) for kind in NOISES.values()
        ]
        weights = [MIX_WEIGHTS.get(name, 1.0) for name in NOISES]
        logits = tf.math.log([weights])
        index = tf.cast(tf.random.stateless_categorical(logits, 1, seed + 2)[0, 0], tf.int32)
        return tf.switch_case(index, branches)
    low, high = level_range or (NOISES[noise].low, NOISES[noise].high)
    return _noisy_batch(clean, noise, low, high, seed)


def pipeline(
    images: np.ndarray,
    batch_size: int,
    noise: str,
    level_range: tuple[float, float] | None,
    seed: int,
    augment: bool = False,
    shuffle: bool = True,
) -> tf.data.Dataset:
    """(noisy, clean) float32 batches from uint8 images (N, H, W) or (N, H, W, C)."""
    if images.ndim == 3:
        images = images[..., None]
    data = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size, drop_remainder=len(images) >= batch_size)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def make_pair(batch: tf.Tensor, pair_seed: tf.Tensor):
        clean = tf.cast(batch, tf.float32) / 255.0
        if augment:
            clean = tf.image.stateless_random_flip_left_right(clean, pair_seed + 3)
            clean = tf.image.stateless_random_flip_up_down(clean, pair_seed + 4)
        return corrupt(clean, noise, level_range, pair_seed), clean

    return tf.data.Dataset.zip(data, seeds).map(make_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def dihedral(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """One of the 8 rotations and mirror images of an image (H, W, C), drawn from the seed."""
    turns = tf.random.stateless_uniform([], seed, 0, 4, dtype=tf.int32)
    image = tf.image.rot90(image, turns)
    return tf.image.stateless_random_flip_left_right(image, seed + 1)


def patch_pipeline(
    images: np.ndarray,
    patch: int,
    batch_size: int,
    noise: str,
    level_range: tuple[float, float] | None,
    seed: int,
) -> tf.data.Dataset:
    """An endless stream of (noisy, clean) batches of random patches cut from large images.

    Each patch is a random crop of a random image in a random one of its 8 orientations, so
    380 photos give millions of distinct patches; noise is fresh in every batch.
    """
    data = tf.data.Dataset.from_tensor_slices(images).repeat().shuffle(len(images), seed=seed)
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def cut(image: tf.Tensor, cut_seed: tf.Tensor) -> tf.Tensor:
        crop = tf.image.stateless_random_crop(image, [patch, patch, images.shape[-1]], cut_seed)
        return dihedral(crop, cut_seed + 5)

    patches = tf.data.Dataset.zip(data, seeds).map(cut, num_parallel_calls=tf.data.AUTOTUNE).batch(batch_size)

    def make_pair(batch: tf.Tensor, pair_seed: tf.Tensor):
        clean = tf.cast(batch, tf.float32) / 255.0
        return corrupt(clean, noise, level_range, pair_seed), clean

    return tf.data.Dataset.zip(patches, seeds).map(make_pair, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def trainable_dataset(name: str) -> str:
    """An argparse type for the training tools: a registry dataset that has a training split."""
    name = DATASETS.arg(name)
    if DATASETS[name].evaluation_only:
        raise argparse.ArgumentTypeError(f"{name} is an evaluation-only set, with no training split.")
    return name
