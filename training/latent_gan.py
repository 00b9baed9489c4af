"""A VAE whose in-between images are judged by a discriminator: a VAE-GAN (Larsen et al.,
"Autoencoding beyond pixels using a learned similarity metric", ICML 2016).

The VAE's evidence lower bound asks that the codes of real images decode to those images; it
asks nothing of the codes between them, which is where the Latent tab's slider walks, and there
a VAE decodes blurry blends. So, as Berthelot et al. ("Understanding and Improving Interpolation
in Autoencoders via an Adversarial Regularizer", ICLR 2019) do for plain autoencoders, the
discriminator judges the decodings of points on the line between two images' codes. Each step,
as in training.gan, trains both on one batch:

- discriminator: binary cross-entropy, the batch's images real and, fake, the decodings of the
  point a random fraction t of the way from each image's code to the one before it in the batch;
- VAE: its negative ELBO plus `adversarial_weight` x the cross-entropy of those decodings judged real.

`training.train` wraps the registry's `latent_vae_gan` in this class; only the VAE is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import ops

from denoiser.models.latent_vae import VAE

from . import patchgan
from .gan import Adversarial, judged

if TYPE_CHECKING:  # hints only: the model runs on any backend, its train_step on TensorFlow
    import tensorflow as tf


class LatentGAN(Adversarial):
    """A VAE (the generator) and an unconditional PatchGAN that judges images alone."""

    LOSSES = ("loss", "reconstruction", "kl", "adversarial", "d_loss")

    def __init__(self, vae: VAE, adversarial_weight: float, discriminator: keras.Model | None = None, **kwargs):
        super().__init__(vae, discriminator or patchgan.build(int(vae.input_shape[-1]), conditional=False),
                         adversarial_weight, **kwargs)

    def between(self, z_mean: tf.Tensor, training: bool) -> tf.Tensor:
        """Decodings of a random point on the line from each code to the one before it in the batch."""
        # the VAE's own generator: a second generator of the same seed would draw t from the same
        # stream as the VAE's sampling noise, in step with it
        t = keras.random.uniform((ops.shape(z_mean)[0], 1), seed=self.generator.seed_generator)
        return self.generator.decoder((1 - t) * z_mean + t * ops.roll(z_mean, 1, axis=0), training=training)

    def losses_of(self, data, training: bool) -> tuple[dict, tf.Tensor]:
        """Both networks' losses on a batch of (input, target) pairs, and the VAE's reconstructions."""
        values, z_mean = self.generator.losses_of(data, training=training)
        candidates = ops.concatenate([data[1], self.between(z_mean, training)])
        adversarial, d_loss = judged(self.discriminator(candidates, training=training))
        return {**values, "loss": values["loss"] + self.adversarial_weight * adversarial,
                "adversarial": adversarial, "d_loss": d_loss}, self.generator.decoder(z_mean, training=False)
