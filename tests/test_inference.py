import dataclasses
import shutil
import warnings

import keras
import numpy as np
import pytest

import denoiser
from denoiser import inference, interpolation
from denoiser.models import build
from denoiser.weights import WeightsEntry, write_entry

from .conftest import synthetic_dataset


def test_list_models_reads_the_manifest(use_weights):
    pairs = {(e.dataset, e.model) for e in denoiser.list_models()}
    assert pairs == {("mnist", "res_unet"), ("mnist", "latent_ae"), ("mnist", "res_unet_gaussian"),
                     ("cifar10", "res_unet"), ("cifar10", "latent_ae")}
    entry = denoiser.list_models()[0]
    assert entry.params > 0 and "gaussian_0.1" in entry.metrics


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1), (3, 28, 28), (2, 28, 28, 1), (30, 45), (28, 28, 3)])
def test_denoise_returns_the_shape_it_was_given(use_weights, shape):
    noisy = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = denoiser.load("mnist").denoise(noisy)
    assert out.shape == shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_colour_model_takes_gray_and_rgba(use_weights):
    den = denoiser.load("cifar10")
    assert den.denoise(np.full((20, 24), 0.5, np.float32)).shape == (20, 24)
    rgba = np.random.default_rng(0).random((16, 16, 4), dtype=np.float32)
    out = den.denoise(rgba)
    assert out.shape == (16, 16, 4)
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])


def test_fixed_size_model_resizes_and_says_so(use_weights):
    ae = denoiser.load("mnist", model="latent_ae")
    with pytest.warns(denoiser.ResizedWarning, match="resized"):
        out = ae.denoise(np.zeros((40, 40), np.float32))
    assert out.shape == (40, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ae.denoise(np.zeros((28, 28), np.float32))


def test_tiles_match_the_whole_image(use_weights, monkeypatch):
    den = denoiser.load("cifar10")
    image = np.random.default_rng(0).random((160, 124, 3), dtype=np.float32)
    whole = den.denoise(image)
    monkeypatch.setenv("DENOISER_TILE", "32")
    calls = []
    tiled = den.denoise(image, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] > 1
    np.testing.assert_allclose(tiled, whole, atol=1e-3)


def test_self_ensemble_averages_the_eight_orientations(use_weights, monkeypatch):
    den = denoiser.load("cifar10")
    image = 0.3 + 0.4 * np.random.default_rng(1).random((20, 12, 3), dtype=np.float32)  # mid-gray: no clipping
    single = den.denoise(image, ensemble=False)
    views = [np.rot90(den.denoise(np.rot90(image[:, ::-1] if mirror else image, k), ensemble=False), -k)
             for k in range(4) for mirror in (False, True)]
    views = [v[:, ::-1] if i % 2 else v for i, v in enumerate(views)]
    np.testing.assert_allclose(den.denoise(image, ensemble=True), np.clip(np.mean(views, axis=0), 0, 1), atol=1e-4)
    assert not np.allclose(den.denoise(image, ensemble=True), single, atol=1e-4)
    monkeypatch.setenv("DENOISER_ENSEMBLE_MAX_PIXELS", str(20 * 12))
    np.testing.assert_array_equal(den.denoise(image), den.denoise(image, ensemble=True))  # on up to the limit
    monkeypatch.setenv("DENOISER_ENSEMBLE_MAX_PIXELS", str(20 * 12 - 1))
    np.testing.assert_array_equal(den.denoise(image), single)  # off above it


def test_self_ensemble_is_off_by_default_for_upright_data(use_weights):
    den = denoiser.load("mnist")  # digits have an up: turning them would hurt
    image = np.random.default_rng(2).random((28, 28), dtype=np.float32)
    np.testing.assert_array_equal(den.denoise(image), den.denoise(image, ensemble=False))
    assert not np.allclose(den.denoise(image, ensemble=True), den.denoise(image), atol=1e-4)


def test_too_many_pixels_is_refused(use_weights, monkeypatch):
    monkeypatch.setenv("DENOISER_MAX_PIXELS", "1000")
    with pytest.raises(denoiser.ImageError, match="limit is 1,000"):
        denoiser.load("mnist").denoise(np.zeros((40, 40), np.float32))


def test_models_load_once_per_weights_folder(use_weights, tmp_path, monkeypatch):
    assert denoiser.load("mnist") is denoiser.load("mnist", model="res_unet")
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))  # a folder without weights
    with pytest.raises(denoiser.WeightsError, match="Trained models: none"):
        denoiser.load("mnist", model="res_unet")


