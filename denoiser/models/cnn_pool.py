"""Study #1: convolution + max-pooling encoder, mirrored upsampling decoder."""

import keras
from keras import layers


def build(shape: tuple) -> keras.Model:
    inputs = keras.Input(shape)
    x = inputs
    for _ in range(2):
        x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    for _ in range(2):
        x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
        x = layers.UpSampling2D(2)(x)
    outputs = layers.Conv2D(shape[-1], 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="cnn_pool")
