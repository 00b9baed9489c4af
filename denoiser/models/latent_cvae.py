"""A conditional VAE (Sohn, Lee & Yan, "Learning Structured Output Representation using Deep
Conditional Generative Models", NeurIPS 2015) whose encoder also names the class, as Kingma et
al.'s M2 does ("Semi-Supervised Learning with Deep Generative Models", NeurIPS 2014), here
trained with every label known.

latent_vae's encoder and decoder with the class taken out of the Gaussian latent: the encoder
gives a style (mean and log-variance, pulled towards a unit Gaussian as in the VAE) and one
score per class (learned from the dataset's labels); the decoder draws a style in one class,
given as a one-hot vector. A walk's vector is the style and the scores side by side, and the
decoder draws the class that scores highest: every point between a 4 and a 9 is drawn as a 4
or a 9 in a style between theirs, not as a blend of the two. Training decodes the true class,
and weighs the scores' cross-entropy 100 times (`class_weight`) against the pixels' summed
loss: a misnamed image would end a walk in the wrong class.
"""

import keras
from keras import layers, ops

from . import cnn_dense
from .latent_vae import VAE


@keras.saving.register_keras_serializable(package="denoiser")
class HardClass(layers.Layer):
    """A vector's last `classes` entries, its class scores, replaced by the one-hot vector of the highest."""

    def __init__(self, classes: int, **kwargs):
        super().__init__(**kwargs)
        self.classes = classes

    def call(self, code):
        style, scores = code[:, : -self.classes], code[:, -self.classes :]
        return ops.concatenate([style, ops.one_hot(ops.argmax(scores, axis=-1), self.classes)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "classes": self.classes}


@keras.saving.register_keras_serializable(package="denoiser")
class ConditionalVAE(VAE):
    TRACKED = (*VAE.TRACKED, "class")  # the class scores' cross-entropy

    def __init__(self, shape, filters=(32, 64), latent_dim=16, classes=10, class_weight=100.0, **kwargs):
        self.classes = classes  # read by networks(), which VAE's constructor calls
        self.class_weight = float(class_weight)
        super().__init__(shape, filters, latent_dim, **kwargs)

    def networks(self) -> tuple[keras.Model, keras.Model]:
        """The VAE's encoder with class scores beside the mean, and its decoder behind HardClass."""
        inputs, width = keras.Input(self.shape), self.latent_dim + self.classes
        flat, inner_shape = cnn_dense.features(inputs, self.filters)
        moments = [layers.Dense(width, name="z_mean_and_scores")(flat), layers.Dense(self.latent_dim)(flat)]
        code = keras.Input((width,))
        decoder = cnn_dense.decoder(width, inner_shape, self.filters, self.shape[-1])
        return (keras.Model(inputs, moments, name="encoder"),
                keras.Model(code, decoder(HardClass(self.classes)(code)), name="decoder"))

    def losses_of(self, data, training: bool):
        """The VAE's bound with the decoder drawing the true class, plus the class scores' cross-entropy."""
        inputs, targets, labels = data[:3]  # the training data's (image, image, label)
        code, z_log_var = self.encoder(inputs, training=training)
        one_hot = ops.one_hot(ops.cast(ops.reshape(labels, (-1,)), "int32"), self.classes)
        values = self.bound(targets, code[:, : self.latent_dim], z_log_var,
                            lambda style: ops.concatenate([style, one_hot], axis=-1), training)
        values["class"] = ops.mean(keras.losses.categorical_crossentropy(one_hot, code[:, self.latent_dim :],
                                                                         from_logits=True))
        values["loss"] = values["loss"] + self.class_weight * values["class"]
        return values, code

    def get_config(self):
        return {**super().get_config(), "classes": self.classes, "class_weight": self.class_weight}


def build(shape: tuple, filters: tuple[int, int] = (32, 64), latent_dim: int = 16, classes: int = 10,
          class_weight: float = 100.0, kl_weight: float = 1.0) -> keras.Model:
    model = ConditionalVAE(shape, filters, latent_dim, classes, class_weight, kl_weight=kl_weight, name="latent_cvae")
    model(ops.zeros((1, *shape)))
    return model
