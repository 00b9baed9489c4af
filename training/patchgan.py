"""A PatchGAN discriminator (Isola et al., "Image-to-Image Translation with Conditional Adversarial
Networks", CVPR 2017, the pix2pix paper).

It sees a (noisy, candidate) pair stacked on the channel axis and gives one logit per
overlapping patch, not one per image: it judges local texture, which is what a
pixel loss blurs away, and stays fully convolutional, so it takes any image size.
Four 4x4 convolutions (two of stride 2) see 34x34 pixels per logit, a whole CIFAR-10
image; batch normalisation on every block but the first, as pix2pix has it (so real and
fake candidates go through it in one batch: see training.gan).
Unconditional (`conditional=False`), it sees the candidate alone: whether an image looks like
the data, whatever it came from (training.latent_gan judges a VAE's in-between images so).
"""

import keras
from keras import layers


def build(channels: int, widths: tuple[int, int, int] = (64, 128, 256), conditional: bool = True) -> keras.Model:
    candidate = keras.Input((None, None, channels), name="candidate")
    if conditional:
        inputs = [keras.Input((None, None, channels), name="noisy"), candidate]
        x = layers.Concatenate()(inputs)
    else:
        inputs = x = candidate
    for index, (filters, stride) in enumerate(zip(widths, (2, 2, 1))):
        x = layers.Conv2D(filters, 4, strides=stride, padding="same", use_bias=index == 0)(x)
        if index:  # pix2pix: batch normalisation on every block but the first
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 4, padding="same")(x)
    return keras.Model(inputs, logits, name="patchgan")
