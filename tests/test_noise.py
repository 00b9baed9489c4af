import numpy as np
import pytest

from denoiser.noise import NOISES, add_noise, draw_noise

IMAGE = np.linspace(0, 1, 32 * 32 * 3, dtype=np.float32).reshape(32, 32, 3)


@pytest.mark.parametrize("kind", list(NOISES))
def test_same_seed_same_noise_and_range(kind):
    level = NOISES[kind].default
    a = add_noise(IMAGE, kind, level, seed=3)
    assert a.shape == IMAGE.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, add_noise(IMAGE, kind, level, seed=3))
    assert not np.array_equal(a, add_noise(IMAGE, kind, level, seed=4))
    assert not np.array_equal(a, IMAGE)


@pytest.mark.parametrize("shape", [(28, 28), (28, 28, 1), (5, 28, 28), (4, 32, 32, 3)])
def test_gray_colour_single_and_batch(shape):
    image = np.full(shape, 0.5, np.float32)
    assert add_noise(image, "gaussian", 0.1).shape == shape


def test_gaussian_sigma_is_the_level():
    noisy = add_noise(np.full((256, 256), 0.5, np.float32), "gaussian", 0.1, seed=0)
    assert abs(np.std(noisy - 0.5) - 0.1) < 0.005


def test_salt_pepper_fraction_of_pixels():
    noisy = add_noise(np.full((200, 200, 3), 0.5, np.float32), "salt_pepper", 0.2, seed=0)
    changed = np.any(noisy != 0.5, axis=-1)
    assert abs(changed.mean() - 0.2) < 0.01
    assert set(np.unique(noisy[changed])) == {0.0, 1.0}


def test_poisson_lower_peak_is_noisier():
    image = np.full((128, 128), 0.5, np.float32)
    assert np.std(add_noise(image, "poisson", 5)) > 2 * np.std(add_noise(image, "poisson", 100))


def test_speckle_spares_black():
    image = np.zeros((64, 64), np.float32)
    np.testing.assert_array_equal(add_noise(image, "speckle", 0.3), image)


def test_bad_kind_and_level():
    with pytest.raises(ValueError, match="gaussian, salt_pepper, speckle, poisson"):
        add_noise(IMAGE, "blur", 0.1)
    for level in (-0.1, "0.1", None, True):  # out of range, or no number at all
        with pytest.raises(ValueError, match="must lie in"):
            add_noise(IMAGE, "gaussian", level)
    assert add_noise(IMAGE, "gaussian", np.float64(0.1)).shape == IMAGE.shape
    np.testing.assert_array_equal(add_noise(IMAGE, "gaussian", np.array(0.1)), add_noise(IMAGE, "gaussian", 0.1))
    with pytest.raises(ValueError, match=r"got array\(\[0.1\]\)"):
        add_noise(IMAGE, "gaussian", np.array([0.1]))
    for seed in (2**63, 1.5, 3.0, np.float64(3), True, "7"):  # past int64, not whole, no int, not a number
        with pytest.raises(ValueError, match="The seed must be a whole number"):
            add_noise(IMAGE, "gaussian", 0.1, seed)
    np.testing.assert_array_equal(add_noise(IMAGE, seed=np.int64(-3)), add_noise(IMAGE, seed=-3))


def test_alpha_is_not_noised():
    rgba = np.full((16, 16, 4), 0.5, np.float32)
    rgba[..., 3] = np.linspace(0, 1, 16)
    noisy = add_noise(rgba, "gaussian", 0.3, seed=0)
    assert np.array_equal(noisy[..., 3], rgba[..., 3]) and not np.array_equal(noisy[..., :3], rgba[..., :3])


@pytest.mark.parametrize("kind", list(NOISES))
def test_training_noise_has_the_statistics_of_the_apps(kind):
    """Training draws its noise with NumPy (`draw`), the app and the evaluation with TensorFlow (`apply`):
    the same kind at the same level must give the same distribution, pixel by pixel and channel by channel."""
    clean = np.broadcast_to(np.linspace(0, 1, 128 * 128, dtype=np.float32).reshape(1, 128, 128, 1), (16, 128, 128, 3))
    level = NOISES[kind].default
    made = {"app": add_noise(clean, kind, level, seed=0),
            "training": draw_noise(clean, kind, level, np.random.default_rng(0))}

    def statistics(noisy: np.ndarray) -> np.ndarray:
        return np.array([noisy.mean(), (noisy - clean).std(), (noisy == 0).mean(), (noisy == 1).mean(),
                         (noisy == 0).all(axis=-1).mean(), (noisy == 1).all(axis=-1).mean()])

    np.testing.assert_allclose(statistics(made["training"]), statistics(made["app"]), atol=0.004)
    assert made["training"].dtype == np.float32 and made["training"].shape == clean.shape
