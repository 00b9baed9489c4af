"""Image plumbing: array layouts, colour conversion, resizing and reading files.

Every function takes and returns float32 arrays in [0, 1] unless its name says uint8.
"""

from __future__ import annotations

import io
import stat
import warnings
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
from PIL import Image, ImageCms, ImageSequence, UnidentifiedImageError

from .config import settings

T = TypeVar("T")

CHANNELS = (1, 3, 4)  # gray, RGB, RGBA: what every array and file becomes
CHANNEL_LIKE = 8  # a 3-D array whose last axis is this short holds channels (refused unless CHANNELS), not widths
FLOAT_SLACK = 4.0
"""How far beyond [0, 1] a float image may reach: unclipped noise on a [0, 1] image stays within it (σ = 1
would need a 4σ draw), a 0-255 image cast to float does not."""
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))  # what the models saw and browsers assume
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "AVIF", "JPEG2000", "PPM", "TGA", "ICO", "QOI", "PSD",
           "PCX")
"""The formats (Pillow's names) read: pictures people keep (a camera's MPO opens as JPEG). Not the rest Pillow
opens: EPS would run Ghostscript, where a server has it, on whatever a visitor uploads; the scientific ones hold
no picture."""


class ImageError(ValueError):
    """An input that is not a usable image; the message is meant for the user."""


def as_float(image: np.ndarray) -> np.ndarray:
    """A numeric array as float32 on the library's [0, 1] scale, or a message saying why it is none.

    Unsigned integers are scaled by their type's full range (uint8 by 255, uint16 by 65535),
    as image files are, and booleans are 0 or 1; signed and wider integers have no agreed range,
    so they are refused rather than guessed, as are floats far outside [0, 1] (`FLOAT_SLACK`: a
    0-255 image cast to float would come back all white). NaN or infinity would spread through
    every convolution.
    """
    array = np.asarray(image)
    if array.dtype.kind in "bf":
        array = array.astype(np.float32, copy=False)
    elif array.dtype.kind == "u" and array.dtype.itemsize <= 2:
        array = array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    else:
        raise ImageError(f"Expected float values in [0, 1] or unsigned integers (uint8, uint16), got {array.dtype}.")
    if not np.isfinite(array).all():
        raise ImageError("The image holds NaN or infinite values.")
    if array.size and (array.min() < -FLOAT_SLACK or array.max() > 1 + FLOAT_SLACK):
        raise ImageError(f"Float images are on the [0, 1] scale; this one spans {array.min():g} to {array.max():g} "
                         "(a 0-255 image? divide it by 255, or pass it as uint8).")
    return array