def test_the_noise_kind_picks_its_specialist_where_one_is_trained(use_weights):
    assert denoiser.best_model("mnist", "gaussian") == denoiser.SPECIALISTS["gaussian"]
    assert denoiser.load("mnist", noise="gaussian").name == denoiser.SPECIALISTS["gaussian"]
    assert denoiser.best_model("mnist", "salt_pepper") == denoiser.best_model("mnist") == denoiser.ALL_ROUNDER
    assert denoiser.best_model("cifar10", "gaussian") == denoiser.ALL_ROUNDER  # no specialist trained there
    assert denoiser.load("mnist", model="res_unet", noise="gaussian").name == "res_unet"  # a named model wins


def test_photos_run_cifar10_models_until_their_own_are_trained(use_weights, tmp_path, monkeypatch):
    for dataset in ("photos", "skimage_photos"):  # scikit-image's photos fall back on photos, and so on CIFAR-10
        assert denoiser.load(dataset).entry.dataset == "cifar10"
        assert denoiser.trained_models(dataset) == {"res_unet": "cifar10", "latent_ae": "cifar10"}
    folder = tmp_path / "weights"
    shutil.copytree(use_weights, folder)
    entry = next(e for e in denoiser.read_manifest() if (e.dataset, e.model) == ("mnist", "res_unet_gaussian"))
    own = dataclasses.replace(entry, dataset="photos")
    (folder / "photos").mkdir()
    shutil.copy(folder / entry.file, folder / own.file)
    write_entry(own, folder)
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(folder))
    assert denoiser.trained_models("photos")["res_unet_gaussian"] == "photos"
    assert denoiser.load("photos", noise="gaussian").entry.dataset == "photos"  # its own specialist
    assert denoiser.load("photos", noise="salt_pepper").entry.dataset == "cifar10"  # no own all-rounder yet
    assert denoiser.trained_models("skimage_photos") == {"res_unet": "cifar10", "latent_ae": "cifar10",
                                                         "res_unet_gaussian": "photos"}
    assert denoiser.load("skimage_photos", noise="gaussian").entry.dataset == "photos"


def test_missing_weights_list_what_exists(use_weights):
    with pytest.raises(denoiser.WeightsError, match=r"Trained fashion_mnist models: none \(datasets with trained "
                                                    r"models: cifar10, mnist\)\.$"):
        denoiser.load("fashion_mnist")
    with pytest.raises(denoiser.UnknownName, match="Unknown dataset"):
        denoiser.load("svhn")
    with pytest.raises(denoiser.UnknownName, match="Unknown model 'foo'"):
        denoiser.load("mnist", model="foo")
    with pytest.raises(denoiser.UnknownName, match="Unknown noise kind 'gausian'"):
        denoiser.load("mnist", noise="gausian")  # a misspelt kind, not silently the all-rounder
    for falsy in ("", 0):  # only None means "the best for the noise"
        with pytest.raises(denoiser.UnknownName, match=f"Unknown model {falsy!r}"):
            denoiser.load("mnist", model=falsy)


def test_a_uint8_image_is_denoised_like_the_same_image_in_floats(use_weights):
    den = denoiser.load("mnist")
    pixels = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)
    np.testing.assert_allclose(den.denoise(pixels), den.denoise(pixels / np.float32(255)), atol=1e-6)


