"""Study #1: convolution + max-pooling encoder, mirrored upsampling decoder.

A convolutional denoising autoencoder (Vincent et al., "Extracting and Composing Robust Features with Denoising
Autoencoders", ICML 2008; made convolutional by Masci et al., "Stacked Convolutional Auto-Encoders for
Hierarchical Feature Extraction", ICANN 2011) in the shape of the Keras blog's denoising example (Chollet,
"Building Autoencoders in Keras", 2016), which the 2020 study started from.
"""

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
