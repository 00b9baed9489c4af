"""Built-in test images: a few per dataset, shipped with the project so that Sample works anywhere at once.

The file `denoiser/data/samples.npz` holds, for each small dataset, its first test images,
their labels and their positions in the test split; `python -m training.samples` writes it
(and its provenance, `denoiser/data/README.md`) from the full datasets. It is the one
exception to "never commit dataset images" (../shared/datasets/README.md): at most
MAX_IMAGES images per dataset, well under 1 MB in all. The photos are never in it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datasets import DATASETS, DatasetError, DatasetSpec, to_float

SAMPLES_FILE = Path(__file__).resolve().parent / "data" / "samples.npz"
SAMPLED = tuple(name for name, spec in DATASETS.items() if spec.fixed_size)  # the photos are never redistributed
MAX_IMAGES = 100
KEYS = ("images", "labels", "indices")  # stored as "<dataset>/<key>"


@dataclass(frozen=True)
class Samples:
    spec: DatasetSpec
    images: np.ndarray  # uint8, as in the dataset's x_test
    labels: np.ndarray  # as in its y_test
    indices: np.ndarray  # where each image sits in the test split

    def __len__(self) -> int:
        return len(self.images)

    def test_images(self) -> np.ndarray:
        """The images as float32 in [0, 1] with a channel axis, as `Dataset.test_images` gives them."""
        return to_float(self.images, self.spec.shape[-1])

    def label(self, position: int) -> str:
        return self.spec.label_name(self.labels[position])


def key(dataset: str, part: str) -> str:
    return f"{dataset}/{part}"


@functools.lru_cache(maxsize=None)
def load_samples(dataset: str) -> Samples:
    """The built-in test images of a dataset, read once per process."""
    if dataset not in SAMPLED:
        raise DatasetError(f"No built-in samples for {dataset!r}; there are some for {', '.join(SAMPLED)}.")
    try:
        with np.load(SAMPLES_FILE) as arrays:
            parts = [arrays[key(dataset, part)] for part in KEYS]
    except (OSError, ValueError, KeyError) as error:
        raise DatasetError(f"The built-in samples of {dataset} could not be read from {SAMPLES_FILE} ({error}); "
                           f"rebuild them with `python -m training.samples`.") from None
    return Samples(DATASETS[dataset], *parts)
