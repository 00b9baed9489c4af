"""The README's examples run as a new user would run them: copied whole, in a folder of their own."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from denoiser.config import PROJECT_ROOT

from .conftest import need_weights

README = (PROJECT_ROOT / "README.md").read_text()


def block_after(heading: str) -> str:
    """The first ```python block under a README heading."""
    section = README.split(f"\n{heading}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_library_example_runs_as_written(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for dataset, model in (("cifar10", "res_unet"), ("cifar10", "res_unet_gaussian"), ("mnist", "cnn_deep"),
                           ("mnist", "latent_ae"), ("mnist", "latent_vae")):
        need_weights(dataset, model)
    monkeypatch.chdir(tmp_path)
    Image.fromarray(np.full((40, 60, 3), 128, np.uint8)).save("photo.jpg")  # the picture it reads last
    names: dict = {}
    exec(compile(block_after("## The library"), "README.md", "exec"), names)
    assert names["out"].shape == (32, 32, 3) and names["middle"].shape == (1, 28, 28, 1)
    assert names["image"].shape == (40, 60, 3) and names["note"] == ""
