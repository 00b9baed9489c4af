"""The project's denoiser: a small residual U-Net, blind to the noise level.

Why this shape: a U-Net (Ronneberger, Fischer and Brox, MICCAI 2015) sees a wide context
cheaply, which matters at high noise; predicting the noise and subtracting it (residual
learning, as in DnCNN: Zhang et al., IEEE TIP 2017) trains faster than predicting the clean
image; no BatchNorm keeps it exact on any image size, and with no level input one model
covers every sigma it was trained on. Widths are kept modest because it trains and runs on a
2-core CPU.

Two options were measured for photos (README, *Recipe experiments*): more levels (one width
per level) and FFDNet's front end (Zhang, Zuo and Zhang, IEEE TIP 2018), which runs the whole
network on four half-resolution sub-images. Pixel unshuffle followed by a 1x1 convolution is
exactly a 2x2 convolution of stride 2, and a 1x1 convolution followed by pixel shuffle is a
2x2 transposed convolution of stride 2, so the front end is built from Keras's own layers and
the saved files load without custom objects.
"""

import keras
from keras import layers


def _convs(x, filters: int, count: int = 2):
    for _ in range(count):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def _down(x, filters: int):
    return layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)


def geometry(widths: tuple[int, ...] = (32, 64, 96), unshuffle: bool = False) -> tuple[int, int]:
    """(size multiple, receptive field) of `build(shape, widths, unshuffle)`: what padding and tiling need.

    Each level down doubles the reach of everything below it; the front end doubles it all
    (the field is tests/test_models.py's measured one, the farthest input pixel an output sees).
    """
    if len(widths) < 2:
        raise ValueError(f"widths {list(widths)}: a U-Net needs at least two levels.")
    field = 14 * 2 ** (len(widths) - 2) - 3  # 11 for two levels, and each level more: field -> 2 * field + 3
    return 2 ** (len(widths) - 1) * (2 if unshuffle else 1), 2 * field - 1 if unshuffle else field


def build(shape: tuple, widths: tuple[int, ...] = (32, 64, 96), unshuffle: bool = False) -> keras.Model:
    """A U-Net with one level per width (the first at the input's resolution, or half of it with `unshuffle`)."""
    geometry(widths, unshuffle)  # refuses a shape it has no rule for
    inputs = keras.Input(shape)
    x = layers.Conv2D(widths[0], 2, strides=2)(inputs) if unshuffle else inputs
    skips = [_convs(x, widths[0])]
    for width in widths[1:-1]:
        skips.append(_convs(_down(skips[-1], width), width, 1))
    x = _convs(_down(skips[-1], widths[-1]), widths[-1])
    for width, skip in zip(reversed(widths[:-1]), reversed(skips)):
        x = layers.Conv2DTranspose(width, 2, strides=2)(x)
        x = _convs(layers.Concatenate()([x, skip]), width)
    if unshuffle:
        noise = layers.Conv2DTranspose(shape[-1], 2, strides=2)(x)
    else:
        noise = layers.Conv2D(shape[-1], 3, padding="same")(x)
    outputs = layers.Subtract()([inputs, noise])
    return keras.Model(inputs, outputs, name="res_unet")
