"""The evaluation's results file, `results.json`: one row per (dataset, method, noise, level).

A run adds or replaces only the rows it measured, so evaluating one model, dataset or noise
never drops what earlier runs measured for the others.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = "results.json"
REFERENCE = "reference"  # the method type of the clean images' row: realism's yardstick, not a denoiser
CLEAN = "clean images"


def model_method(dataset: str, model: str, owner: str) -> str:
    """A model's method name in the rows; a borrowed one (photos running CIFAR-10's) says whose it is."""
    return model if owner == dataset else f"{owner}/{model}"


@dataclass
class Row:
    dataset: str
    method: str
    method_type: str  # "model", "baseline", "input", or REFERENCE: the clean images, scored on realism alone
    noise: str
    level: float
    psnr: float
    ssim: float
    seconds_per_image: float
    images: int
    params: int | None = None
    # realism (training.realism): the classifier's accuracy and Fréchet distance, and the high-frequency ratio
    accuracy: float | None = None
    fd: float | None = None
    hf_ratio: float | None = None

    @property
    def key(self) -> tuple[str, str, str, float]:
        """What a row measures; a later row with the same key replaces it."""
        return self.dataset, self.method, self.noise, self.level


def read_results(folder: Path) -> list[Row]:
    """Rows of earlier runs, or none."""
    path = folder / RESULTS
    return [Row(**row) for row in json.loads(path.read_text())] if path.is_file() else []


def merge(old: list[Row], new: list[Row]) -> list[Row]:
    """Old rows with those measured again replaced in place, then the rows measured for the first time."""
    rows = {row.key: row for row in old}
    rows.update((row.key, row) for row in new)
    return list(rows.values())


def write_results(folder: Path, rows: list[Row]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULTS).write_text(json.dumps([asdict(r) for r in rows], indent=1) + "\n")
