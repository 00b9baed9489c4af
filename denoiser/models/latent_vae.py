"""A variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014).

The study winner's encoder and decoder (cnn_dense) around a Gaussian latent: the encoder
gives a mean and a log-variance, training decodes a sample from them and adds the KL
divergence to a unit Gaussian to the reconstruction loss. That pull towards one smooth
prior is what makes the points between two encodings decode to plausible images rather
than a cross-fade. `kl_weight` above 1 pulls harder (Higgins et al., "beta-VAE", ICLR 2017,
found that fewer latent directions then carry information); whether it makes the images
between two encodings clearer here is for `training.midpoints` to measure. The training step
follows keras.io's VAE example (a custom `train_step` with `tf.GradientTape`); at inference
the model decodes the mean, so it is deterministic.

Saved as `.keras`: the class is registered under the package "denoiser" and rebuilds its
encoder and decoder from `get_config`, so `keras.models.load_model` needs only this module
imported (importing `denoiser` does it).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

import keras
from keras import layers, ops

from ..metrics import batch_psnr
from . import cnn_dense

if TYPE_CHECKING:  # hints only: the model runs on any backend, its train_step on TensorFlow
    import tensorflow as tf


@keras.saving.register_keras_serializable(package="denoiser")
class VAE(keras.Model):
    TRACKED = ("loss", "reconstruction", "kl", "psnr")  # the running means a training epoch reports

    def __init__(self, shape, filters=(32, 64), latent_dim=16, seed=0, kl_weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.shape, self.filters, self.latent_dim, self.seed = tuple(shape), tuple(filters), latent_dim, seed
        self.kl_weight = float(kl_weight)
        self.encoder, self.decoder = self.networks()
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.TRACKED}

    def networks(self) -> tuple[keras.Model, keras.Model]:
        """The encoder (image to latent mean and log-variance) and the decoder (latent to image)."""
        inputs = keras.Input(self.shape)
        flat, inner_shape = cnn_dense.features(inputs, self.filters)
        moments = [layers.Dense(self.latent_dim, name=name)(flat) for name in ("z_mean", "z_log_var")]
        return (keras.Model(inputs, moments, name="encoder"),
                cnn_dense.decoder(self.latent_dim, inner_shape, self.filters, self.shape[-1]))

    def call(self, inputs, training=False):
        z_mean, _ = self.encoder(inputs, training=training)
        return self.decoder(z_mean, training=training)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def losses_of(self, data, training: bool) -> tuple[dict, "tf.Tensor"]:
        """The negative evidence lower bound, in its two parts, for a batch of (input, target) pairs;
        and the latent means, which an adversary (training.latent_gan) mixes."""
        inputs, targets = data[:2]  # (x, y) or, from train_on_batch, (x, y, sample_weight)
        z_mean, z_log_var = self.encoder(inputs, training=training)
        return self.bound(targets, z_mean, z_log_var, lambda z: z, training), z_mean

    def bound(self, targets, z_mean, z_log_var, decoded_from: Callable, training: bool) -> dict:
        """The two parts of the negative evidence lower bound, the decoder drawing `decoded_from` a latent sample."""
        noise = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        reconstruction = self.decoder(decoded_from(z_mean + ops.exp(0.5 * z_log_var) * noise), training=training)
        # summed over pixels, as in keras.io's example: per-pixel means would let the KL term dominate
        rec = ops.mean(ops.sum(ops.binary_crossentropy(targets, reconstruction), axis=[1, 2, 3]))
        kl = ops.mean(ops.sum(-0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)), axis=1))
        return {"loss": rec + self.kl_weight * kl, "reconstruction": rec, "kl": kl}

    def record(self, values: dict, data) -> dict:
        inputs, targets = data[:2]
        values["psnr"] = batch_psnr(targets, self(inputs, training=False))
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf  # the training step is TensorFlow's; the model itself runs on any backend

        with tf.GradientTape() as tape:
            values, _ = self.losses_of(data, training=True)
        gradients = tape.gradient(values["loss"], self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self.record(values, data)

    def test_step(self, data):
        return self.record(self.losses_of(data, training=False)[0], data)

    @property
    def input_shape(self):
        return (None, *self.shape)

    def get_config(self):
        return {**super().get_config(), "shape": self.shape, "filters": self.filters,
                "latent_dim": self.latent_dim, "seed": self.seed, "kl_weight": self.kl_weight}


def build(shape: tuple, filters: tuple[int, int] = (32, 64), latent_dim: int = 16,
          kl_weight: float = 1.0) -> keras.Model:
    model = VAE(shape, filters, latent_dim, kl_weight=kl_weight, name="latent_vae")
    model(ops.zeros((1, *shape)))  # create every weight now, so weights copy and save as for the other models
    return model
