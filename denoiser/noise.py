"""Noise models, one registry shared by the library, the app and the training pipeline.

Every noise is written with TensorFlow's stateless random ops: the same function runs
inside a `tf.data` pipeline during training and on NumPy arrays in the app, and the same
seed always gives the same noise.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

import numpy as np
import tensorflow as tf

from .imaging import as_batch, join_alpha, split_alpha
from .registry import Registry

NoiseFn = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor]


def _gaussian(x: tf.Tensor, sigma: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    return x + sigma * tf.random.stateless_normal(tf.shape(x), seed)


def _salt_pepper(x: tf.Tensor, fraction: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    # One draw per pixel (not per channel), so a hit pixel turns black or white.
    pixel_shape = tf.concat([tf.shape(x)[:-1], [1]], axis=0)
    u = tf.random.stateless_uniform(pixel_shape, seed)
    x = tf.where(u < fraction / 2, 0.0, x)
    return tf.where((u >= fraction / 2) & (u < fraction), 1.0, x)


def _speckle(x: tf.Tensor, sigma: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    return x * (1.0 + sigma * tf.random.stateless_normal(tf.shape(x), seed))


def _poisson(x: tf.Tensor, peak: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    peak = tf.broadcast_to(peak, tf.shape(x))
    return tf.random.stateless_poisson(tf.shape(x), seed, lam=x * peak, dtype=tf.float32) / peak


@dataclass(frozen=True)
class NoiseKind:
    name: str
    label: str
    level_name: str
    apply: NoiseFn
    low: float  # slider and training range; for poisson a lower peak is noisier
    high: float
    default: float

    def check(self, level: float) -> float:
        """The level if it lies in this kind's range; a message that gives the range otherwise."""
        if not self.low <= level <= self.high:  # NaN fails too
            raise ValueError(f"{self.label} {self.level_name} must lie in [{self.low:g}, {self.high:g}], got {level}.")
        return level


NOISES: Registry[NoiseKind] = Registry(
    "noise kind",
    (
        NoiseKind("gaussian", "Gaussian", "sigma", _gaussian, 0.0, 0.5, 0.1),
        NoiseKind("salt_pepper", "Salt & pepper", "fraction of pixels", _salt_pepper, 0.0, 0.5, 0.1),
        NoiseKind("speckle", "Speckle", "sigma", _speckle, 0.0, 0.5, 0.2),
        NoiseKind("poisson", "Poisson", "peak photon count", _poisson, 5.0, 100.0, 30.0),
    ),
)


def parse_noise(text: str) -> tuple[str, float]:
    """argparse type: KIND:LEVEL, a known kind at a level in its range."""
    kind, _, level = text.partition(":")
    try:
        return NOISES.lookup(kind).name, NOISES[kind].check(float(level))
    except ValueError as error:  # an unknown kind, a level that is not a number or out of range
        raise argparse.ArgumentTypeError(f"expected KIND:LEVEL, got {text!r}: {error}") from None


def parse_noises(text: str) -> list[tuple[str, float]]:
    """argparse type: comma-separated KIND:LEVEL pairs."""
    return [parse_noise(item) for item in text.split(",") if item]


def apply_noise(images: tf.Tensor, kind: str, level: tf.Tensor | float, seed: tf.Tensor) -> tf.Tensor:
    """Noise a batch (N, H, W, C) of float images in [0, 1]; graph-friendly, for tf.data."""
    level = tf.cast(level, tf.float32)
    return tf.clip_by_value(NOISES.lookup(kind).apply(images, level, seed), 0.0, 1.0)


def add_noise(image: np.ndarray, kind: str = "gaussian", level: float = 0.1, seed: int = 0) -> np.ndarray:
    """Noisy copy of one image or a batch, gray (H, W) or colour (H, W, C); float32 in [0, 1].

    An alpha channel (RGBA) is kept as it is: transparency is not part of the picture.
    """
    NOISES.lookup(kind).check(level)
    batch, shape = as_batch(image)
    colour, alpha = split_alpha(batch)
    noisy = apply_noise(tf.constant(colour), kind, level, tf.constant([seed, 0], tf.int64))
    return join_alpha(noisy.numpy(), alpha).reshape(shape)
