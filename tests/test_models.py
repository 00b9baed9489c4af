import keras
import numpy as np
import pytest
import tensorflow as tf

from denoiser import models
from denoiser.models import latent_cvae, latent_vae


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


def test_residual_unet_subtracts_the_noise_it_predicts():
    """The network predicts the noise and subtracts it: with nothing learned, the input comes back unchanged."""
    model = models.build("res_unet", (32, 32, 1))
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape))
    x = np.random.default_rng(2).random((2, 32, 32, 1), dtype=np.float32)
    np.testing.assert_allclose(model(x), x, atol=1e-6)


def reach(model: keras.Model, multiple: int, size: int = 128) -> int:
    """The farthest input pixel an output depends on, over every phase of the strided grids, measured by gradient.

    Every weight is set positive and the input too, so no ReLU is ever off and no path cancels:
    an output depends on an input pixel exactly when some path joins them.
    """
    for weight in model.weights:
        weight.assign(np.full(weight.shape, 0.01, np.float32))
    x = tf.Variable(np.full((1, size, size, 3), 0.5, np.float32))
    farthest = 0
    for centre in range(size // 2, size // 2 + multiple):
        with tf.GradientTape() as tape:
            out = model(x)[0, centre, centre, 0]
        rows, cols = np.nonzero(np.abs(tape.gradient(out, x).numpy()[0]).sum(-1))
        farthest = max(farthest, np.abs(rows - centre).max(), np.abs(cols - centre).max())
    return int(farthest)


@pytest.mark.parametrize("options", [{}, {"widths": [8, 8]}, {"widths": [8, 8, 8, 8]},
                                     {"widths": [8, 8, 8], "unshuffle": True}])
def test_res_unet_geometry_is_the_measured_one(options):
    """The size multiple and receptive field that padding and tiling use match the built network."""
    spec = models.MODELS["res_unet"]
    multiple, field = spec.shape_rules(options)
    model = models.build("res_unet", (None, None, 3), **options)
    assert reach(model, multiple) == field
    fitting = np.zeros((1, multiple * 3, multiple * 5, 3), np.float32)
    assert model(fitting).shape == fitting.shape
    off_grid = np.zeros((1, multiple * 3 + multiple // 2, multiple * 5, 3), np.float32)
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError)):  # the skip connections no longer line up
        model(off_grid)


def test_save_and_load_round_trip(tmp_path):
    model = models.build("cnn_deep", (28, 28, 1))
    x = np.random.default_rng(1).random((2, 28, 28, 1), dtype=np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", compile=False)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)


def test_unknown_model():
    with pytest.raises(ValueError, match="res_unet"):
        models.build("vit", (28, 28, 1))


def test_vae_saves_and_loads_as_keras_file(tmp_path):
    model = models.build("latent_vae", (28, 28, 1), kl_weight=2.0)
    model.compile(optimizer="adam")
    x = np.random.default_rng(1).random((8, 28, 28, 1), dtype=np.float32)
    model.fit(x, x, epochs=1, batch_size=4, verbose=0)  # weights no longer the initial ones
    model.save(tmp_path / "vae.keras")
    loaded = keras.models.load_model(tmp_path / "vae.keras", compile=False)
    assert isinstance(loaded, latent_vae.VAE) and loaded.latent_dim == 16 and loaded.kl_weight == 2.0
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    z_mean, z_log_var = loaded.get_layer("encoder")(x)
    assert z_mean.shape == z_log_var.shape == (8, 16)


def test_vae_loss_is_reconstruction_plus_kl_to_a_unit_gaussian():
    """With the encoder's mean at 0 and its variance at 4, the KL term is 16 * 0.5 * (4 - 1 - ln 4)."""
    model = models.build("latent_vae", (28, 28, 1))
    encoder = model.get_layer("encoder")
    for name, bias in (("z_mean", 0.0), ("z_log_var", np.log(4.0))):
        kernel, _ = encoder.get_layer(name).get_weights()
        encoder.get_layer(name).set_weights([np.zeros_like(kernel), np.full(16, bias, np.float32)])
    x = np.random.default_rng(2).random((4, 28, 28, 1), dtype=np.float32)
    values, z_mean = model.losses_of((x, x), training=False)
    np.testing.assert_allclose(z_mean, 0.0)  # the means too, for an adversary to mix (training.latent_gan)
    assert float(values["kl"]) == pytest.approx(16 * 0.5 * (4 - 1 - np.log(4.0)), rel=1e-5)
    assert float(values["loss"]) == pytest.approx(float(values["reconstruction"] + values["kl"]), rel=1e-6)
    assert float(values["reconstruction"]) > 28 * 28 * 0.5  # summed over pixels, not averaged
    model.kl_weight = 4.0  # a beta-VAE weighs the KL term
    weighted, _ = model.losses_of((x, x), training=False)
    assert float(weighted["loss"]) == pytest.approx(float(weighted["reconstruction"] + 4 * weighted["kl"]), rel=1e-5)


def test_conditional_vae_draws_the_highest_scoring_class_and_learns_from_labels(tmp_path):
    model = models.build("latent_cvae", (28, 28, 1))
    rng = np.random.default_rng(3)
    x, labels = rng.random((8, 28, 28, 1), dtype=np.float32), np.arange(8) % 10
    model.compile(optimizer="adam")
    model.fit(x, x, epochs=1, batch_size=4, verbose=0, sample_weight=labels.astype(np.float32))  # third: labels
    model.save(tmp_path / "cvae.keras")
    loaded = keras.models.load_model(tmp_path / "cvae.keras", compile=False)
    assert isinstance(loaded, latent_cvae.ConditionalVAE) and loaded.classes == 10
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    code, z_log_var = loaded.get_layer("encoder")(x)
    assert code.shape == (8, 26) and z_log_var.shape == (8, 16)  # a 16-d style, then 10 class scores
    decoder, style = loaded.get_layer("decoder"), rng.normal(size=(2, 16)).astype(np.float32)
    scores = np.array([[0, 3, 2.9, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 5, -1]], np.float32)
    one_hot = np.eye(10, dtype=np.float32)[[1, 8]]  # a score of 3 against 2.9 is class 1 as surely as any
    np.testing.assert_allclose(decoder(np.concatenate([style, scores], 1)),
                               decoder(np.concatenate([style, one_hot], 1)), atol=1e-6)
    values, _ = loaded.losses_of((x, x, labels), training=False)
    expected = -np.log(np.take_along_axis(softmax(np.asarray(code)[:, 16:]), labels[:, None], 1)).mean()
    assert float(values["class"]) == pytest.approx(expected, rel=1e-4)  # cross-entropy with the labels given
    assert float(values["loss"]) == pytest.approx(
        float(values["reconstruction"] + values["kl"] + loaded.class_weight * values["class"]), rel=1e-5)
    assert loaded.class_weight == 100  # the labels weigh as much as the pixels: the ends of a walk keep their class


def softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
