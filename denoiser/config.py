"""Every setting of the project, in one place, read from environment variables.

Each value has a default that works on a fresh clone; the environment overrides it so
that a deployment (a Space, CI, a laptop) never needs a code change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_MAX_PIXELS = 12_000_000  # the app downscales larger uploads before denoising (the CLI: settings' max_pixels)
APP_MEMORY_BUDGET_MIB = 2560
"""The app's peak resident memory, TensorFlow included, for any single upload whatever its shape.

The limits below keep it: a file's header is checked against `decode_max_pixels` before
it is decoded, what is decoded is downscaled to APP_MAX_PIXELS and `max_side`, and
the app denoises one large image at a time (app.py's lanes). tests/test_hostile.py and
`python -m training.benchmark` measure the app against it."""


# Figures drawn per dataset into the results folder, which the About tab shows (figure_path finds them).
SHARP_CROPS = "sharp_crops_{dataset}.png"  # training.crops: the PSNR model beside the sharp (GAN) one
STUDY_CURVES = "study_curves_{dataset}.png"  # training.curves: the study's four models' validation curves
# training.diagnose --ladder: PSNR against parameters, with its table (.md) and record (.json) beside it
CAPACITY_LADDER = "capacity_ladder_{dataset}.png"
MIDPOINTS = "midpoints"  # training.midpoints: the latent models' midpoints judged, as .json and .md (its table)
# training.evaluate's tables (results.json is training.results' own) and plot, which README and the About tab show
RESULTS_TABLE = "results.md"
RESULTS_PLOT = "psnr_vs_level.png"
DIAGNOSIS = "diagnosis_{dataset}_{model}.json"  # training.diagnose: one model's capacity-or-noise record


@dataclass(frozen=True)
class Settings:
    data_dir: Path | None  # folder of <name>.npz files; None means keras.datasets
    weights_dir: Path  # committed weights and their manifest
    hub_repo: str  # Hugging Face model repository that holds the same files
    max_pixels: int  # largest image the library denoises (height * width)
    max_file_mb: int  # larger image files are not read (the app's uploads, the CLI's and the library's files)
    decode_max_pixels: int  # image files whose header promises more pixels are refused before decoding
    max_side: int  # longer sides are downscaled to this when read: thin strips cost tiles, not pixels
    tile: int  # side of the tiles that large images are denoised in
    ensemble_max_pixels: int  # images up to this size are denoised in 8 orientations and averaged
    app_disk_mb: int  # the app's temporary files and Gradio's copies of uploads, in all (least recently used go)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 2**20

    @property
    def results_dir(self) -> Path:
        """Where the evaluation, diagnosis and benchmark write, and the app's About tab reads."""
        return self.weights_dir / "results"

    @property
    def logs_dir(self) -> Path:
        """The study's runs' TensorBoard logs, committed (training.curves keeps them): `tensorboard --logdir` it."""
        return self.weights_dir / "logs"


def _whole_number(name: str, default: int, minimum: int = 1, multiple_of: int = 1) -> int:
    """An integer from the environment, or a message that names the variable and what it needs."""
    text = os.environ.get(name, str(default))
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum or value % multiple_of:
        need = f"a whole number ≥ {minimum}" + (f" divisible by {multiple_of}" if multiple_of > 1 else "")
        raise ValueError(f"{name}={text!r}: it must be {need} (default {default}).")
    return value


def settings() -> Settings:
    """Read the settings now (not at import), so tests and CLIs can change the environment."""
    data_dir = os.environ.get("DENOISER_DATA_DIR")
    return Settings(
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        weights_dir=Path(os.environ.get("DENOISER_WEIGHTS_DIR", PROJECT_ROOT / "weights")),
        hub_repo=os.environ.get("DENOISER_HUB_REPO", "the-denoiser/denoiser-weights"),
        max_pixels=_whole_number("DENOISER_MAX_PIXELS", 40_000_000),
        max_file_mb=_whole_number("DENOISER_MAX_FILE_MB", 50),
        decode_max_pixels=_whole_number("DENOISER_DECODE_MAX_PIXELS", 64_000_000),
        max_side=_whole_number("DENOISER_MAX_SIDE", 16_384),
        tile=_whole_number("DENOISER_TILE", 256, minimum=32, multiple_of=4),  # then cut to each network's multiple
        ensemble_max_pixels=_whole_number("DENOISER_ENSEMBLE_MAX_PIXELS", 256 * 256, minimum=0),
        app_disk_mb=_whole_number("DENOISER_APP_DISK_MB", 1024),
    )


def figure_path(figure: str, dataset: str, folder: Path | None = None) -> Path:
    """Where a dataset's figure (SHARP_CROPS, STUDY_CURVES, CAPACITY_LADDER) goes: the results folder unless given."""
    return (folder or settings().results_dir) / figure.format(dataset=dataset)
