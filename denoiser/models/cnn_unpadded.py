"""Study #3: no pooling; unpadded convolutions shrink the image, transposed ones restore it.

A convolutional denoising autoencoder (Masci et al., ICANN 2011, after Vincent et al., ICML 2008) whose
decoder is the encoder run backwards with transposed convolutions (Zeiler et al., "Deconvolutional Networks",
CVPR 2010).
"""

import keras
from keras import layers


def build(shape: tuple) -> keras.Model:
    inputs = keras.Input(shape)
    x = layers.Conv2D(64, 3, activation="relu")(inputs)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu")(x)
    outputs = layers.Conv2D(shape[-1], 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="cnn_unpadded")
