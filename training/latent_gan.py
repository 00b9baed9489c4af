"""A VAE whose in-between images are judged by a discriminator: a VAE-GAN (Larsen et al.,
"Autoencoding beyond pixels using a learned similarity metric", ICML 2016).

The VAE's evidence lower bound asks that the codes of real images decode to those images; it
asks nothing of the codes between them, which is where the Latent tab's slider walks, and there
a VAE decodes blurry blends. So, as Berthelot et al. ("Understanding and Improving Interpolation
in Autoencoders via an Adversarial Regularizer", ICLR 2019) do for plain autoencoders, the
discriminator judges the decodings of points on the line between two images' codes. Each step,
as in training.gan, trains both on one batch:

- discriminator: binary cross-entropy, the batch's images real and, fake, the decodings of the
  point a random fraction t of the way from each image's code to the next image's;
- VAE: its negative ELBO plus `adversarial_weight` x the cross-entropy of those decodings judged real.

`training.train` wraps the registry's `latent_vae_gan` in this class; only the VAE is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import ops

from denoiser.metrics import batch_psnr
from denoiser.models.latent_vae import VAE

from . import patchgan
from .gan import bce

if TYPE_CHECKING:  # hints only: the model runs on any backend, its train_step on TensorFlow
    import tensorflow as tf


class LatentGAN(keras.Model):
    """A VAE and an unconditional PatchGAN with their own optimizers and one `train_step`."""

    def __init__(self, vae: VAE, adversarial_weight: float, discriminator: keras.Model | None = None, **kwargs):
        super().__init__(**kwargs)
        self.vae = vae
        self.discriminator = discriminator or patchgan.build(int(vae.input_shape[-1]), conditional=False)
        self.adversarial_weight = adversarial_weight
        self.seed_generator = keras.random.SeedGenerator(vae.seed)
        self.trackers = {name: keras.metrics.Mean(name=name)
                         for name in ("loss", "reconstruction", "kl", "adversarial", "d_loss", "psnr")}
        self.built = True  # both networks are built already (BackupAndRestore needs it)

    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer,
                jit_compile: bool | str = "auto") -> None:
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile)  # the model's own: its rate is the one logged
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # built now, so a resumed run (BackupAndRestore) restores their state before the first step
        g_optimizer.build(self.vae.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)

    def call(self, inputs, training=False):
        return self.vae(inputs, training=training)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def between(self, z_mean: tf.Tensor, training: bool) -> tf.Tensor:
        """Decodings of a random point on the line from each code to the next one in the batch."""
        t = keras.random.uniform((ops.shape(z_mean)[0], 1), seed=self.seed_generator)
        return self.vae.decoder((1 - t) * z_mean + t * ops.roll(z_mean, 1, axis=0), training=training)

    def losses_of(self, data, training: bool) -> dict:
        """Both networks' losses on a batch of (input, target) pairs."""
        values, z_mean = self.vae.losses_of(data, training=training)
        targets = data[1]
        # real and fake in one batch, for the discriminator's batch normalisation (see training.gan)
        real, fake = ops.split(self.discriminator(ops.concatenate([targets, self.between(z_mean, training)]),
                                                  training=training), 2)
        adversarial = bce(1.0, fake)
        return {**values, "loss": values["loss"] + self.adversarial_weight * adversarial,
                "adversarial": adversarial, "d_loss": bce(1.0, real) + bce(0.0, fake)}

    def record(self, values: dict, data) -> dict:
        values["psnr"] = batch_psnr(data[1], self.vae(data[0], training=False))
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf  # this step is written for TensorFlow, as keras.io's GAN examples are

        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            values = self.losses_of(data, training=True)
        for tape, loss, network, optimizer in ((g_tape, values["loss"], self.vae, self.g_optimizer),
                                               (d_tape, values["d_loss"], self.discriminator, self.d_optimizer)):
            gradients = tape.gradient(loss, network.trainable_variables)
            optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return self.record(values, data)

    def test_step(self, data):
        return self.record(self.losses_of(data, training=False), data)
