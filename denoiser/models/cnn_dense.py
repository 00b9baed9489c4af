"""Study #2, the winner: strided convs to a dense latent and a transposed-conv decoder.

An autoencoder with a low-dimensional code (Hinton and Salakhutdinov, "Reducing the Dimensionality of Data with
Neural Networks", Science 2006), trained to denoise (Vincent et al., ICML 2008), with the strided conv 32, 64 and
dense 16-d code of keras.io's "Variational AutoEncoder" example, without its sampling.
The encoder and decoder are sub-models named "encoder" and "decoder", so a loaded model
can encode and decode on its own: this is what the interpolation slider walks through.
`features` and `decoder` are shared with the variational autoencoder (latent_vae).
"""

import keras
from keras import layers


def _conv_bn(x, filters: int, transpose: bool = False):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, 3, strides=2, padding="same")(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    return layers.BatchNormalization()(x)


def features(inputs, filters: tuple[int, ...]):
    """The encoder's strided conv stages, flattened; and the shape before flattening, for the decoder."""
    x = inputs
    for f in filters:
        x = _conv_bn(x, f)
    return layers.Flatten()(x), tuple(x.shape[1:])


def decoder(latent_dim: int, inner_shape: tuple, filters: tuple[int, ...], channels: int) -> keras.Model:
    """A latent vector back to an image: dense, reshape, transposed convs, sigmoid."""
    latent_in = keras.Input((latent_dim,))
    x = layers.Dense(inner_shape[0] * inner_shape[1] * inner_shape[2])(latent_in)
    x = layers.Reshape(inner_shape)(x)
    for f in reversed(filters):
        x = _conv_bn(x, f, transpose=True)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(latent_in, outputs, name="decoder")


def build(shape: tuple, filters: tuple[int, int] = (32, 64), latent_dim: int = 16) -> keras.Model:
    inputs = keras.Input(shape)
    flat, inner_shape = features(inputs, filters)
    encoder = keras.Model(inputs, layers.Dense(latent_dim)(flat), name="encoder")
    return keras.Model(inputs, decoder(latent_dim, inner_shape, filters, shape[-1])(encoder(inputs)), name="cnn_dense")
