"""A small version of the benchmark's load run against the real app: nothing fails, nothing is lost."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from denoiser import ALL_ROUNDER, LATENT
from denoiser.config import settings
from training import benchmark
from training.appserver import running_app
from training.benchmark import CLIENTS, load_run

from .conftest import need_weights

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def test_concurrent_clients_all_get_answers(tmp_path):
    need_weights("mnist", ALL_ROUNDER)
    image = tmp_path / "digit.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)).save(image)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with running_app(ARTIFACTS / "load-app.log") as app:
        results = {how: load_run(app.url, clients=4, requests=3, image=image, how=how) for how in CLIENTS}
        refused = load_run(app.url, clients=1, requests=2, image=broken)  # the app's error counts as a failure
        assert app.process.poll() is None  # still serving
    for result in results.values():
        assert result.failures == 0
        assert len(result.latencies) == 12
    assert (refused.failures, refused.latencies) == (2, [])


def test_timing_the_models_again_keeps_the_apps_figures(tmp_path):
    need_weights("mnist", "res_unet_gaussian")
    need_weights("mnist", LATENT)
    app = json.loads((settings().results_dir / "benchmark.json").read_text())["app"]  # the committed figures
    out = tmp_path / "benchmark.json"
    out.write_text(json.dumps({"app": app, "speed": []}))
    benchmark.main(["--skip-app", "--sizes", "28", "--bm3d-max", "0", "--out", str(out)])
    figures = json.loads(out.read_text())
    assert figures["app"] == app  # measured by an earlier run, kept
    assert [row["size"] for row in figures["speed"]] == ["28×28×1"] and figures["speed"][0]["bm3d_s"] is None
    assert len(figures["speed_load_average"]) == 2  # the speed run's own, beside the app run's kept in "app"
    with pytest.raises(SystemExit):
        benchmark.main(["--skip-app", "--skip-speed", "--out", str(out)])  # nothing to measure
    with pytest.raises(SystemExit):
        benchmark.main(["--skip-speed", "--out", str(tmp_path / "none.json")])  # no speed figures to keep
