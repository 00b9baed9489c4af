import numpy as np
import pytest

import denoiser
from denoiser.models import MODELS
from denoiser.weights import read_manifest
from training import gan, train

from .conftest import synthetic_dataset


def _weights(network) -> list[np.ndarray]:
    return [np.array(w) for w in network.get_weights()]


def _changed(before, after) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


def test_a_train_step_moves_both_networks_and_reports_both_losses():
    generator = MODELS["res_unet_gan"].build((None, None, 3))
    model = gan.ConditionalGAN(generator, train.keras.losses.get("mae"), adversarial_weight=0.5)
    model.compile(*(train.keras.optimizers.Adam(1e-3) for _ in range(2)))
    clean = synthetic_dataset("cifar10", count=16).x_train[:8].astype(np.float32) / 255
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.3, clean.shape), 0, 1).astype(np.float32)
    g_before, d_before = _weights(model.generator), _weights(model.discriminator)
    logs = model.train_on_batch(noisy, clean, return_dict=True)
    assert _changed(g_before, _weights(model.generator)) and _changed(d_before, _weights(model.discriminator))
    assert {"loss", "pixel", "adversarial", "d_loss", "psnr"} <= set(logs)
    # the generator's loss is its pixel loss plus the weighted adversarial term
    assert logs["loss"] == pytest.approx(logs["pixel"] + 0.5 * logs["adversarial"], rel=1e-4)


def test_the_gan_trains_through_training_train_and_saves_a_plain_generator(tmp_path, monkeypatch):
    runs, weights = tmp_path / "runs", tmp_path / "weights"
    data = synthetic_dataset("cifar10", count=64)
    base = train.TrainConfig(dataset="cifar10", model="res_unet_gaussian", epochs=1, steps_per_epoch=2,
                             batch_size=8, eval_images=8, runs_dir=str(runs), weights_dir=str(weights))
    train.train(base, data, "python -m training.train --model res_unet_gaussian")
    start = weights / "cifar10" / "res_unet_gaussian.keras"
    config = train.parse_args(["--dataset", "cifar10", "--model", "res_unet_gan", "--epochs", "1",
                               "--steps-per-epoch", "2", "--batch-size", "8", "--eval-images", "8",
                               "--adversarial-weight", "0.2", "--init-from", str(start),
                               "--runs-dir", str(runs), "--weights-dir", str(weights)])
    entry = train.train(config, data, "python -m training.train --model res_unet_gan")
    assert entry.config["adversarial_weight"] == 0.2 and "&&" in entry.command  # the chain from the specialist
    assert list((runs / "cifar10" / "res_unet_gan" / "logs").rglob("events.out.tfevents.*"))
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(weights))
    den = denoiser.load("cifar10", model="res_unet_gan")
    assert den.model.name == "res_unet" and den.model.count_params() == entry.params  # the generator alone
    start_net = denoiser.load("cifar10", model="res_unet_gaussian").model
    assert _changed(_weights(start_net), _weights(den.model))
    assert {e.model for e in read_manifest(weights)} == {"res_unet_gaussian", "res_unet_gan"}
    # trained, yet never what "auto" picks: the Gaussian specialist stays the default
    assert denoiser.best_model("cifar10", "gaussian") == "res_unet_gaussian"
    assert denoiser.best_model("cifar10", None) != "res_unet_gan"


def test_the_gan_is_never_self_ensembled(gan_weights, monkeypatch):
    """Averaging 8 views of a GAN's output would blur back the texture it was trained to make."""
    image = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    views = []
    for name in ("res_unet", "res_unet_gan"):
        den = denoiser.load("cifar10", model=name)
        monkeypatch.setattr(den, "_ensemble", lambda batch, progress, name=name: views.append(name)
                            or den._once(batch, progress))
        den.denoise(image)
    assert views == ["res_unet"]  # CIFAR-10's other models are ensembled by default