def test_encode_decode_and_interpolate(use_weights):
    ae = denoiser.load("cifar10", model=denoiser.LATENT)
    assert isinstance(ae, inference.Autoencoder)
    rng = np.random.default_rng(0)
    a, b = rng.random((32, 32, 3), dtype=np.float32), rng.random((32, 32), dtype=np.float32)
    z = ae.encode(np.stack([a, a]))
    assert z.shape == (2, 64)
    assert ae.decode(z).shape == (2, 32, 32, 3)
    frames = denoiser.interpolate(ae, a, b, steps=5)
    assert frames.shape == (5, 32, 32, 3)
    np.testing.assert_allclose(frames[0], ae.decode(ae.encode(a))[0], atol=1e-5)
    np.testing.assert_allclose(frames[2], ae.decode((ae.encode(a) + ae.encode(b)) / 2)[0], atol=1e-5)
    np.testing.assert_allclose(ae.decode_line(ae.encode(a)[0], ae.encode(b)[0], steps=5), frames, atol=1e-6)
    np.testing.assert_allclose(ae.decode_between(ae.encode(a)[0], ae.encode(b)[0], 0.25), frames[1:2], atol=1e-6)
    for steps in (1, None, float("nan"), float("inf"), 2.5, interpolation.MAX_STEPS + 1):
        with pytest.raises(ValueError, match="whole number of steps from 2"):
            denoiser.interpolate(ae, a, b, steps=steps)
    for t in (float("nan"), [], np.zeros(interpolation.MAX_STEPS + 1), "half"):
        with pytest.raises(ValueError, match="finite numbers"):
            ae.decode_between(z[0], z[1], t)
    for latents in (np.zeros((1, 3)), np.full((1, 64), np.nan), "z"):
        with pytest.raises(ValueError, match="latent vectors of 64 numbers"):
            ae.decode(latents)
    with pytest.raises(ValueError, match="two latent vectors of one size"):
        ae.decode_line(z, z[0], steps=2)  # a batch is not a vector
    with pytest.raises(TypeError, match="'res_unet' has no latent space to walk"):
        denoiser.interpolate(denoiser.load("cifar10", model="res_unet"), a, b)


def test_projection_sends_decodings_back_through_the_model(use_weights):
    ae = denoiser.load("cifar10", model=denoiser.LATENT)
    a, b = np.random.default_rng(1).random((2, 32, 32, 3), dtype=np.float32)
    z_a, z_b = ae.encode(a)[0], ae.encode(b)[0]
    decoded = ae.decode_between(z_a, z_b, [0.0, 0.5])
    twice = ae.decode(ae.encode(ae.decode(ae.encode(decoded))))
    np.testing.assert_allclose(ae.project(decoded, 0), decoded)
    np.testing.assert_allclose(ae.project(decoded, 2), twice, atol=1e-5)
    np.testing.assert_allclose(ae.decode_between(z_a, z_b, [0.0, 0.5], passes=2), twice, atol=1e-5)
    np.testing.assert_allclose(denoiser.interpolate(ae, a, b, steps=3, passes=2)[:2], twice, atol=1e-5)
    assert not np.allclose(twice, decoded, atol=1e-3)  # a pass changes the images
    for wrong in (-1, 1.5, interpolation.MAX_PASSES + 1, 10**400, float("nan"), "2", True):
        with pytest.raises(ValueError, match=f"whole number from 0 to {interpolation.MAX_PASSES}"):
            ae.project(decoded, wrong)


def test_latent_models_put_the_vae_first_then_the_plain_autoencoder(use_weights, tmp_path, monkeypatch):
    assert denoiser.latent_models("mnist") == [denoiser.LATENT]  # res_unet and its specialist have no latent space
    shutil.copytree(use_weights, tmp_path / "weights")
    plain = next(e for e in denoiser.read_manifest() if (e.dataset, e.model) == ("mnist", denoiser.LATENT))
    for model in (denoiser.STUDY_WINNER, denoiser.VAE):
        write_entry(dataclasses.replace(plain, model=model), tmp_path / "weights")
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path / "weights"))
    assert denoiser.latent_models("mnist") == [denoiser.VAE, denoiser.LATENT, denoiser.STUDY_WINNER]
    assert denoiser.latent_models("fashion_mnist") == []


