"""Study #4: deeper conv + BatchNorm blocks (32, 64, 128) with pooling, mirrored decoder.

Study #1's convolutional denoising autoencoder (Masci et al., ICANN 2011) made deeper, with batch
normalisation after each convolution (Ioffe and Szegedy, "Batch Normalization", ICML 2015) so that it trains.
"""

import keras
from keras import layers


def _block(x, filters: int):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build(shape: tuple) -> keras.Model:
    inputs = keras.Input(shape)
    x = _block(inputs, 32)
    x = layers.MaxPooling2D(2)(x)
    x = _block(x, 64)
    x = layers.MaxPooling2D(2)(x)
    x = _block(x, 128)
    x = layers.UpSampling2D(2)(x)
    x = _block(x, 64)
    x = layers.UpSampling2D(2)(x)
    x = _block(x, 32)
    outputs = layers.Conv2D(shape[-1], 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="cnn_deep")
