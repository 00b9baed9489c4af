"""Trained models behind a NumPy interface: `Denoiser.denoise` and `Autoencoder.encode/decode`.

The wrappers absorb every difference between what a caller has and what a network
takes: one image or a batch, gray or colour, any size (padding, resizing or tiling).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from . import imaging, interpolation
from .config import settings
from .datasets import DATASETS
from .models import ALL_ROUNDER, LATENT, MODELS, SPECIALISTS, VAE, VAE_GAN
from .noise import NOISES
from .weights import WeightsEntry, find_entry, read_manifest, weights_file

Progress = Callable[[int, int], None]
BATCH = 64


class ResizedWarning(UserWarning):
    """The image was resized to fit a fixed-size model and back."""


@dataclass
class Denoiser:
    entry: WeightsEntry
    model: keras.Model

    @property
    def name(self) -> str:
        return self.entry.model

    @property
    def channels(self) -> int:
        return int(self.model.input_shape[-1])

    @property
    def fixed_size(self) -> tuple[int, int] | None:
        height, width = self.model.input_shape[1:3]
        return (height, width) if height is not None else None

    def denoise(self, noisy: np.ndarray, progress: Progress | None = None, ensemble: bool | None = None) -> np.ndarray:
        """Denoised float32 images in [0, 1], in the shape given: (H,W), (H,W,C) or a batch.

        `ensemble` averages the network's output over the 8 flips and rotations of the input
        (geometric self-ensemble: +0.3 to +0.4 dB on CIFAR-10 for 8x the time). By default it is
        on for models of orientation-free data (CIFAR-10, and so photos) on images up to
        DENOISER_ENSEMBLE_MAX_PIXELS, and off otherwise, and always for a model that forbids it (the GAN).
        """
        batch, shape = imaging.as_batch(noisy, settings().max_pixels)
        colour, alpha = imaging.split_alpha(batch)
        if ensemble is None:
            small = batch.shape[1] * batch.shape[2] <= settings().ensemble_max_pixels
            ensemble = (small and DATASETS.lookup(self.entry.dataset).orientation_free
                        and MODELS.lookup(self.name).self_ensemble)
        out = self._run(imaging.convert_channels(colour, self.channels), progress, ensemble)
        out = np.clip(out, 0.0, 1.0)
        out = imaging.join_alpha(imaging.convert_channels(out, colour.shape[-1]), alpha)
        return out.reshape(shape)

    def resize_note(self, size: tuple[int, int]) -> str:
        """Why an image of (height, width) gets resized for this model; empty when it does not."""
        if not self.fixed_size or tuple(size) == self.fixed_size:
            return ""
        return (f"{self.name} takes {self.fixed_size[0]}×{self.fixed_size[1]} images; "
                f"the {size[0]}×{size[1]} input was resized to fit and back.")

    def _run(self, batch: np.ndarray, progress: Progress | None, ensemble: bool) -> np.ndarray:
        if note := self.resize_note(batch.shape[1:3]):
            warnings.warn(note, ResizedWarning, stacklevel=3)
        return self._ensemble(batch, progress) if ensemble else self._once(batch, progress)

    def _once(self, batch: np.ndarray, progress: Progress | None) -> np.ndarray:
        """One pass: resized for a fixed-size model, else padded to the network's rules and tiled when large."""
        size = batch.shape[1:3]
        if self.resize_note(size):
            return imaging.resize(self._predict(imaging.resize(batch, self.fixed_size)), size)
        multiple = self.shape_rules[0]
        # Each side up to its size multiple, and to at least the context an output pixel sees: a network
        # whose unpadded convolutions shrink its input (cnn_unpadded) has nothing left of a 4-pixel side.
        pad = [(0, 0), *((0, max(self.margin, side + -side % multiple) - side) for side in size), (0, 0)]
        padded = np.pad(batch, pad, mode="reflect" if min(size) > 1 else "edge")
        if padded.shape[1] * padded.shape[2] <= (self.tile + 2 * self.margin) ** 2:
            out = self._predict(padded)  # small images go through in batches, not one by one
        else:
            out = np.stack([self._tiled(image, progress) for image in padded])
        return out[:, : size[0], : size[1]]

    @functools.cached_property
    def _forward(self) -> Callable[[tf.Tensor], tf.Tensor]:
        """The model as one compiled graph: about 7x faster than eager calls on a 28x28 image."""
        return tf.function(lambda batch: self.model(batch, training=False), reduce_retracing=True)

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        return in_batches(self._forward, batch)

    def _ensemble(self, batch: np.ndarray, progress: Progress | None) -> np.ndarray:
        """The mean of the passes over the 8 rotations and mirror images of the input, each turned back."""
        outputs = []
        for turns in range(4):
            for mirror in (False, True):
                view = np.rot90(batch, turns, axes=(1, 2))
                view = view[:, :, ::-1] if mirror else view
                out = self._once(np.ascontiguousarray(view), progress)
                outputs.append(np.rot90(out[:, :, ::-1] if mirror else out, -turns, axes=(1, 2)))
        return np.mean(outputs, axis=0)

    @property
    def margin(self) -> int:
        """Context around each tile: the model's receptive field, rounded up to its size multiple."""
        multiple, field = self.shape_rules
        return -(-field // multiple) * multiple

    @property
    def tile(self) -> int:
        """DENOISER_TILE, cut to a multiple of the network's size multiple so every window keeps its grid."""
        multiple = self.shape_rules[0]
        return max(multiple, settings().tile // multiple * multiple)

    @property
    def shape_rules(self) -> tuple[int, int]:
        """(size multiple, receptive field) of this network, as built with its manifest entry's options."""
        return MODELS.lookup(self.name).shape_rules(self.entry.config.get("options", {}))

    def _tiled(self, image: np.ndarray, progress: Progress | None) -> np.ndarray:
        """Denoise one image in tiles with a context margin, so memory stays bounded.

        Each tile is run with `margin` extra pixels on every side that are then cut away;
        the margin covers the network's receptive field, so the seams match the
        whole-image result. Windows start on multiples of the model's size multiple to keep the strided grid.
        """
        tile, margin = self.tile, self.margin
        height, width = image.shape[:2]
        out = np.empty_like(image)
        cores = [(y, x) for y in range(0, height, tile) for x in range(0, width, tile)]
        for done, (y, x) in enumerate(cores, start=1):
            y0, x0 = max(0, y - margin), max(0, x - margin)
            y1, x1 = min(height, y + tile + margin), min(width, x + tile + margin)
            window = self._predict(image[None, y0:y1, x0:x1])[0]
            out[y : y + tile, x : x + tile] = window[y - y0 : y - y0 + tile, x - x0 : x - x0 + tile]
            if progress:
                progress(done, len(cores))
        return out


def in_batches(network: Callable[[tf.Tensor], tf.Tensor], inputs: np.ndarray) -> np.ndarray:
    """A network's outputs for many inputs, BATCH at a time, so its working memory does not grow with their number."""
    parts = [network(tf.constant(inputs[i : i + BATCH])) for i in range(0, len(inputs), BATCH)]
    return np.concatenate([np.asarray(p) for p in parts or [network(tf.constant(inputs))]])  # none: an empty batch


@dataclass
class Autoencoder(Denoiser):
    """A denoiser whose bottleneck is a latent vector that can be walked (a plain or a variational autoencoder)."""

    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, latent) vectors; for a VAE, the mean of each image's latent distribution (a conditional VAE's
        class scores after it)."""
        batch, _ = imaging.as_batch(images)
        batch = imaging.convert_channels(batch[..., :3], self.channels)
        if batch.shape[1:3] != self.fixed_size:
            batch = imaging.resize(batch, self.fixed_size)
        encoder = self.model.get_layer("encoder")

        def code(images: tf.Tensor) -> tf.Tensor:  # a VAE's encoder gives [mean, log-variance]: the mean
            latents = encoder(images, training=False)
            return latents[0] if isinstance(latents, (list, tuple)) else latents
        return in_batches(code, batch)

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """(N, latent) vectors to (N, H, W, C) images in [0, 1]."""
        decoder = self.model.get_layer("decoder")
        width = decoder.inputs[0].shape[-1]
        try:
            latents = np.atleast_2d(np.asarray(latents, dtype=np.float32))
        except (TypeError, ValueError):
            latents = np.empty((0, 0), np.float32)
        if latents.ndim != 2 or latents.shape[-1] != width or not np.isfinite(latents).all():
            raise ValueError(f"{self.name} decodes finite latent vectors of {width} numbers, (N, {width}); got an "
                             f"array of shape {latents.shape}.")
        return in_batches(lambda z: decoder(z, training=False), latents)

    def project(self, images: np.ndarray, passes: int) -> np.ndarray:
        """Encode and decode the images `passes` times (0 to interpolation.MAX_PASSES): each pass pulls an
        in-between image towards those the model learned to reproduce (denoiser.interpolation says whose idea)."""
        for _ in range(interpolation.whole_passes(passes)):
            images = self.decode(self.encode(images))
        return images

    def decode_between(self, latent_a: np.ndarray, latent_b: np.ndarray, t,
                       path: str = interpolation.STUDY_PATH, passes: int = 0) -> np.ndarray:
        """Decode the points at fractions `t` (a number or an array) of a path between two latent vectors.

        `path` names an entry of `denoiser.interpolation.PATHS`: "linear" or "spherical"; `passes` > 0 sends
        the decodings back through the model that many times (`project`).
        """
        latent_a, latent_b = np.asarray(latent_a, np.float32), np.asarray(latent_b, np.float32)
        if latent_a.ndim != 1 or latent_a.shape != latent_b.shape:
            raise ValueError(f"Interpolation takes two latent vectors of one size, got {latent_a.shape} and "
                             f"{latent_b.shape}.")
        return self.project(self.decode(interpolation.points(path, latent_a, latent_b, t)), passes)

    def decode_line(self, latent_a: np.ndarray, latent_b: np.ndarray, steps: int = 8,
                    path: str = interpolation.STUDY_PATH, passes: int = 0) -> np.ndarray:
        """Decode evenly spaced points on a path from one latent vector to another, ends included."""
        steps = interpolation.whole_steps(steps)
        return self.decode_between(latent_a, latent_b, np.linspace(0.0, 1.0, steps), path, passes)


def trained_models(dataset: str) -> dict[str, str]:
    """Every model that can serve a dataset -> the dataset whose weights it runs.

    A dataset's own models win; its fallback's fill in the names it has not trained, and the
    fallback's fallback those that neither has (scikit-image's photos run the photo models,
    and CIFAR-10's for the names that photos have not trained).
    """
    owners = [dataset]
    while fallback := DATASETS.lookup(owners[-1]).fallback:
        owners.append(fallback)
    entries = read_manifest()
    return {entry.model: entry.dataset for owner in reversed(owners) for entry in entries if entry.dataset == owner}


def best_model(dataset: str, noise: str | None = None) -> str:
    """The denoiser for a noise kind: its specialist where one is trained, else the all-rounder.

    A model fine-tuned on one kind beats the all-rounder on it (README, Results), so callers
    that know the noise get the better one without having to know which that is.
    """
    return _best_of(trained_models(dataset), noise)


def latent_models(dataset: str) -> list[str]:
    """Trained models with a latent space to walk, the interpolation's default first.

    The default is the VAE-GAN where it is trained (its midpoints look most like the data: README,
    The study, reproduced), else the VAE, else the plain autoencoder; the study's winner and any
    other autoencoder follow in registry order.
    """
    served = trained_models(dataset)
    first = [name for name in (VAE_GAN, VAE, LATENT) if name in served]
    return first + [name for name in MODELS if MODELS[name].latent and name in served and name not in first]


def _best_of(served: dict[str, str], noise: str | None) -> str:
    specialist = SPECIALISTS.get(NOISES.lookup(noise).name) if noise else None  # a misspelt kind is refused
    return specialist if specialist in served else ALL_ROUNDER


def load(dataset: str, model: str | None = None, noise: str | None = None) -> Denoiser:
    """A trained model for a dataset, loaded once; by default the best one for `noise` (best_model).

    A dataset with a fallback (photos) runs the fallback's model of that name until it has its own.
    """
    served = trained_models(dataset)
    model = _best_of(served, noise) if model is None else MODELS.lookup(model).name  # one manifest read per call
    return _load(served.get(model, dataset), model, settings().weights_dir)


@functools.lru_cache(maxsize=32)
def _load(dataset: str, model: str, weights_dir: Path) -> Denoiser:
    """Keyed on the weights folder too, so pointing DENOISER_WEIGHTS_DIR elsewhere loads from there."""
    DATASETS.lookup(dataset)
    entry = find_entry(dataset, model, weights_dir)
    network = keras.models.load_model(weights_file(entry, weights_dir), compile=False)
    wrapper = Autoencoder if MODELS.lookup(entry.model).latent else Denoiser
    return wrapper(entry, network)


def interpolate(ae: Autoencoder, image_a: np.ndarray, image_b: np.ndarray, steps: int = 8,
                path: str = interpolation.STUDY_PATH, passes: int = 0) -> np.ndarray:
    """Decode evenly spaced points on a path ("linear" or "spherical") between two encoded images, ends included,
    sent back through the model `passes` times (Autoencoder.project)."""
    if not isinstance(ae, Autoencoder):
        what = f"{ae.name!r} has no latent space to walk" if isinstance(ae, Denoiser) else (
            f"interpolate takes a loaded model, not {ae!r}")
        raise TypeError(f"{what}; load one that does: denoiser.load(dataset, model=...) with a name that "
                        "denoiser.latent_models(dataset) lists.")
    z_a, z_b = (ae.encode(image) for image in (image_a, image_b))
    if len(z_a) != 1 or len(z_b) != 1:
        raise ValueError("interpolate takes two single images, not batches.")
    return ae.decode_line(z_a[0], z_b[0], steps, path, passes)
