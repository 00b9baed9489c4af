"""A small version of the benchmark's load run against the real app: nothing fails, nothing is lost."""

from pathlib import Path

import numpy as np
from PIL import Image

from denoiser import ALL_ROUNDER
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
