"""Shared fixtures: small synthetic datasets and throwaway weights trained in seconds."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from denoiser.config import PROJECT_ROOT, settings
from denoiser.datasets import DATASETS, Dataset
from denoiser.weights import read_manifest

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "datasets"
if "DENOISER_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    os.environ["DENOISER_DATA_DIR"] = str(SHARED_DATA)


def synthetic_dataset(name: str, count: int = 256, seed: int = 0) -> Dataset:
    """Smooth blobs on a dark background: structured enough that denoising can be learned."""
    height, width, channels = DATASETS[name].shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    images = np.zeros((count, height, width, channels), np.float32)
    for image in images:
        for _ in range(3):
            cy, cx, r = rng.uniform(6, height - 6), rng.uniform(6, width - 6), rng.uniform(2, 6)
            blob = ((yy - cy) ** 2 + (xx - cx) ** 2 < r**2).astype(np.float32)
            image += blob[..., None] * rng.uniform(0.4, 1.0, channels)
    x = (np.clip(images, 0, 1) * 255).astype(np.uint8)
    if channels == 1:
        x = x[..., 0]
    labels = rng.integers(0, 10, count)
    split = count * 3 // 4
    return Dataset(DATASETS[name], x[:split], labels[:split], x[split:], labels[split:])


def need_data(dataset: str) -> None:
    """Skip unless the dataset is in DENOISER_DATA_DIR: tests never download datasets."""
    folder = settings().data_dir
    name = f"{dataset}.npz" if DATASETS[dataset].fixed_size else dataset
    if folder is None or not (folder / name).exists():
        pytest.skip(f"dataset {dataset} not available: set DENOISER_DATA_DIR to a folder holding {name}")


def need_weights(dataset: str, model: str) -> None:
    """Skip unless the (dataset, model) weights are in the manifest and on disk: tests never download weights."""
    entry = next((e for e in read_manifest() if (e.dataset, e.model) == (dataset, model)), None)
    if entry is None or not entry.path().is_file():
        pytest.skip(f"no trained weights for {dataset}/{model} in {settings().weights_dir}; "
                    f"train them with training/train_all.sh")


def encoded(image: Image.Image, format: str = "PNG", **options) -> bytes:
    """The file an image would be saved as."""
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def png(width: int, height: int, rows: int) -> bytes:
    """A black 8-bit gray PNG whose header says width×height, with `rows` rows of data (fewer: truncated).

    Built by hand, so a bomb costs the test its compressed size, not its pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    pack, row = zlib.compressobj(9), bytes(width + 1)
    data = b"".join(pack.compress(row) for _ in range(rows)) + pack.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights folder: a few-step res_unet and latent_ae for mnist and cifar10, and mnist's Gaussian specialist."""
    from training.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("weights")
    runs = tmp_path_factory.mktemp("runs")
    for dataset in ("mnist", "cifar10"):
        for model, noise in (("res_unet", "gaussian"), ("latent_ae", "none")):
            config = TrainConfig(dataset=dataset, model=model, epochs=1, steps_per_epoch=3, batch_size=16,
                                 noise=noise, eval_images=8, runs_dir=str(runs), weights_dir=str(folder))
            train(config, synthetic_dataset(dataset), f"python -m training.train --dataset {dataset} --model {model}")
    config = TrainConfig(dataset="mnist", model="res_unet_gaussian", epochs=1, steps_per_epoch=3, batch_size=16,
                         eval_images=8, runs_dir=str(runs), weights_dir=str(folder))
    train(config, synthetic_dataset("mnist"), "python -m training.train --dataset mnist --model res_unet_gaussian")
    return folder


@pytest.fixture
def use_weights(tiny_weights, monkeypatch):
    """Point the library at the tiny weights (models are cached per weights folder)."""
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tiny_weights))
    return tiny_weights


@pytest.fixture
def gan_weights(tiny_weights, tmp_path, monkeypatch) -> Path:
    """The tiny weights plus a cifar10 res_unet_gan entry (its file a plain res_unet, as a GAN's generator is)."""
    import dataclasses
    import shutil

    from denoiser.weights import write_entry

    folder = tmp_path / "weights"
    shutil.copytree(tiny_weights, folder)
    entry = next(e for e in read_manifest(folder) if (e.dataset, e.model) == ("cifar10", "res_unet"))
    gan = dataclasses.replace(entry, model="res_unet_gan")
    shutil.copy(entry.path(folder), gan.path(folder))
    write_entry(gan, folder)
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(folder))
    return folder


@pytest.fixture
def synthetic_data_dir(tmp_path, monkeypatch):
    """A DENOISER_DATA_DIR of small synthetic .npz files in the keras layout, and a few photos."""
    for name in ("mnist", "cifar10"):
        data = synthetic_dataset(name, count=96)
        np.savez(tmp_path / f"{name}.npz", x_train=data.x_train, y_train=data.y_train,
                 x_test=data.x_test, y_test=data.y_test)
    tiles = synthetic_dataset("cifar10", count=12).x_train  # 32x32 blobs, tiled into 32x64 photos
    for split, first in (("train", 0), ("val", 4)):
        (tmp_path / "photos" / split).mkdir(parents=True)
        for i in range(first, first + 2):
            photo = np.concatenate([tiles[i], tiles[i + 2]], axis=1)
            Image.fromarray(photo).save(tmp_path / "photos" / split / f"{i}.jpg", quality=95)
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    return tmp_path
