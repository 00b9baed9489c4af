import io

import numpy as np
import pytest
from PIL import Image

from denoiser.imaging import ImageError, as_batch, convert_channels, enlarge, read_image, resize


@pytest.mark.parametrize(
    "shape, batch_shape",
    [((28, 28), (1, 28, 28, 1)), ((32, 32, 3), (1, 32, 32, 3)), ((7, 28, 28), (7, 28, 28, 1)),
     ((2, 32, 32, 3), (2, 32, 32, 3))],
)
def test_as_batch(shape, batch_shape):
    batch, original = as_batch(np.zeros(shape))
    assert batch.shape == batch_shape and original == shape


def test_channel_conversion():
    rgb = np.zeros((1, 2, 2, 3), np.float32)
    rgb[..., 1] = 1.0
    gray = convert_channels(rgb, 1)
    assert gray.shape == (1, 2, 2, 1) and np.allclose(gray, 0.587)
    assert convert_channels(gray, 3).shape == (1, 2, 2, 3)


def test_resize_and_enlarge():
    assert resize(np.ones((2, 64, 48, 1), np.float32), (28, 28)).shape == (2, 28, 28, 1)
    big = enlarge(np.arange(4).reshape(2, 2), min_side=8)
    assert big.shape == (8, 8) and big[3, 3] == 0 and big[4, 4] == 3


def _png(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kwargs.pop("format", "PNG"), **kwargs)
    return buffer.getvalue()


def test_reads_sixteen_bit_palette_rgba_cmyk():
    sixteen = Image.fromarray(np.full((4, 4), 65535, np.uint16))
    image, _ = read_image(_png(sixteen), 10**6)
    assert image.shape == (4, 4, 1) and np.allclose(image, 1.0)
    for mode in ("P", "RGBA"):
        image, _ = read_image(_png(Image.new("RGB", (5, 3), (255, 0, 0)).convert(mode)), 10**6)
        assert image.shape == (3, 5, 3) and image[0, 0, 0] > 0.9
    image, _ = read_image(_png(Image.new("CMYK", (5, 3), (0, 255, 255, 0)), format="JPEG"), 10**6)
    assert image.shape == (3, 5, 3) and image[0, 0, 0] > 0.8 and image[0, 0, 1] < 0.2


def test_exif_rotation_is_applied():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _png(Image.new("RGB", (40, 20), (0, 0, 255)), format="JPEG", exif=exif.tobytes())
    image, _ = read_image(data, 10**6)
    assert image.shape == (40, 20, 3)


def test_first_frame_of_animation_and_downscale_note():
    frames = [Image.new("L", (10, 10), v) for v in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    image, note = read_image(buffer.getvalue(), 10**6)
    assert image.max() == 0 and note == ""
    image, note = read_image(_png(Image.new("L", (400, 100))), 10_000)
    assert image.shape[0] * image.shape[1] <= 10_000 and "Downscaled from 400×100" in note


@pytest.mark.parametrize("data", [b"hello, not an image", _png(Image.new("RGB", (50, 50)))[:60]])
def test_broken_files_raise_image_error(data):
    with pytest.raises(ImageError):
        read_image(data, 10**6)
