"""The datasets, as uint8 arrays in the layout `keras.datasets` returns.

A local folder (`DENOISER_DATA_DIR`, holding `<name>.npz`) comes first, so that machines
without internet work; otherwise keras downloads the data as on any connected machine.
The natural photos (`photos`) are a folder of JPEGs, `DENOISER_DATA_DIR/photos/{train,val}`,
and have no download: BSDS500 is research-use data that we never redistribute.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
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
    # Whose models serve this dataset where it has none of its own yet: photos run CIFAR-10's colour
    # models (trained on 32x32 thumbnails, so weaker) until a photo model of that name is trained.
    fallback: str | None = None

    @property
    def fixed_size(self) -> bool:
        return self.shape[0] is not None

    def label_name(self, value: np.ndarray | int | str) -> str:
        """A label as a person reads it: the class name, or for photos, which have no classes, the file name."""
        value = np.ravel(value)[0]
        return self.class_names[int(value)] if self.class_names else str(value)


@dataclass(frozen=True)
class Dataset:
    spec: DatasetSpec
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def test_images(self, count: int | None = None) -> np.ndarray:
        """The first `count` test images as float32 in [0, 1], always with a channel axis."""
        return to_float(self.x_test[:count], self.spec.shape[-1])

    def label(self, index: int) -> str:
        """The class name of a test image; for photos, its file name."""
        return self.spec.label_name(self.y_test[index])


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
                    gaussian_levels=tuple(round(s / 255, 4) for s in (15, 25, 50)), fallback="cifar10"),
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


def _read_photo(path: Path) -> np.ndarray:
    """One photo as uint8 RGB, turned to landscape so that a folder stacks into one array.

    BSDS500 photos are all 481x321 or 321x481; a transposition is one of the 8 orientations
    that training draws anyway, and every method is scored on the same turned image.
    """
    with Image.open(path) as image:
        array = np.asarray(image.convert("RGB"))
    return array.transpose(1, 0, 2) if array.shape[0] > array.shape[1] else array


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
