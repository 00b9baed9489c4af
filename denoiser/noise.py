"""Noise models, one registry shared by the library, the app and the training pipeline.

Each kind is written twice, and a test holds the two to the same statistics:
- `apply`, with TensorFlow's stateless random ops: the noise the app and every evaluation
  add, the same for the same seed on any machine;
- `draw`, with NumPy's generator: the noise training adds, so that the training loop runs
  on any Keras backend (JAX on a GPU machine without TensorFlow: README, Training).
"""

from __future__ import annotations

import argparse
import reprlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

try:
    import tensorflow as tf
except ImportError:  # a training machine without TensorFlow: only `draw` is used there
    tf = None
HAS_TENSORFLOW = tf is not None  # whether `add_noise`, the evaluation's noise, can run here

from .imaging import as_batch, join_alpha, split_alpha
from .numbers import is_number, is_whole
from .registry import Registry

NoiseFn = Callable[[Any, Any, Any], Any]  # (images, level, seed) -> noisy images, as TensorFlow tensors
DrawFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]  # (images, level, generator)


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


def _draw_gaussian(x: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # In place: the same numbers as x + sigma * noise without two temporaries (the training loader's main cost).
    noise = rng.standard_normal(x.shape, np.float32)
    noise *= sigma
    noise += x
    return noise


def _draw_salt_pepper(x: np.ndarray, fraction: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random((*x.shape[:-1], 1), np.float32)  # per pixel, as `_salt_pepper`
    return np.where(u < fraction / 2, 0.0, np.where(u < fraction, 1.0, x))


def _draw_speckle(x: np.ndarray, sigma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return x * (1.0 + sigma * rng.standard_normal(x.shape, np.float32))


def _draw_poisson(x: np.ndarray, peak: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.poisson(x * peak) / peak


@dataclass(frozen=True)
class NoiseKind:
    name: str
    label: str
    level_name: str
    apply: NoiseFn
    draw: DrawFn
    low: float  # slider and training range; for poisson a lower peak is noisier
    high: float
    default: float

    def check(self, level: float) -> float:
        """The level if it lies in this kind's range; a message that gives the range otherwise."""
        if isinstance(level, np.ndarray) and level.ndim == 0:  # np.array(0.1), as NumPy's reductions give
            level = level[()]
        if not (is_number(level) and self.low <= level <= self.high):  # NaN fails too
            raise ValueError(f"{self.label} {self.level_name} must lie in [{self.low:g}, {self.high:g}], "
                             f"got {reprlib.repr(level)}.")
        return level


GAUSSIAN = "gaussian"  # the benchmark's noise and the study's; its level is the sigma that BM3D is given
NOISES: Registry[NoiseKind] = Registry(
    "noise kind",
    (
        NoiseKind(GAUSSIAN, "Gaussian", "sigma", _gaussian, _draw_gaussian, 0.0, 0.5, 0.1),
        NoiseKind("salt_pepper", "Salt & pepper", "fraction of pixels", _salt_pepper, _draw_salt_pepper, 0.0, 0.5, 0.1),
        NoiseKind("speckle", "Speckle", "sigma", _speckle, _draw_speckle, 0.0, 0.5, 0.2),
        NoiseKind("poisson", "Poisson", "peak photon count", _poisson, _draw_poisson, 5.0, 100.0, 30.0),
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


def draw_noise(images: np.ndarray, kind: str, level: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
    """Noise float images in [0, 1] (one (H, W, C) or a batch of them) with NumPy, for training on any backend."""
    noisy = NOISES.lookup(kind).draw(images, np.asarray(level, np.float32), rng).astype(np.float32, copy=False)
    return np.clip(noisy, 0.0, 1.0, out=noisy)


SEEDS = (-(2**63), 2**63 - 1)  # the seeds TensorFlow's stateless draws take: int64


def check_seed(seed: int) -> int:
    """The seed as an int if it is a whole number in SEEDS (an int: 3.0 is refused); a message otherwise."""
    if not (isinstance(seed, (int, np.integer)) and is_whole(seed, *SEEDS)):
        raise ValueError(f"The seed must be a whole number from {SEEDS[0]} to {SEEDS[1]}, got {reprlib.repr(seed)}.")
    return int(seed)


def parse_seed(text: str) -> int:
    """argparse type: a whole number in SEEDS."""
    try:
        return check_seed(int(text))
    except ValueError as error:  # int() refuses what is no whole number
        raise argparse.ArgumentTypeError(f"expected a whole number from {SEEDS[0]} to {SEEDS[1]}, got {text!r}"
                                         ) from error


def add_noise(image: np.ndarray, kind: str = GAUSSIAN, level: float = 0.1, seed: int = 0) -> np.ndarray:
    """Noisy copy of one image or a batch, gray (H, W) or colour (H, W, C); float32 in [0, 1].

    An alpha channel (RGBA) is kept as it is: transparency is not part of the picture.
    """
    NOISES.lookup(kind).check(level)
    check_seed(seed)
    if not HAS_TENSORFLOW:
        raise ImportError("add_noise needs TensorFlow: its noise is the evaluation's, the same for a seed everywhere.")
    batch, shape = as_batch(image)
    colour, alpha = split_alpha(batch)
    noisy = NOISES[kind].apply(tf.constant(colour), tf.constant(level, tf.float32), tf.constant([seed, 0], tf.int64))
    return join_alpha(np.clip(noisy.numpy(), 0.0, 1.0), alpha).reshape(shape)
