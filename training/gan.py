"""A conditional GAN denoiser, trained as in pix2pix (Isola et al. 2017; see training.patchgan).

The generator is a registry denoiser (res_unet_gan: our residual U-Net), started from the
Gaussian specialist; the discriminator judges (noisy, candidate) pairs patch by patch.
Each step, as in keras.io's GAN examples, trains both on one batch:

- discriminator: binary cross-entropy, (noisy, clean) pairs real and (noisy, denoised) fake;
- generator: the pixel loss plus `adversarial_weight` x the cross-entropy of its output judged real.

`training.train` wraps a registry model marked `adversarial` in this class (a VAE goes in
training.latent_gan's instead; both share the two-network step, `Adversarial`), so the run gets
TensorBoard logs, per-epoch backups and a manifest entry like every other; only the generator
is saved, as a plain network that the inference code loads like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import keras
from keras import ops

from denoiser.metrics import batch_psnr

from . import patchgan

if TYPE_CHECKING:  # hints only: the model runs on any backend, its train_step on TensorFlow
    import tensorflow as tf

ADAM_BETA_1 = 0.5  # pix2pix's Adam momentum: a shorter memory keeps up with the moving opponent
# The discriminator's rate over the generator's (the two time-scale rule, Heusel et al. 2017): it starts
# from scratch against a trained generator, and at one rate it stayed at chance for hundreds of steps.
D_RATE_FACTOR = 4.0


def bce(target: float, logits: tf.Tensor) -> tf.Tensor:
    """Mean binary cross-entropy of every patch logit against a constant label."""
    return ops.mean(ops.binary_crossentropy(ops.full_like(logits, target), logits, from_logits=True))


def judged(logits: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """The generator's and the discriminator's losses from its logits on one batch, real first, then fake.

    Real and fake go through the discriminator in one batch: batch normalisation on all-real and
    all-fake batches apart would normalise away the very statistics that tell them apart (it then
    stays at chance).
    """
    real, fake = ops.split(logits, 2)
    return bce(1.0, fake), bce(1.0, real) + bce(0.0, fake)


class Adversarial(keras.Model):
    """A network trained against a discriminator: their two optimizers and one `train_step`.

    A subclass says what the discriminator judges: its `losses_of` returns the losses named in
    `LOSSES` ("loss" the network's, "d_loss" the discriminator's) and the network's output.
    """

    LOSSES: tuple[str, ...]

    def __init__(self, generator: keras.Model, discriminator: keras.Model, adversarial_weight: float, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.adversarial_weight = generator, discriminator, adversarial_weight
        self.trackers = {name: keras.metrics.Mean(name=name) for name in (*self.LOSSES, "psnr")}
        self.built = True  # both networks are built already (BackupAndRestore needs it)

    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer,
                jit_compile: bool | str = "auto") -> None:
        super().compile(optimizer=g_optimizer, jit_compile=jit_compile)  # the model's own: its rate is the one logged
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        # built now, so a resumed run (BackupAndRestore) restores their state before the first step
        g_optimizer.build(self.generator.trainable_variables)
        d_optimizer.build(self.discriminator.trainable_variables)

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def losses_of(self, data, training: bool) -> tuple[dict, tf.Tensor]:
        """The subclass's: what the discriminator judges, the losses named in LOSSES, the network's output."""
        raise NotImplementedError

    def record(self, values: dict, clean: tf.Tensor, output: tf.Tensor) -> dict:
        values["psnr"] = batch_psnr(clean, output)
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf  # this step is written for TensorFlow, as keras.io's GAN examples are

        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            values, output = self.losses_of(data, training=True)
        for tape, loss, network, optimizer in ((g_tape, values["loss"], self.generator, self.g_optimizer),
                                               (d_tape, values["d_loss"], self.discriminator, self.d_optimizer)):
            gradients = tape.gradient(loss, network.trainable_variables)
            optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return self.record(values, data[1], output)

    def test_step(self, data):
        values, output = self.losses_of(data, training=False)
        return self.record(values, data[1], output)


class ConditionalGAN(Adversarial):
    """A denoiser and a PatchGAN that judges (noisy, candidate) pairs."""

    LOSSES = ("loss", "pixel", "adversarial", "d_loss")

    def __init__(self, generator: keras.Model, pixel_loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor],
                 adversarial_weight: float, discriminator: keras.Model | None = None, **kwargs):
        super().__init__(generator, discriminator or patchgan.build(int(generator.input_shape[-1])),
                         adversarial_weight, **kwargs)
        self.pixel_loss = pixel_loss

    def losses_of(self, data, training: bool) -> tuple[dict, tf.Tensor]:
        """Both networks' losses on a batch of (noisy, clean) pairs, and the generator's output."""
        noisy, clean = data[:2]  # (x, y) or, from train_on_batch, (x, y, sample_weight)
        denoised = self.generator(noisy, training=training)
        adversarial, d_loss = judged(self.discriminator([ops.concatenate([noisy, noisy]),
                                                         ops.concatenate([clean, denoised])], training=training))
        pixel = ops.mean(self.pixel_loss(clean, denoised))
        return {"loss": pixel + self.adversarial_weight * adversarial, "pixel": pixel, "adversarial": adversarial,
                "d_loss": d_loss}, denoised