def test_a_vae_loads_encodes_its_mean_and_walks_both_paths(tmp_path, monkeypatch):
    from training.train import TrainConfig, train

    config = TrainConfig(dataset="mnist", model="latent_vae", epochs=1, steps_per_epoch=3, batch_size=16,
                         noise="none", eval_images=8, runs_dir=str(tmp_path / "runs"), weights_dir=str(tmp_path))
    train(config, synthetic_dataset("mnist"), "python -m training.train --dataset mnist --model latent_vae")
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path))
    vae = denoiser.load("mnist", model="latent_vae")
    assert isinstance(vae, inference.Autoencoder)
    a, b = synthetic_dataset("mnist").test_images(2)
    z_a, z_b = vae.encode(a)[0], vae.encode(b)[0]
    z_mean, _ = vae.model.get_layer("encoder")(a[None])
    np.testing.assert_allclose(z_a, z_mean[0], atol=1e-6)
    for path in denoiser.PATHS:
        frames = denoiser.interpolate(vae, a, b, steps=3, path=path)
        expected = vae.decode(interpolation.points(path, z_a, z_b, [0.0, 0.5, 1.0]))
        np.testing.assert_allclose(frames, expected, atol=1e-5)
    line, arc = (vae.decode_between(z_a, z_b, 0.5, path) for path in ("linear", "spherical"))
    assert not np.allclose(line, arc)


@pytest.mark.parametrize("name, options", [
    *[(name, {}) for name, spec in denoiser.MODELS.items() if spec.fully_convolutional],
    ("res_unet", {"widths": [8, 8, 8, 8]}), ("res_unet", {"widths": [8, 8], "unshuffle": True})])
def test_every_fully_convolutional_model_tiles_exactly(name, options, monkeypatch):
    """The receptive field each network is given is wide enough: tiles of a fresh one match its whole-image output.

    A network built with options (a deeper U-Net, FFDNet's front end) is padded and tiled by the
    manifest entry's options, not by its registry name's defaults.
    """
    keras.utils.set_random_seed(0)
    entry = WeightsEntry("cifar10", name, "", {"options": options}, 0, 0.0, 0)
    den = inference.Denoiser(entry, build(name, (None, None, 3), **options))
    image = np.random.default_rng(0).random((200, 184, 3), dtype=np.float32)
    whole = den.denoise(image, ensemble=False)
    monkeypatch.setenv("DENOISER_TILE", "36")  # not a multiple of 8: tiles are cut to the network's own multiple
    np.testing.assert_allclose(den.denoise(image, ensemble=False), whole, atol=1e-5)


@pytest.mark.parametrize("name", [name for name, spec in denoiser.MODELS.items() if spec.fully_convolutional])
def test_every_fully_convolutional_model_takes_images_smaller_than_its_reach(name):
    """Sides under a network's receptive field are padded up to it (an unpadded network has no room in a 4-pixel
    side), and a tiny image's result does not depend on the sizes run before it."""
    keras.utils.set_random_seed(0)
    den = inference.Denoiser(WeightsEntry("cifar10", name, "", {}, 0, 0.0, 0), build(name, (None, None, 3)))
    image = np.random.default_rng(0).random((70, 70, 3), dtype=np.float32)
    sizes = [(1, 1), (4, 4), (1, 50), (3, 70), (13, 13)]
    first = [den.denoise(image[:h, :w], ensemble=False) for h, w in sizes]
    for (h, w), out in zip(sizes, first):
        assert out.shape == (h, w, 3) and np.isfinite(out).all()
    for (h, w), out in zip(reversed(sizes), reversed(first)):
        np.testing.assert_allclose(den.denoise(image[:h, :w], ensemble=False), out, atol=1e-5)


def test_latent_models_run_many_inputs_a_batch_at_a_time(use_weights, monkeypatch):
    """Encoding or decoding a thousand images must not feed the network a thousand at once."""
    ae = denoiser.load("cifar10", model=denoiser.LATENT)
    images = np.random.default_rng(2).random((7, 32, 32, 3), dtype=np.float32)
    whole_z, whole = ae.encode(images), ae.decode(ae.encode(images))
    monkeypatch.setattr(inference, "BATCH", 3)
    fed = []
    constant = inference.tf.constant
    monkeypatch.setattr(inference.tf, "constant", lambda value, *args, **kwargs: fed.append(len(value)) or constant(
        value, *args, **kwargs))
    z = ae.encode(images)
    np.testing.assert_allclose(ae.decode(z), whole, atol=1e-5)
    np.testing.assert_allclose(z, whole_z, atol=1e-5)
    assert fed == [3, 3, 1, 3, 3, 1]
    assert ae.decode(np.zeros((0, 64))).shape == (0, 32, 32, 3)  # none in, none out
