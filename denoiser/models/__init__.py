"""The model zoo: one registry entry per architecture, one file per network.

Every builder takes the image shape (height, width, channels) and returns an uncompiled
Keras model made of built-in layers only, so `.keras` files load without custom objects;
the exceptions, the VAEs' model classes (latent_vae, latent_cvae), register themselves when this
package is imported.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import keras

from ..noise import GAUSSIAN
from ..registry import Registry
from . import cnn_deep, cnn_dense, cnn_pool, cnn_unpadded, latent_cvae, latent_vae, res_unet


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    build: Callable[[tuple[int, int, int]], keras.Model]
    summary: str
    fully_convolutional: bool  # takes any height and width (a multiple of its size multiple: shape_rules)
    size_multiple: int = 1
    # How many pixels out an output pixel sees (fully convolutional models): large images are denoised in
    # tiles whose margin covers it, so the tiles match the whole-image result (tests/test_inference.py).
    receptive_field: int | None = None
    latent: bool = False  # has an encoder and a decoder for interpolation
    study: int | None = None  # number in the 2020 study, if it is one of its four
    loss: str | None = "mse"  # the training loss; #1, #3, #4 use cross-entropy; None: the model computes its own
    # Instead of size_multiple and receptive_field, for builders whose options change them: options -> both.
    geometry: Callable[..., tuple[int, int]] | None = None
    # Trained against a discriminator (training.gan, training.latent_gan) with this weight on the GAN term
    # unless a run gives its own; None: not adversarial. The saved file is the network alone.
    adversarial_weight: float | None = None
    # The 8-way self-ensemble may run on it: off for a GAN, whose averaged texture would blur back.
    self_ensemble: bool = True
    labelled: bool = False  # learns the dataset's classes too: trained on (image, image, label) batches

    @property
    def adversarial(self) -> bool:
        return self.adversarial_weight is not None

    @property
    def tensorflow_step(self) -> bool:
        """Trained by a step of its own written for TensorFlow (a GAN's, a VAE's): only under that backend."""
        return self.adversarial or self.loss is None

    def shape_rules(self, options: dict) -> tuple[int, int]:
        """(size multiple, receptive field) of this network built with `options` (a manifest entry's)."""
        if self.geometry is not None:
            return self.geometry(**options)
        return self.size_multiple, self.receptive_field or 0


# pix2pix's lambda = 100 on L1, for images in [0, 1] rather than [-1, 1], is a GAN weight of 1 / 200; every
# committed res_unet_gan trained with six times that, which met issue #13's realism targets (README, study item 5).
PIX2PIX_WEIGHT = 0.03
# The VAE's ELBO is summed over a 28x28 image's pixels, so its GAN term takes a weight thousands of
# times larger than a per-pixel loss's: 60 on MNIST (README, Recipe experiments).
LATENT_GAN_WEIGHT = 60.0

MODELS: Registry[ModelSpec] = Registry(
    "model",
    (
        ModelSpec("cnn_pool", "Conv + max-pooling", cnn_pool.build,
                  "Study #1: two conv/max-pool stages and an upsampling decoder.", True, 4, 14, study=1,
                  loss="binary_crossentropy"),
        ModelSpec("cnn_dense", "Strided conv + dense latent", cnn_dense.build,
                  "Study #2, the winner: strided convs, a 16-d dense latent, transposed-conv decoder.",
                  False, latent=True, study=2),
        ModelSpec("cnn_unpadded", "Unpadded conv", cnn_unpadded.build,
                  "Study #3: no pooling, unpadded convs and transposed convs back to size.", True, 1, 6, study=3,
                  loss="binary_crossentropy"),
        ModelSpec("cnn_deep", "Deep conv + BatchNorm", cnn_deep.build,
                  "Study #4: conv/BatchNorm blocks of 32, 64, 128 with pooling, upsampling decoder.",
                  True, 4, 16, study=4, loss="binary_crossentropy"),
        ModelSpec("cnn_dense_large", "Strided conv + dense latent, large",
                  functools.partial(cnn_dense.build, filters=(32, 64), latent_dim=256),
                  "The winner with a 256-d latent: the study's fix for CIFAR-10, the smallest that covers it "
                  "(README, the capacity ladder).",
                  False, latent=True),
        ModelSpec("latent_ae", "Latent autoencoder",
                  functools.partial(cnn_dense.build, filters=(32, 64), latent_dim=64),
                  "The winner's shape with a 64-d latent, trained to reconstruct; drives the interpolation slider.",
                  False, latent=True),
        ModelSpec("latent_vae", "Variational autoencoder", latent_vae.build,
                  "The winner's shape around a 16-d Gaussian latent (a VAE): midpoints that look like the data.",
                  False, latent=True, loss=None),
        ModelSpec("latent_vae_gan", "VAE-GAN", latent_vae.build,
                  "The VAE fine-tuned against a discriminator that judges the images between two codes (a VAE-GAN): "
                  "in-between images that look like sharp digits, not blends (trained on MNIST).",
                  False, latent=True, loss=None, adversarial_weight=LATENT_GAN_WEIGHT, self_ensemble=False),
        ModelSpec("latent_cvae", "Conditional VAE", latent_cvae.build,
                  "The VAE with the class apart from the style, learned from the labels: every image between two "
                  "is drawn in one class, A's or B's, in a style between theirs; never a blend of two.",
                  False, latent=True, loss=None, labelled=True),
        ModelSpec("res_unet", "Residual U-Net, all noise kinds", res_unet.build,
                  "The project's denoiser: a 3-level U-Net that predicts the noise, blind to its level, any size.",
                  True, geometry=res_unet.geometry),
        ModelSpec("res_unet_gaussian", "Residual U-Net, Gaussian only", res_unet.build,
                  "The same U-Net fine-tuned on Gaussian noise alone: what the app runs for Gaussian noise.",
                  True, geometry=res_unet.geometry),
        ModelSpec("res_unet_gan", "Sharp (GAN)", res_unet.build,
                  "The Gaussian specialist fine-tuned against a PatchGAN discriminator (pix2pix): a little PSNR "
                  "traded for texture that looks real. An explicit choice, never what 'auto' picks.",
                  True, geometry=res_unet.geometry, loss="mae", adversarial_weight=PIX2PIX_WEIGHT, self_ensemble=False),
    ),
)

# Trained on every noise kind: what best_model() picks where no specialist for the noise is trained.
ALL_ROUNDER = "res_unet"
SPECIALISTS = {GAUSSIAN: "res_unet_gaussian"}  # noise kind -> the model fine-tuned on it alone
LATENT = "latent_ae"  # the plain autoencoder every dataset has: the interpolation's fallback
SHARP = "res_unet_gan"  # the adversarial one: judged on realism against the Gaussian specialist
VAE = "latent_vae"  # the variational one: the interpolation's default where it is trained and no VAE-GAN is
VAE_GAN = "latent_vae_gan"  # the VAE sharpened against a discriminator: the interpolation's default where trained
STUDY_WINNER = "cnn_dense"  # the model the 2020 study picked from its validation curves


def build(name: str, shape: tuple[int, int, int], **options) -> keras.Model:
    """Build a registry model for images of `shape`; fully convolutional ones take any size.

    `options` go to the network's builder (say `latent_dim=256` for the capacity ladder).
    """
    spec = MODELS.lookup(name)
    input_shape = (None, None, shape[-1]) if spec.fully_convolutional else tuple(shape)
    try:
        return spec.build(input_shape, **options)
    except TypeError as error:
        if not options:
            raise
        raise ValueError(f"Model {name!r} does not take the options {options}: {error}") from None
