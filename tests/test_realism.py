import numpy as np
import pytest
import scipy.linalg
from scipy.ndimage import gaussian_filter

from denoiser.datasets import load_dataset
from denoiser.noise import add_noise
from training import classifier, realism

from .conftest import need_data, synthetic_dataset


def test_frechet_distance_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(500, 20)) @ rng.normal(size=(20, 20))
    assert realism.frechet_distance(features, features) == pytest.approx(0, abs=1e-6)
    # a pure shift moves only the means: the distance is the squared length of the shift
    assert realism.frechet_distance(features + 0.5, features) == pytest.approx(20 * 0.25, rel=1e-6)
    assert realism.frechet_distance(features + 1.0, features) > realism.frechet_distance(features + 0.5, features)


def test_frechet_distance_is_fids_formula():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(400, 12)), rng.normal(size=(300, 12)) * 2 + 0.3
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a + cov_b)
                - 2 * np.trace(scipy.linalg.sqrtm(cov_a @ cov_b).real))
    assert realism.frechet_distance(a, b) == pytest.approx(expected, rel=1e-6)


def test_blur_lowers_the_high_frequency_ratio_and_noise_raises_it():
    clean = synthetic_dataset("cifar10", count=16).x_test.astype(np.float64) / 255
    blurred = gaussian_filter(clean, sigma=(0, 1, 1, 0))
    noisy = clean + np.random.default_rng(0).normal(0, 0.1, clean.shape)
    assert realism.high_frequency_ratio(clean, clean) == 1
    assert realism.high_frequency_ratio(blurred, clean) < 0.5
    assert realism.high_frequency_ratio(noisy, clean) > 1.5


def test_the_judge_scores_clean_images_as_the_reference_and_blur_as_further(tmp_path):
    data = synthetic_dataset("cifar10", count=128)
    classifier.train_classifier(data, tmp_path, "python -m training.classifier --dataset cifar10", 1, 1)
    clean = data.test_images()
    judge = realism.judge_for("cifar10", clean, data.y_test, tmp_path)
    own = judge.measure(clean)
    model = classifier.load("cifar10", tmp_path)
    expected = np.mean(np.argmax(model.predict(clean, verbose=0), -1) == data.y_test)
    assert own == pytest.approx({"hf_ratio": 1.0, "accuracy": expected, "fd": 0.0}, abs=1e-6)
    blurred = realism.judge_for("cifar10", clean, data.y_test, tmp_path).measure(
        gaussian_filter(clean, sigma=(0, 1.5, 1.5, 0)))
    assert blurred["fd"] > 1e-3 and blurred["hf_ratio"] < 0.5


def test_without_a_classifier_only_the_high_frequency_ratio_is_measured(tmp_path):
    clean = synthetic_dataset("cifar10", count=16).test_images()
    assert set(realism.judge_for("cifar10", clean, np.zeros(len(clean)), tmp_path).measure(clean)) == {"hf_ratio"}


def test_the_frechet_distance_tells_noise_from_the_sampling_spread_of_clean_images():
    """Two disjoint sets of clean test images must be far closer than noisy copies are to their clean
    images; on the classifier's flattened features (2,304 numbers for 500 images) they were not."""
    need_data("cifar10")
    if not classifier.path("cifar10").is_file():
        pytest.skip("no committed CIFAR-10 classifier")
    clean = load_dataset("cifar10").test_images(1000)
    judge = realism.judge_for("cifar10", clean[:500], np.zeros(500))
    other_clean, _ = judge.judge(clean[500:])
    spread = realism.frechet_distance(other_clean, judge.clean_features)
    assert spread < 0.05 * judge.measure(add_noise(clean[:500], "gaussian", 0.3, seed=0))["fd"]
