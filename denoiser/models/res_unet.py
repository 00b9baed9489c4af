"""The project's denoiser: a small residual U-Net, blind to the noise level.

Why this shape: a U-Net sees a wide context cheaply (two downsamplings), which matters
at high noise; predicting the noise and subtracting it (residual learning, as in DnCNN)
trains faster than predicting the clean image; no BatchNorm keeps it exact on any image
size, and with no level input one model covers every sigma it was trained on. Widths are
kept modest because it trains and runs on a 2-core CPU.
"""

import keras
from keras import layers


def _convs(x, filters: int, count: int = 2):
    for _ in range(count):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def build(shape: tuple, widths: tuple[int, int, int] = (32, 64, 96)) -> keras.Model:
    inputs = keras.Input(shape)
    skip0 = _convs(inputs, widths[0])
    skip1 = _convs(layers.Conv2D(widths[1], 3, strides=2, padding="same", activation="relu")(skip0), widths[1], 1)
    x = _convs(layers.Conv2D(widths[2], 3, strides=2, padding="same", activation="relu")(skip1), widths[2])
    x = layers.Conv2DTranspose(widths[1], 2, strides=2)(x)
    x = _convs(layers.Concatenate()([x, skip1]), widths[1])
    x = layers.Conv2DTranspose(widths[0], 2, strides=2)(x)
    x = _convs(layers.Concatenate()([x, skip0]), widths[0])
    noise = layers.Conv2D(shape[-1], 3, padding="same")(x)
    outputs = layers.Subtract()([inputs, noise])
    return keras.Model(inputs, outputs, name="res_unet")
