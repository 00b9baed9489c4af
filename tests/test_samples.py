"""The built-in samples: small, complete, and the datasets' own test images; the command that writes them."""

from __future__ import annotations

import numpy as np
import pytest

from denoiser import samples
from denoiser.datasets import DATASETS, DatasetError, load_dataset
from denoiser.samples import MAX_IMAGES, SAMPLED, SAMPLES_FILE, load_samples
from training.samples import main as write_samples

from .conftest import need_data, synthetic_dataset


def test_the_file_is_small_and_holds_every_small_dataset_but_no_photos():
    assert SAMPLES_FILE.stat().st_size < 512 * 1024  # "well under 1 MB in all"
    assert set(SAMPLED) == {"mnist", "fashion_mnist", "cifar10"}
    with pytest.raises(DatasetError, match="No built-in samples for 'photos'"):
        load_samples("photos")


@pytest.mark.parametrize("name", SAMPLED)
def test_samples_have_the_datasets_shape_and_real_labels(name):
    data = load_samples(name)
    spec = DATASETS[name]
    assert 0 < len(data) <= MAX_IMAGES and data.images.dtype == np.uint8
    assert data.test_images().shape == (len(data), *spec.shape)
    assert {data.label(i) for i in range(len(data))} <= set(spec.class_names)
    assert len({data.label(i) for i in range(len(data))}) == 10  # every class shows up
    assert data.images.std() > 20  # pictures, not blank arrays


@pytest.mark.parametrize("name", SAMPLED)
def test_samples_are_the_test_images_they_claim_to_be(name):
    need_data(name)
    data, full = load_samples(name), load_dataset(name)
    assert np.array_equal(data.images, full.x_test[data.indices])
    assert [data.label(i) for i in range(len(data))] == [full.label(int(i)) for i in data.indices]


def test_a_missing_file_says_how_to_rebuild_it(tmp_path, monkeypatch):
    monkeypatch.setattr(samples, "SAMPLES_FILE", tmp_path / "gone.npz")
    load_samples.cache_clear()
    try:
        with pytest.raises(DatasetError, match="python -m training.samples"):
            load_samples("mnist")
    finally:
        load_samples.cache_clear()


def test_the_command_writes_what_load_samples_reads(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in SAMPLED:
        data = synthetic_dataset(name, count=40, seed=len(name))
        np.savez(data_dir / f"{name}.npz", x_train=data.x_train, y_train=data.y_train, x_test=data.x_test,
                 y_test=data.y_test)
    monkeypatch.setenv("DENOISER_DATA_DIR", str(data_dir))
    out = tmp_path / "out" / "samples.npz"
    monkeypatch.setattr(samples, "SAMPLES_FILE", out)
    load_samples.cache_clear()
    try:
        write_samples(["--images", "4", "--out", str(out)])
        for name in SAMPLED:
            written = load_samples(name)
            assert np.array_equal(written.images, load_dataset(name).x_test[:4])
            assert list(written.indices) == [0, 1, 2, 3]
    finally:
            load_samples.cache_clear()
    readme = (out.parent / "README.md").read_text()
    assert "python -m training.samples" in readme and "licence" in readme and "| CIFAR-10 | 4 | 32×32×3 |" in readme
