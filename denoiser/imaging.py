"""Image plumbing: array layouts, colour conversion, resizing and reading files.

Every function takes and returns float32 arrays in [0, 1] unless its name says uint8.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

MAX_FILE_BYTES = 50 * 1024 * 1024


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for the user."""


def as_batch(image: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(H, W), (H, W, C), (N, H, W) or (N, H, W, C) as an (N, H, W, C) float32 batch.

    A 3-D array whose last axis is 1, 3 or 4 long is one image with channels; any
    other 3-D array is a batch of gray images. The original shape comes back too.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        batch = image[None, ..., None]
    elif image.ndim == 3:
        batch = image[None] if image.shape[-1] in (1, 3, 4) else image[..., None]
    elif image.ndim == 4:
        batch = image
    else:
        raise ImageError(f"Expected an image or a batch of images, got an array of shape {image.shape}.")
    if batch.shape[1] < 1 or batch.shape[2] < 1:
        raise ImageError(f"The image is empty (shape {image.shape}).")
    return batch, image.shape


def convert_channels(batch: np.ndarray, channels: int) -> np.ndarray:
    """Gray to colour by repetition, colour to gray by luma (ITU-R 601)."""
    if batch.shape[-1] == channels:
        return batch
    if channels == 1:
        return (batch @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    return np.repeat(batch, channels, axis=-1)


def resize(batch: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize every image of a batch to (height, width) with bicubic filtering."""
    height, width = size
    out = np.empty((batch.shape[0], height, width, batch.shape[-1]), np.float32)
    for i, image in enumerate(batch):
        for c in range(batch.shape[-1]):
            plane = Image.fromarray(image[..., c], mode="F")
            out[i, ..., c] = np.asarray(plane.resize((width, height), Image.BICUBIC))
    return np.clip(out, 0.0, 1.0)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def enlarge(image: np.ndarray, min_side: int = 256) -> np.ndarray:
    """Nearest-neighbour enlargement of small images, so pixels stay crisp on screen."""
    image = np.asarray(image)
    factor = max(1, min_side // max(1, min(image.shape[:2])))
    return image.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else image


def read_image(source: str | Path | bytes, max_pixels: int) -> tuple[np.ndarray, str]:
    """Read any common image file as float32 (H, W, 1) or (H, W, 3), plus a note for the user.

    EXIF rotation is applied, 16-bit, CMYK, palette and alpha images are converted, an
    animated file gives its first frame, and an image over `max_pixels` is downscaled.
    """
    try:
        if isinstance(source, bytes):
            data = source
        else:
            path = Path(source)
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImageError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB.")
            data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as opened:
            frame = next(ImageSequence.Iterator(opened))
            image = ImageOps.exif_transpose(frame) or frame
            image.load()
    except UnidentifiedImageError:
        raise ImageError("This file is not an image that can be read (PNG, JPEG, GIF, BMP, TIFF, WebP...).") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"The image could not be read: {error}") from None
    note = ""
    if image.width * image.height > max_pixels:
        scale = (max_pixels / (image.width * image.height)) ** 0.5
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        note = f"Downscaled from {image.width}×{image.height} to {size[0]}×{size[1]} (limit {max_pixels:,} pixels)."
        image.thumbnail(size, Image.LANCZOS)
    return _pil_to_float(image), note


def _pil_to_float(image: Image.Image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float32)
        array = array / (65535.0 if array.max() > 255 else 255.0)
        return np.clip(array, 0, 1)[..., None]
    if image.mode in ("1", "L", "LA"):
        return np.asarray(image.convert("L"), dtype=np.float32)[..., None] / 255.0
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def save_png(image: np.ndarray, path: str | Path) -> None:
    """Write a float (H, W), (H, W, 1) or (H, W, 3|4) image in [0, 1] as an 8-bit PNG."""
    array = to_uint8(image)
    Image.fromarray(array[..., 0] if array.ndim == 3 and array.shape[-1] == 1 else array).save(path, format="PNG")
