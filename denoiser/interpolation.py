"""Paths between two latent vectors, by name: `linear` (the study's) and `spherical` (slerp).

A straight line between two samples of a Gaussian prior passes near its centre, where
vectors are shorter than any the decoder saw in training; slerp (White, "Sampling Generative
Networks", 2016) follows the arc between them instead and keeps a typical length.

Whichever the path, a decoded point between two digits may be a cross-fade that is no digit.
Passing it back through the autoencoder (encode, decode: `Autoencoder.project`) pulls it
towards images the model learned to reproduce: the Markov chain by which Bengio et al.
("Generalized Denoising Auto-Encoders as Generative Models", NeurIPS 2013) sample an
autoencoder's data, without its noise. README, *Recipe experiments*, measures the passes.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .numbers import is_whole
from .registry import Registry


@dataclass(frozen=True)
class Path:
    name: str
    along: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (a, b, t as a column) -> points


def linear(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (1 - t) * a + t * b


def spherical(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation; falls back to the line where the two directions (nearly) coincide."""
    cosine = np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return linear(a, b, t)
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


PATHS: Registry[Path] = Registry("interpolation", (Path("linear", linear), Path("spherical", spherical)))
STUDY_PATH = "linear"  # the study's, and the default wherever a path is not named
MAX_PASSES = 8  # passes a walk may ask for: by 8, some models' midpoints drift (README, Recipe experiments)


MAX_STEPS = 1024  # points one walk may decode: each is a whole image, kept in memory until the walk returns


def points(path: str, a: np.ndarray, b: np.ndarray, t) -> np.ndarray:
    """(len(t), D) points at fractions `t` of the named path from vector `a` to vector `b`.

    `t` beyond [0, 1] goes past the ends, as the path's formula does; NaN or infinity, or more
    than MAX_STEPS fractions, get a message."""
    along = PATHS.lookup(path).along
    try:
        t = np.atleast_1d(np.asarray(t, np.float32))
    except (TypeError, ValueError):
        t = np.array([np.nan], np.float32)
    if t.ndim != 1 or not 1 <= len(t) <= MAX_STEPS or not np.isfinite(t).all():
        raise ValueError(f"The fractions t along the path must be 1 to {MAX_STEPS} finite numbers.")
    return along(np.asarray(a, np.float32), np.asarray(b, np.float32), t[:, None]).astype(np.float32)


def whole_passes(passes: float) -> int:
    """The number of passes back through the model as an int, or a message saying what a walk may ask for."""
    if not is_whole(passes, 0, MAX_PASSES):
        raise ValueError(f"Passes back through the model: a whole number from 0 to {MAX_PASSES}, "
                         f"got {reprlib.repr(passes)}.")
    return int(passes)


def whole_steps(steps: float) -> int:
    """The number of frames of a walk, both ends included, as an int, or a message saying what it may be."""
    if not is_whole(steps, 2, MAX_STEPS):
        raise ValueError(f"Interpolation takes a whole number of steps from 2 (the two ends) to {MAX_STEPS}, "
                         f"got {reprlib.repr(steps)}.")
    return int(steps)
