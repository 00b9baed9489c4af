import keras
import numpy as np
import pytest
from keras import ops

import denoiser
from denoiser.models import MODELS
from denoiser.weights import read_manifest
from training import latent_gan, train

from .conftest import synthetic_dataset


def _weights(network) -> list[np.ndarray]:
    return [np.array(w) for w in network.get_weights()]


def _changed(before, after) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def _images(count: int = 16) -> np.ndarray:
    return synthetic_dataset("mnist", count=2 * count).x_train[:count, ..., None].astype(np.float32) / 255


def test_a_train_step_moves_both_networks_and_adds_the_weighted_term_to_the_elbo():
    vae = MODELS["latent_vae_gan"].build((28, 28, 1))
    model = latent_gan.LatentGAN(vae, adversarial_weight=20.0)
    model.compile(*(keras.optimizers.Adam(1e-3) for _ in range(2)))
    images = _images()
    v_before, d_before = _weights(model.generator), _weights(model.discriminator)
    logs = model.train_on_batch(images, images, return_dict=True)
    assert _changed(v_before, _weights(model.generator)) and _changed(d_before, _weights(model.discriminator))
    assert {"loss", "reconstruction", "kl", "adversarial", "d_loss", "psnr"} <= set(logs)
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + vae.kl_weight * logs["kl"]
                                         + 20.0 * logs["adversarial"], rel=1e-4)


def test_the_fakes_are_decodings_of_points_between_two_images_codes():
    vae = MODELS["latent_vae_gan"].build((28, 28, 1))
    model = latent_gan.LatentGAN(vae, adversarial_weight=1.0)
    codes = np.random.default_rng(0).normal(size=(6, vae.latent_dim)).astype(np.float32)
    same = np.repeat(codes[:1], 6, axis=0)  # the line from a code to itself is that code
    np.testing.assert_allclose(model.between(ops.convert_to_tensor(same), training=False),
                               vae.decoder(same, training=False), atol=1e-5)
    own = np.array(vae.decoder(codes, training=False))
    mixed = [np.array(model.between(ops.convert_to_tensor(codes), training=False)) for _ in range(2)]
    assert not np.allclose(mixed[0], own, atol=1e-4)  # not the images' own decodings
    assert not np.allclose(*mixed, atol=1e-4)  # a fresh fraction every call


def test_the_vae_gan_trains_through_training_train_and_saves_a_plain_vae(tmp_path, monkeypatch):
    runs, weights = tmp_path / "runs", tmp_path / "weights"
    data = synthetic_dataset("mnist", count=64)
    common = ["--dataset", "mnist", "--noise", "none", "--epochs", "1", "--steps-per-epoch", "2",
              "--batch-size", "8", "--eval-images", "8", "--runs-dir", str(runs), "--weights-dir", str(weights)]
    vae_command = "python -m training.train --model latent_vae"
    train.train(train.parse_args([*common, "--model", "latent_vae"]), data, vae_command)
    start = weights / "mnist" / "latent_vae.keras"
    config = train.parse_args([*common, "--model", "latent_vae_gan", "--adversarial-weight", "20",
                               "--init-from", str(start)])
    entry = train.train(config, data, "python -m training.train --model latent_vae_gan")
    assert entry.config["adversarial_weight"] == 20 and "&&" in entry.command  # the chain from the VAE
    assert list((runs / "mnist" / "latent_vae_gan" / "logs").rglob("events.out.tfevents.*"))
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(weights))
    gan_vae, vae = (denoiser.load("mnist", model=name) for name in ("latent_vae_gan", "latent_vae"))
    assert isinstance(gan_vae, denoiser.inference.Autoencoder)
    assert gan_vae.model.count_params() == vae.model.count_params() == entry.params  # the VAE alone
    assert _changed(_weights(vae.model), _weights(gan_vae.model))
    assert {e.model for e in read_manifest(weights)} == {"latent_vae", "latent_vae_gan"}
    assert denoiser.latent_models("mnist") == [denoiser.VAE_GAN, denoiser.VAE]  # the walk's default first


@pytest.mark.parametrize("model", ["latent_vae_gan", "res_unet_gan"])
def test_an_adversarial_run_takes_its_models_own_weight_unless_given_one(model):
    common = ["--dataset", "mnist", "--model", model, "--noise", "none"]
    network = MODELS[model].build((28, 28, 1))
    default = train.compiled(network, train.parse_args(common), steps=1)
    given = train.compiled(network, train.parse_args([*common, "--adversarial-weight", "7"]), steps=1)
    assert default.adversarial_weight == MODELS[model].adversarial_weight and given.adversarial_weight == 7


def test_the_fraction_along_the_line_comes_from_the_vaes_own_generator():
    # a second generator with the VAE's seed would draw the fraction in lockstep with the VAE's sampling noise
    vae = MODELS["latent_vae_gan"].build((28, 28, 1))
    model = latent_gan.LatentGAN(vae, adversarial_weight=1.0)
    before = np.array(vae.seed_generator.state)
    model.between(ops.zeros((4, vae.latent_dim)), training=False)
    assert not np.array_equal(before, np.array(vae.seed_generator.state))
