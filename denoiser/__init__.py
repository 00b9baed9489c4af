"""The denoiser: Keras denoising autoencoders for MNIST, Fashion-MNIST and CIFAR-10.

    import denoiser
    den = denoiser.load("cifar10", noise="gaussian")
    clean = den.denoise(noisy)
"""

import importlib
import os

__version__ = "0.1.0"  # the package's (pyproject.toml reads it here)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the CLIs

from .datasets import DATASETS, DatasetError, load_dataset
from .imaging import ImageError, read_image
from .interpolation import PATHS
from .models import ALL_ROUNDER, LATENT, MODELS, SPECIALISTS, STUDY_WINNER, VAE, VAE_GAN
from .noise import NOISES, add_noise
from .registry import UnknownName
from .weights import WeightsEntry, WeightsError, read_manifest

__all__ = [
    "ALL_ROUNDER", "DATASETS", "LATENT", "MODELS", "NOISES", "PATHS", "SPECIALISTS", "STUDY_WINNER", "VAE",
    "VAE_GAN", "Autoencoder", "DatasetError", "Denoiser", "ImageError", "ResizedWarning", "UnknownName",
    "WeightsEntry", "WeightsError", "add_noise", "best_model", "interpolate", "latent_models", "list_models", "load",
    "load_dataset", "read_image", "trained_models",
]


def list_models() -> list[WeightsEntry]:
    """Every (dataset, model) pair that has trained weights, with its recorded metrics."""
    return read_manifest()


# Inference needs TensorFlow, which training on a GPU machine without it (KERAS_BACKEND=jax) never
# imports: these names load `denoiser.inference` when first used, not when the package is imported.
_INFERENCE = ("Autoencoder", "Denoiser", "ResizedWarning", "best_model", "interpolate", "latent_models", "load",
              "trained_models")


def __getattr__(name: str):
    if name in _INFERENCE:
        return getattr(importlib.import_module(".inference", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_INFERENCE])