def as_batch(image: np.ndarray, max_pixels: int | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
    """(H, W), (H, W, C), (N, H, W) or (N, H, W, C) as an (N, H, W, C) float32 batch (`as_float`'s scale).

    C is one of CHANNELS. A 3-D array whose last axis is 1, 3 or 4 long is one image with
    channels, one whose last axis is otherwise up to CHANNEL_LIKE long is refused (an image of
    2 or 5 channels, or a batch of gray images that narrow? not guessed), and any other is a
    batch of gray images. The original shape comes back too. Images over `max_pixels` are
    refused before any copy is made.
    """
    try:
        image = np.asarray(image)
    except ValueError:  # a list of images of different sizes
        raise ImageError("The images of a batch must share one shape; denoise other sizes one by one.") from None
    if image.ndim not in (2, 3, 4):
        raise ImageError(f"Expected an image or a batch of images, got an array of shape {image.shape}.")
    if image.size == 0:
        raise ImageError(f"The image or batch is empty (shape {image.shape}).")
    if image.shape[-1] not in CHANNELS and (image.ndim == 4 or image.ndim == 3 and image.shape[-1] <= CHANNEL_LIKE):
        raise ImageError(f"An image has 1 (gray), 3 (RGB) or 4 (RGBA) channels; the array of shape {image.shape} "
                         f"has {image.shape[-1]}" + (" (a batch of gray images is (N, H, W, 1))." if image.ndim == 3
                                                     else "."))
    if image.ndim == 2:
        batch = image[None, ..., None]
    elif image.ndim == 3:
        batch = image[None] if image.shape[-1] in CHANNELS else image[..., None]
    else:
        batch = image
    if max_pixels is not None and batch.shape[1] * batch.shape[2] > max_pixels:
        raise ImageError(f"The image has {batch.shape[1] * batch.shape[2]:,} pixels; the limit is {max_pixels:,}.")
    return as_float(batch), image.shape


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


def enlarge(image: np.ndarray, min_side: int, max_side: int | None = None) -> np.ndarray:
    """Nearest-neighbour enlargement of small images, so pixels stay crisp on screen.

    The whole factor brings the shorter side up to about `min_side` but never takes the
    longer side past `max_side`: a 1000×1 strip must not become 320 × 320,000.
    """
    image = np.asarray(image)
    height, width = image.shape[:2]
    factor = min_side // max(1, min(height, width))
    if max_side is not None:
        factor = min(factor, max_side // max(height, width))
    return image.repeat(factor, axis=0).repeat(factor, axis=1) if factor > 1 else image


def split_alpha(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The colour channels of an (..., 4) RGBA image and its alpha; other images and None."""
    image = np.asarray(image)
    if image.ndim >= 3 and image.shape[-1] == 4:
        return image[..., :3], image[..., 3:]
    return image, None


def join_alpha(colour: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """Put back the alpha that split_alpha took off (gray colour becomes RGB first)."""
    if alpha is None:
        return colour
    return np.concatenate([np.broadcast_to(colour, (*colour.shape[:-1], 3)), alpha], axis=-1)


def read_image(source: str | Path | bytes, max_pixels: int | None = None) -> tuple[np.ndarray, str]:
    """Read any common image file as float32 (H, W, 1), (H, W, 3) or (H, W, 4), plus a note for the user.

    EXIF rotation and an embedded colour profile are applied (colours come out in sRGB), 16-bit,
    float, CMYK and palette images are converted, an animated file gives its first frame (the
    note says so), and transparency is kept as a fourth (alpha) channel. An image over
    `max_pixels` (default: settings().max_pixels) or longer than settings().max_side is
    downscaled; one whose header promises more than settings().decode_max_pixels is refused
    before it is decoded, after JPEG's cheap reduced decoding (1/2 to 1/8 scale) has had its say.
    """
    limits = settings()
    max_pixels = limits.max_pixels if max_pixels is None else max_pixels
    try:
        if isinstance(source, bytes):
            data = source
        else:
            path = Path(source)
            status = path.stat()
            if not stat.S_ISREG(status.st_mode):  # a folder, or a pipe that would wait for a writer forever
                raise ImageError(f"{path.name} is not a file.")
            if status.st_size > limits.max_file_bytes:
                raise ImageError(f"{path.name} is larger than {limits.max_file_mb} MB (DENOISER_MAX_FILE_MB).")
            data = path.read_bytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # decode_max_pixels is the limit here
            opened = Image.open(io.BytesIO(data), formats=FORMATS)
        with opened:
            original = opened.size
            target = fitted_size(original, max_pixels, limits.max_side)
            if target != original:
                opened.draft(None, target)  # JPEG only: decode at a reduced scale no smaller than the target
            width, height = opened.size
            if width * height > limits.decode_max_pixels:
                raise ImageError(f"The image is {width}×{height} = {width * height:,} pixels; images over "
                                 f"{limits.decode_max_pixels:,} pixels are not decoded.")
            several = _several_frames(opened)
            frame = next(ImageSequence.Iterator(opened))
            image = upright(frame)
            if image.size != frame.size:  # turned a quarter: sizes are told as the picture is shown
                original = original[::-1]
            image.load()
            profile = opened.info.get("icc_profile")
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError("This file is not an image that can be read (PNG, JPEG, GIF, BMP, TIFF, WebP, AVIF, JPEG 2000 "
                         "and other picture formats).") from None
    except Image.DecompressionBombError:  # Pillow's own limit (twice MAX_IMAGE_PIXELS), met in Image.open before ours
        most = min(limits.decode_max_pixels, 2 * Image.MAX_IMAGE_PIXELS)
        raise ImageError(f"The image is over {most:,} pixels; images that large are not decoded.") from None
    except MemoryError:  # not the file's fault: it may read when the server is less busy
        raise
    except Exception as error:  # a damaged file makes Pillow's decoders raise many kinds (OSError, struct.error...)
        raise ImageError(f"The image could not be read: {str(error) or type(error).__name__}") from None
    notes = ["The first of its frames."] if several else []
    size = fitted_size(image.size, max_pixels, limits.max_side)
    if size != image.size:
        image.thumbnail(size, Image.LANCZOS)
    if image.size != original:
        notes.append(f"Downscaled from {original[0]}×{original[1]} to {image.width}×{image.height} "
                     f"(limits {max_pixels:,} pixels, {limits.max_side:,} pixels a side).")
    return _pil_to_float(in_srgb(image, profile)), " ".join(notes)


ORIENTATION = 0x0112  # EXIF's orientation tag
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
           5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
"""The turn that shows a picture upright, by its EXIF orientation (as ImageOps.exif_transpose turns it)."""


def upright(frame: Image.Image) -> Image.Image:
    """The frame turned as its EXIF (or XMP) orientation says. Not ImageOps.exif_transpose: it writes the EXIF anew
    for the turned image, and one mistyped tag anywhere in it then fails a photo whose pixels read well."""
    frame.load()  # first: a TIFF is turned as it is decoded, and its tag dropped
    try:
        turn = UPRIGHT.get(frame.getexif().get(ORIENTATION))
    except Exception:  # an EXIF block that cannot be parsed: the picture as stored
        return frame
    return frame if turn is None else frame.transpose(turn)


def _several_frames(opened: Image.Image) -> bool:
    """Whether a file holds more pictures than the first, which is read: an animation or a multi-page file, not a
    camera JPEG's preview (MPO). Asked without counting them: Pillow counts a TIFF's pages by reading them all."""
    try:
        return bool(getattr(opened, "is_animated", False)) and opened.format != "MPO"
    except Exception:  # a later frame that cannot be read: the first is all that is wanted
        return False


def in_srgb(image: Image.Image, profile: bytes | None) -> Image.Image:
    """An RGB(A), palette or CMYK image's colours taken from its embedded ICC profile to sRGB.

    A phone's photo is often in Display P3: read as sRGB its colours look dull, and a CMYK
    file's plain conversion guesses its inks. A profile that cannot be read or does not fit
    the image is ignored, as browsers do; gray images keep their values.
    """
    if profile and image.mode == "P":  # a palette's colours are in the profile's space too
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, SRGB, outputMode="RGBA" if image.mode == "RGBA" else "RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


def from_header(source: str | Path, read: Callable[[Image.Image], T]) -> T | None:
    """What `read` takes from a file's header, opened without decoding; None when there is no readable header."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source, formats=FORMATS) as opened:
                return read(opened)
    except Exception:  # a damaged file makes Pillow raise many kinds (an AVIF's RuntimeError, for one)
        return None


def header_pixels(path: str | Path) -> int:
    """Width × height as a file's header states it, without decoding; 0 when there is no readable header."""
    return from_header(path, lambda opened: opened.width * opened.height) or 0


def fitted_size(size: tuple[int, int], max_pixels: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled down, aspect kept, to at most `max_pixels` and `max_side` a side."""
    width, height = size
    scale = min(1.0, (max_pixels / max(1, width * height)) ** 0.5, max_side / max(1, width, height))
    if scale == 1.0:
        return size
    return max(1, int(width * scale)), max(1, int(height * scale))


FULL_SCALE = {"I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I;16N": 65535.0, "I": 65535.0, "F": 1.0}
"""White for Pillow's high-depth modes, by type, never guessed from the pixel values: a dark 16-bit
image stays dark. Pillow opens 16-bit data as "I" in some formats; float images hold [0, 1]."""


def _pil_to_float(image: Image.Image) -> np.ndarray:
    if image.mode in FULL_SCALE:
        array = np.asarray(image, dtype=np.float32)
        if image.mode == "I" and array.size and (array.min() < 0 or array.max() > FULL_SCALE["I"]):
            raise ImageError("This is a signed or 32-bit integer image; its black and white are not known (8 and "
                             "16 bits unsigned are read).")
        return np.clip(as_float(array / FULL_SCALE[image.mode]), 0, 1)[..., None]  # as arrays: 0-255 floats refused
    if image.has_transparency_data:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        if rgba[..., 3].min() < 1.0:  # an alpha channel with nothing transparent is dropped
            return rgba
    if image.mode in ("1", "L", "LA"):
        return np.asarray(image.convert("L"), dtype=np.float32)[..., None] / 255.0
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def is_high_depth(source: str | Path) -> bool:
    """Whether an image file holds more than 8 bits a sample as Pillow reads it (16-bit or float gray; Pillow
    reads 16-bit colour as 8-bit), so that a result can keep its depth; False for what is no readable image."""
    return bool(from_header(source, lambda opened: opened.mode in FULL_SCALE))


def save_png(image: np.ndarray, path: str | Path, high_depth: bool = False) -> None:
    """Write a float (H, W), (H, W, 1) or (H, W, 3|4) image in [0, 1] as a PNG: 8 bits a sample, or 16 for a gray
    image with `high_depth` (Pillow writes no 16-bit colour)."""
    gray = image.ndim == 2 or image.shape[-1] == 1
    if high_depth and gray:
        array = (np.clip(image, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16).reshape(image.shape[:2])
    else:
        array = to_uint8(image)
        array = array.reshape(image.shape[:2]) if gray else array
    Image.fromarray(array).save(path, format="PNG")
