"""The datasets, as uint8 arrays in the layout `keras.datasets` returns.

A local folder (`DENOISER_DATA_DIR`, holding `<name>.npz`) comes first, so that machines
without internet work; otherwise keras downloads the data as on any connected machine.
The natural photos (`photos`) are a folder of JPEGs, `DENOISER_DATA_DIR/photos/{train,val}`,
and have no download: BSDS500 is research-use data that we never redistribute. scikit-image's
photos (`skimage_photos`) ship with scikit-image: an evaluation-only set that anyone can score.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

from .config import settings
from .registry import Registry


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    shape: tuple[int | None, int | None, int]  # height, width, channels of one image (None: any size)
    class_names: tuple[str, ...]
    # Natural images have no "up": a network sees them as well turned or mirrored, so the library
    # may average over the 8 orientations (self-ensemble). Digits and clothes are upright, and
    # turning them makes the network worse (README, Recipe experiments).
    orientation_free: bool = False
    # The Gaussian sigmas a freshly trained model is scored at (manifest metrics): the datasets' own
    # 0.1 / 0.3 / 0.5, and for photos the denoising literature's 15 / 25 / 50 of 255.
    gaussian_levels: tuple[float, ...] = (0.1, 0.3, 0.5)
    # Whose models serve this dataset where it has none of its own of that name: photos run
    # CIFAR-10's latent and GAN models, which were never trained on photos.
    fallback: str | None = None
    # An evaluation-only set of pictures that scikit-image ships (file stems in skimage.data.data_dir),
    # read from there in this order: no download, no training split, sizes as they come.
    bundled: tuple[str, ...] = ()

    @property
    def fixed_size(self) -> bool:
        return self.shape[0] is not None

    @property
    def evaluation_only(self) -> bool:
        return bool(self.bundled)

    def label_name(self, value: np.ndarray | int | str) -> str:
        """A label as a person reads it: the class name, or for photos, which have no classes, the file name."""
        value = np.ravel(value)[0]
        return self.class_names[int(value)] if self.class_names else str(value)


@dataclass(frozen=True)
class Dataset:
    spec: DatasetSpec
    x_train: np.ndarray | list[np.ndarray]  # a list where the images differ in size (scikit-image's photos)
    y_train: np.ndarray
    x_test: np.ndarray | list[np.ndarray]
    y_test: np.ndarray

    def test_images(self, count: int | None = None) -> np.ndarray | list[np.ndarray]:
        """The first `count` test images as float32 in [0, 1], always with a channel axis: one array,
        or a list of arrays where they differ in size."""
        images, channels = self.x_test[:count], self.spec.shape[-1]
        if isinstance(images, list):
            return [to_float(image, channels) for image in images]
        return to_float(images, channels)

    def label(self, index: int) -> str:
        """The class name of a test image; for photos, its file name."""
        return self.spec.label_name(self.y_test[index])


PHOTO_LEVELS = tuple(round(s / 255, 4) for s in (15, 25, 50))  # the denoising literature's sigmas for photos
DATASETS: Registry[DatasetSpec] = Registry(
    "dataset",
    (
        DatasetSpec("mnist", "MNIST", (28, 28, 1), tuple(str(d) for d in range(10))),
        DatasetSpec(
            "fashion_mnist",
            "Fashion-MNIST",
            (28, 28, 1),
            ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        ),
        DatasetSpec(
            "cifar10",
            "CIFAR-10",
            (32, 32, 3),
            ("airplane", "automobile", "bird", "cat", "deer",
             "dog", "frog", "horse", "ship", "truck"),
            orientation_free=True,
        ),
        DatasetSpec("photos", "Photos", (None, None, 3), (), orientation_free=True,
                    gaussian_levels=PHOTO_LEVELS, fallback="cifar10"),
        # scikit-image's natural photographs, the app's five examples first (app.PHOTOS). Left out: the
        # synthetic ones (chessboard, color, logo, horse, binary blobs), clock_motion (blurred on purpose:
        # no sharp reference), motorcycle_right (the left view's stereo twin), cell (a phase image
        # computed from a hologram), page (a flat scan of print) and retina (2 megapixels of mostly black
        # border, as many pixels as the rest together).
        DatasetSpec("skimage_photos", "scikit-image photos", (None, None, 3), (), orientation_free=True,
                    gaussian_levels=PHOTO_LEVELS, fallback="photos",
                    bundled=("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "camera", "coins",
                             "moon", "motorcycle_left", "brick", "grass", "gravel", "ihc", "text")),
    ),
)
PHOTO_SPLITS = {"train": "train", "test": "val"}  # our split -> its folder under DENOISER_DATA_DIR/photos


class DatasetError(RuntimeError):
    """A dataset could not be had; the message says what was tried."""


def to_float(images: np.ndarray, channels: int) -> np.ndarray:
    """uint8 images to float32 in [0, 1] with a trailing channel axis."""
    images = np.asarray(images, dtype=np.float32) / 255.0
    return images[..., None] if channels == 1 and images.shape[-1] != 1 else images


def load_dataset(name: str) -> Dataset:
    """A dataset from `DENOISER_DATA_DIR` or else `keras.datasets`, read once per process and folder."""
    return _load_dataset(DATASETS.lookup(name), settings().data_dir)


@functools.lru_cache(maxsize=8)
def _load_dataset(dataset_spec: DatasetSpec, data_dir: Path | None) -> Dataset:
    name = dataset_spec.name
    if dataset_spec.evaluation_only:
        return _load_bundled(dataset_spec)
    if not dataset_spec.fixed_size:
        return _load_photos(dataset_spec, data_dir)
    tried = []
    if data_dir is not None:
        path = data_dir / f"{name}.npz"
        tried.append(str(path))
        if path.is_file():
            try:
                with np.load(path) as arrays:
                    parts = tuple(arrays[key] for key in ("x_train", "y_train", "x_test", "y_test"))
            except (OSError, ValueError, KeyError) as error:
                raise DatasetError(f"{path} is not a readable dataset file: {error}") from error
            return Dataset(dataset_spec, *parts)
    tried.append(f"keras.datasets.{name}.load_data()")
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # keras raises several kinds when offline
        raise DatasetError(
            f"Dataset {name!r} is not available. Tried: {'; '.join(tried)}. "
            f"Set DENOISER_DATA_DIR to a folder holding {name}.npz. ({error})"
        ) from error
    return Dataset(dataset_spec, x_train, y_train, x_test, y_test)


def _read_rgb(path: Path) -> np.ndarray:
    """One picture as uint8 RGB; a gray one in R, G and B, as the app reads a gray upload."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _read_photo(path: Path) -> np.ndarray:
    """One photo as uint8 RGB, turned to landscape so that a folder stacks into one array.

    BSDS500 photos are all 481x321 or 321x481; a transposition is one of the 8 orientations
    that training draws anyway, and every method is scored on the same turned image.
    """
    array = _read_rgb(path)
    return array.transpose(1, 0, 2) if array.shape[0] > array.shape[1] else array


