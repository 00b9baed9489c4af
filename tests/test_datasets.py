import numpy as np
import pytest
import skimage.data
from PIL import Image

from denoiser.datasets import DATASETS, DatasetError, bundled_files, load_dataset
from denoiser.registry import UnknownName

from .conftest import need_data


def test_unknown_dataset_names_the_choices():
    with pytest.raises(UnknownName, match="Unknown dataset 'imagenet'; choose one of mnist, fashion_mnist, cifar10"):
        DATASETS.lookup("imagenet")


def test_missing_file_says_what_was_tried(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    monkeypatch.setattr("keras.datasets.mnist.load_data", lambda: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(DatasetError) as error:
        load_dataset("mnist")
    assert str(tmp_path / "mnist.npz") in str(error.value)
    assert "keras.datasets.mnist.load_data()" in str(error.value)


def test_broken_file_is_reported(tmp_path, monkeypatch):
    (tmp_path / "cifar10.npz").write_bytes(b"not a zip file")
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match="not a readable dataset file"):
        load_dataset("cifar10")


def test_local_folder_round_trip(tmp_path, monkeypatch):
    x = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    y = np.arange(5, dtype=np.uint8)
    np.savez(tmp_path / "fashion_mnist.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    data = load_dataset("fashion_mnist")
    assert load_dataset("fashion_mnist") is data  # read once per folder
    assert data.x_test.dtype == np.uint8
    images = data.test_images(3)
    assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32
    assert images.max() <= 1.0 and np.isclose(images.max(), x[:3].max() / 255)
    assert data.label(3) == "Dress"


def test_photos_are_read_from_their_folders_in_landscape(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    pictures = {"train/a": (30, 40), "train/b": (40, 30), "val/c": (30, 40)}  # (height, width); b is portrait
    for name, size in pictures.items():
        (tmp_path / "photos" / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(tmp_path / "photos" / f"{name}.jpg")
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    data = load_dataset("photos")
    assert data.x_train.shape == (2, 30, 40, 3) and data.x_test.shape == (1, 30, 40, 3)
    portrait = np.asarray(Image.open(tmp_path / "photos" / "train" / "b.jpg"))
    np.testing.assert_array_equal(data.x_train[1], portrait.transpose(1, 0, 2))
    assert data.label(0) == "c" and data.test_images().dtype == np.float32


def test_missing_photos_name_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match=str(tmp_path / "photos" / "train")):
        load_dataset("photos")


@pytest.mark.parametrize("name", [name for name, spec in DATASETS.items() if spec.fixed_size])
def test_shared_data_has_keras_layout(name):
    need_data(name)
    data = load_dataset(name)
    assert data.x_train.dtype == np.uint8
    assert data.x_test.shape[1:] == DATASETS[name].shape[: 2 if name != "cifar10" else 3]
    assert len(data.x_test) == 10_000
    assert len(DATASETS[name].class_names) == 10


def test_datasets_are_read_once_per_folder(tmp_path, monkeypatch):
    for value, folder in ((0, tmp_path / "a"), (255, tmp_path / "b")):
        folder.mkdir()
        x = np.full((2, 28, 28), value, np.uint8)
        np.savez(folder / "mnist.npz", x_train=x, y_train=np.arange(2), x_test=x, y_test=np.arange(2))
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path / "a"))
    assert load_dataset("mnist").x_test.max() == 0
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path / "b"))
    assert load_dataset("mnist").x_test.min() == 255


def test_scikit_image_photos_load_whole_in_their_sizes_in_colour():
    spec = DATASETS["skimage_photos"]
    data = load_dataset("skimage_photos")
    images = data.test_images()
    assert spec.evaluation_only and len(data.x_train) == 0 and not spec.fixed_size
    assert [data.label(i) for i in range(len(images))] == list(spec.bundled)
    assert all(image.dtype == np.float32 and image.ndim == 3 and image.shape[-1] == 3 for image in images)
    assert len({image.shape for image in images}) > 1  # differing sizes, neither cropped nor turned
    astronaut, camera = images[spec.bundled.index("astronaut")], images[spec.bundled.index("camera")]
    np.testing.assert_array_equal(astronaut, skimage.data.astronaut() / np.float32(255))
    np.testing.assert_array_equal(camera, np.repeat(skimage.data.camera()[..., None], 3, -1) / np.float32(255))
    assert [image.shape for image in data.test_images(2)] == [image.shape for image in images[:2]]


def test_an_unshipped_scikit_image_picture_is_named():
    with pytest.raises(DatasetError, match="no picture named nope"):
        bundled_files(("astronaut", "nope"))
