import subprocess
import sys

import numpy as np
import pytest

from denoiser.baselines import BASELINES, known_sigma, run_baseline
from denoiser.config import PROJECT_ROOT
from denoiser.metrics import batch_psnr, mean_scores, psnr, ssim
from denoiser.noise import add_noise


def _smooth(shape):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    image = 0.5 + 0.3 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    return np.repeat(image[..., None], shape[2], axis=-1).astype(np.float32)


def test_psnr_of_known_error():
    clean = np.full((10, 10, 1), 0.5, np.float32)
    assert psnr(clean, clean + 0.1) == pytest.approx(20.0, abs=1e-4)
    assert mean_scores(clean[None], clean[None])["psnr"] == 100.0


def test_ssim_on_tiny_images():
    assert ssim(np.zeros((5, 5, 1)), np.zeros((5, 5, 1))) == pytest.approx(1.0)
    assert np.isnan(ssim(np.zeros((1, 1, 3)), np.zeros((1, 1, 3))))


@pytest.mark.parametrize("name", list(BASELINES))
@pytest.mark.parametrize("channels", [1, 3])
def test_baselines_improve_gaussian_noise_and_keep_shape(name, channels):
    clean = _smooth((32, 32, channels))
    noisy = add_noise(clean, "gaussian", 0.1, seed=0)
    restored = run_baseline(name, noisy, 0.1)
    assert restored.shape == clean.shape and restored.dtype == np.float32
    assert psnr(clean, restored) > psnr(clean, noisy) + 2


def test_median_removes_salt_and_pepper():
    clean = _smooth((32, 32, 1))
    noisy = add_noise(clean, "salt_pepper", 0.05, seed=0)
    assert psnr(clean, run_baseline("median", noisy)) > psnr(clean, noisy) + 8


def test_bm3d_is_offered_only_where_it_works():
    bm3d = BASELINES["bm3d"]
    assert bm3d.suits("gaussian", (32, 32))
    assert not bm3d.suits("salt_pepper", (32, 32))
    assert not bm3d.suits("gaussian", (8, 8))
    assert not bm3d.suits("gaussian", (2000, 2000))
    assert bm3d.applies("gaussian", (2000, 2000)) and not bm3d.applies("gaussian", (8, 8))  # the evaluation waits
    assert not bm3d.applies("salt_pepper", (32, 32))


def test_only_gaussian_noise_hands_its_level_to_the_baselines_as_sigma():
    assert known_sigma("gaussian", np.float32(0.25)) == 0.25 and type(known_sigma("gaussian", 1)) is float
    assert [known_sigma(kind, 0.2) for kind in ("salt_pepper", "speckle", "poisson")] == [None] * 3


def test_batch_psnr_is_the_mean_of_per_image_psnr_capped_at_50_db():
    rng = np.random.default_rng(3)
    clean = rng.random((3, 8, 8, 1)).astype(np.float32)
    test = np.clip(clean + rng.normal(0, [[[[0.05]]], [[[0.1]]], [[[0.2]]]], clean.shape), 0, 1).astype(np.float32)
    expected = np.mean([psnr(c, t) for c, t in zip(clean, test)])
    assert float(batch_psnr(clean, test)) == pytest.approx(expected, abs=0.01)
    assert float(batch_psnr(clean, clean)) == pytest.approx(50.0)


def test_alpha_is_kept_by_baselines_and_not_scored():
    clean = _smooth((32, 32, 3))
    alpha = np.linspace(0, 1, 32 * 32, dtype=np.float32).reshape(32, 32, 1)
    noisy = add_noise(clean, "gaussian", 0.1, seed=0)
    restored = run_baseline("median", np.concatenate([noisy, alpha], axis=-1))
    assert restored.shape == (32, 32, 4) and np.array_equal(restored[..., 3:], alpha)
    assert psnr(np.concatenate([clean, alpha], -1), restored) == psnr(clean, restored[..., :3])
    assert ssim(np.concatenate([clean, alpha], -1), restored) == ssim(clean, restored[..., :3])


def test_bm3d_runs_from_several_threads_at_once_without_aborting_the_process() -> None:
    """The app runs requests side by side; bm3d's native thread pool aborted the server when two overlapped."""
    code = ("import threading, numpy as np; from denoiser.baselines import run_baseline\n"
            "image = np.random.default_rng(0).random((32, 32, 1)).astype(np.float32)\n"
            "def run():\n    for _ in range(2): run_baseline('bm3d', image, 0.1)\n"
            "threads = [threading.Thread(target=run) for _ in range(3)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]; print('done')")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr[-500:]
