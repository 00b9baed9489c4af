import keras
import numpy as np
import pytest

from denoiser import models


@pytest.mark.parametrize("name", list(models.MODELS))
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_every_model_builds_and_keeps_the_shape(name, shape):
    model = models.build(name, shape)
    out = model(np.random.default_rng(0).random((2, *shape), dtype=np.float32))
    assert tuple(out.shape) == (2, *shape)


@pytest.mark.parametrize("name", [n for n, s in models.MODELS.items() if s.fully_convolutional])
def test_fully_convolutional_models_take_other_sizes(name):
    model = models.build(name, (28, 28, 3))
    assert tuple(model(np.zeros((1, 48, 64, 3), np.float32)).shape) == (1, 48, 64, 3)


def test_study_winner_matches_its_description():
    model = models.build("cnn_dense", (28, 28, 1))
    encoder = model.get_layer("encoder")
    assert encoder.output.shape[-1] == 16
    convs = [layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 64] and all(c.strides == (2, 2) for c in convs)
    assert models.build("cnn_dense_large", (32, 32, 3)).count_params() > 5 * models.build(
        "cnn_dense", (32, 32, 3)).count_params()


def test_residual_unet_learns_the_noise():
    """The network predicts the noise and subtracts it: with nothing learned, the input comes back unchanged."""
    model = models.build("res_unet", (32, 32, 1))
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape))
    x = np.random.default_rng(2).random((2, 32, 32, 1), dtype=np.float32)
    np.testing.assert_allclose(model(x), x, atol=1e-6)


def test_save_and_load_round_trip(tmp_path):
    model = models.build("cnn_deep", (28, 28, 1))
    x = np.random.default_rng(1).random((2, 28, 28, 1), dtype=np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def test_unknown_model():
    with pytest.raises(ValueError, match="res_unet"):
        models.build("vit", (28, 28, 1))