def bundled_files(names: tuple[str, ...]) -> dict[str, Path]:
    """scikit-image's bundled pictures by file stem ("astronaut") -> their files, which ship with it."""
    found = {path.stem: path for path in Path(skimage.data.data_dir).iterdir()}
    missing = [name for name in names if name not in found]
    if missing:
        raise DatasetError(f"scikit-image {skimage.__version__} ships no picture named {', '.join(missing)} "
                           f"in {skimage.data.data_dir}.")
    return {name: found[name] for name in names}


def _load_bundled(dataset_spec: DatasetSpec) -> Dataset:
    """An evaluation-only set: its pictures as test images of their own sizes, the file stems as labels."""
    files = bundled_files(dataset_spec.bundled)
    return Dataset(dataset_spec, [], np.array([], str), [_read_rgb(path) for path in files.values()],
                   np.array(list(files)))


def _load_photos(dataset_spec: DatasetSpec, data_dir: Path | None) -> Dataset:
    folder = data_dir / dataset_spec.name if data_dir else None
    parts = []
    for split in PHOTO_SPLITS.values():
        paths = sorted((folder / split).glob("*.jpg")) if folder else []
        if not paths:
            raise DatasetError(
                f"Dataset {dataset_spec.name!r} is not available: no JPEG photos in "
                f"{folder / split if folder else 'DENOISER_DATA_DIR/photos/' + split}. Set DENOISER_DATA_DIR to a "
                f"folder holding photos/train and photos/val (see ../shared/datasets/README.md)."
            )
        images = [_read_photo(path) for path in paths]
        if len({image.shape for image in images}) > 1:
            raise DatasetError(f"The photos in {folder / split} differ in size; they must share one landscape size.")
        parts += [np.stack(images), np.array([path.stem for path in paths])]
    return Dataset(dataset_spec, *parts)
