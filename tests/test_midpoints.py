import argparse
import json

import numpy as np
import pytest

from denoiser import PATHS, inference
from denoiser.datasets import load_dataset
from denoiser.interpolation import MAX_PASSES
from training import classifier, midpoints, realism
from training.train import TrainConfig, train

from .conftest import synthetic_dataset


def test_confidence_is_the_mean_top_class_probability():
    assert midpoints.confidence(np.array([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])) == pytest.approx(0.6)


def test_random_pairs_are_repeatable_and_never_one_image_twice():
    first, second = midpoints.random_pairs(1000, 7)
    assert len(first) == 1000 and not np.any(first == second) and first.max() < 7 and second.max() < 7
    again = midpoints.random_pairs(1000, 7)
    assert np.array_equal(first, again[0]) and np.array_equal(second, again[1])


@pytest.fixture
def latent_weights(tmp_path, monkeypatch):
    """Synthetic MNIST, a few-step latent_ae and a few-step classifier, all in tmp_path."""
    data = synthetic_dataset("mnist", count=96)
    np.savez(tmp_path / "mnist.npz", x_train=data.x_train, y_train=data.y_train, x_test=data.x_test,
             y_test=data.y_test)
    monkeypatch.setenv("DENOISER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DENOISER_WEIGHTS_DIR", str(tmp_path / "w"))
    config = TrainConfig(dataset="mnist", model="latent_ae", epochs=1, steps_per_epoch=2, batch_size=16,
                         noise="none", eval_images=4, runs_dir=str(tmp_path / "runs"), weights_dir=str(tmp_path / "w"))
    train(config, data, "cmd")
    return tmp_path / "w"


def test_classifier_is_saved_recorded_and_loaded(latent_weights):
    record = classifier.train_classifier(load_dataset("mnist"), latent_weights, "cmd", epochs=2, patience=1)
    assert record["file"] == "mnist/classifier.keras" and 1 <= record["best_epoch"] <= record["epochs"] <= 2
    assert json.loads((latent_weights / classifier.RECORDS).read_text())["mnist"] == record
    written = classifier.path("mnist", latent_weights).stat().st_mtime_ns
    classifier.main(["--dataset", "mnist", "--weights-dir", str(latent_weights), "--epochs", "1", "--once"])
    assert classifier.path("mnist", latent_weights).stat().st_mtime_ns == written  # the same judge as before
    judge = classifier.load("mnist")
    probabilities = judge.predict(load_dataset("mnist").test_images(3), verbose=0)
    assert probabilities.shape == (3, 10) and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="python -m training.classifier --dataset cifar10"):
        classifier.load("cifar10")


def test_midpoints_are_decoded_halfway_and_scored_for_every_path(latent_weights, tmp_path):
    classifier.train_classifier(load_dataset("mnist"), latent_weights, "cmd", epochs=1, patience=1)
    ae = inference.load("mnist", "latent_ae")
    test = load_dataset("mnist").test_images()
    halfway = ae.decode((ae.encode(test[:3]) + ae.encode(test[3:6])) / 2)
    np.testing.assert_allclose(midpoints.midpoints(ae, test[:3], test[3:6], "linear"), halfway, atol=1e-5)
    midpoints.main(["--datasets", "mnist", "--pairs", "8", "--out", str(tmp_path / "out")])
    rows = json.loads((tmp_path / "out" / "midpoints.json").read_text())
    assert [(r["model"], r["path"], r["passes"]) for r in rows] == [
        (midpoints.REAL, "", None), *[("latent_ae", path, passes) for path in PATHS for passes in (0, MAX_PASSES)]]
    np.testing.assert_allclose(midpoints.midpoints(ae, test[:3], test[3:6], "linear", 2), ae.project(halfway, 2),
                               atol=1e-5)
    assert all(0.1 <= r["confidence"] <= 1 and r["fd"] >= 0 and r["hf_ratio"] >= 0 for r in rows)
    # the confidence split by the pair's classes: the overall figure is their mean, weighted by the pairs
    x, y = load_dataset("mnist").test_images(), load_dataset("mnist").y_test
    first, second = midpoints.test_pairs(8, len(x))
    share = np.mean(y[first] == y[second])
    assert 0 < share < 1  # both kinds of pair are there to check the split
    for row in rows[1:]:
        assert row["confidence"] == pytest.approx(share * row["one_class"] + (1 - share) * row["two_classes"], abs=2e-4)
    assert "one_class" not in rows[0]
    assert rows[0]["fd"] > 0 and rows[0]["hf_ratio"] != 1  # the real row is other images than the reference
    assert f"| MNIST | `latent_ae` | spherical | {MAX_PASSES} |" in (tmp_path / "out" / "midpoints.md").read_text()


def test_scores_put_real_images_at_the_floor_and_blur_below_it(latent_weights):
    classifier.train_classifier(load_dataset("mnist"), latent_weights, "cmd", epochs=1, patience=1)
    data = load_dataset("mnist")
    real = data.test_images(16)
    judge = realism.judge_for("mnist", real, data.y_test[:16])
    same = midpoints.scores(judge, real)
    assert same["fd"] == pytest.approx(0, abs=1e-3) and same["hf_ratio"] == 1
    blurred = (real + np.roll(real, 1, axis=1) + np.roll(real, 1, axis=2) + np.roll(real, (1, 1), axis=(1, 2))) / 4
    assert midpoints.scores(judge, blurred)["hf_ratio"] < 0.9
    assert midpoints.scores(judge, 1 - real)["fd"] > same["fd"] + 0.01
    # the confidence split by a mask of pairs: here real digits and their negatives, which it is unsure of
    images, mask = np.concatenate([real, 1 - real]), np.arange(32) < 16
    probabilities = judge.judge(images)[1]
    split = midpoints.scores(judge, images, mask)
    assert split["one_class"] == pytest.approx(midpoints.confidence(probabilities[mask]), abs=1e-4)
    assert split["two_classes"] == pytest.approx(midpoints.confidence(probabilities[~mask]), abs=1e-4)
    assert abs(split["one_class"] - split["two_classes"]) > 1e-3  # the two halves differ: a swap would show


def test_passes_option_takes_distinct_whole_numbers_in_order():
    assert midpoints.passes_list("4,0,4") == [0, 4]
    for wrong in ("abc", "0,", f"{MAX_PASSES + 1}", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"whole numbers from 0 to {MAX_PASSES}"):
            midpoints.passes_list(wrong)
