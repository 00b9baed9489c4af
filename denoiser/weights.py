"""Where trained weights live: `weights/<dataset>/<model>.keras` plus one manifest.

The manifest (`weights/manifest.json`) records, for every trained pair, the command that
rebuilds it, its training settings and time, its size and its test metrics. A file missing
locally is fetched from the Hugging Face Hub repository in `DENOISER_HUB_REPO`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import settings
from .files import locked, write_whole

MANIFEST = "manifest.json"
GAUSSIAN = "gaussian_"  # metric keys: GAUSSIAN + sigma, e.g. gaussian_0.1 or gaussian_0.0588 (15 of 255)


def metric_key(sigma: float) -> str:
    """The manifest's key for the scores at Gaussian noise of `sigma`."""
    return f"{GAUSSIAN}{sigma:g}"


@dataclass(frozen=True)  # shared by every reader of one manifest version (read_manifest)
class WeightsEntry:
    dataset: str
    model: str
    command: str
    config: dict
    epochs: int
    train_seconds: float
    params: int
    metrics: dict = field(default_factory=dict)
    best_epoch: int | None = None  # the epoch whose weights were kept, for runs with early stopping

    @property
    def file(self) -> str:
        """The weights file, relative to the weights folder and the Hub repository: `<dataset>/<model>.keras`."""
        return f"{self.dataset}/{self.model}.keras"

    def path(self, weights_dir: Path | None = None) -> Path:
        """The weights file in a local weights folder (default: DENOISER_WEIGHTS_DIR)."""
        return (weights_dir or settings().weights_dir) / self.file

    def gaussian(self, sigma: float) -> dict[str, float] | None:
        """The recorded PSNR / SSIM at Gaussian noise of `sigma`, or None."""
        return self.metrics.get(metric_key(sigma))

    def gaussian_scores(self) -> dict[float, dict[str, float]]:
        """Every recorded Gaussian score, by sigma."""
        return {float(key[len(GAUSSIAN):]): scores for key, scores in self.metrics.items() if key.startswith(GAUSSIAN)}


class WeightsError(FileNotFoundError):
    """No usable weights for a (dataset, model) pair; the message says what exists."""


def manifest_path(weights_dir: Path | None = None) -> Path:
    return (weights_dir or settings().weights_dir) / MANIFEST


def read_manifest(weights_dir: Path | None = None) -> list[WeightsEntry]:
    """The manifest's entries, parsed once per version of the file: the app looks models up on every
    request, and parsing the JSON was a tenth of a small request's server time."""
    path = manifest_path(weights_dir)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    return list(_parse_manifest(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parse_manifest(path: Path, mtime_ns: int, size: int) -> tuple[WeightsEntry, ...]:
    """Keyed on the file's change time and size, so an edited manifest is read again."""
    return tuple(WeightsEntry(**entry) for entry in json.loads(path.read_text()))


def write_entry(entry: WeightsEntry, weights_dir: Path | None = None) -> None:
    """Add or replace one entry, keeping the manifest sorted and diff-friendly.

    Training runs in parallel each add their entry: a lock beside the manifest makes their
    read-modify-writes take turns, so none is lost, and the new file replaces the old whole,
    so a reader never sees half of one.
    """
    path = manifest_path(weights_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path):
        _parse_manifest.cache_clear()  # another process may have rewritten it within the clock's tick
        entries = {(e.dataset, e.model): e for e in read_manifest(weights_dir)}
        entries[(entry.dataset, entry.model)] = entry
        rows = [asdict(entries[key]) for key in sorted(entries)]
        write_whole(path, lambda partial: partial.write_text(json.dumps(rows, indent=1) + "\n"))
    _parse_manifest.cache_clear()


def find_entry(dataset: str, model: str, weights_dir: Path | None = None) -> WeightsEntry:
    entries = read_manifest(weights_dir)
    for entry in entries:
        if (entry.dataset, entry.model) == (dataset, model):
            return entry
    if not entries:  # a package installed without a weights folder, or a mistyped DENOISER_WEIGHTS_DIR
        path = manifest_path(weights_dir)
        raise WeightsError(
            f"No weights for dataset {dataset!r} and model {model!r}: {path} "
            f"{'lists no models' if path.is_file() else 'does not exist'}. "
            "Point DENOISER_WEIGHTS_DIR at a weights folder (a checkout's weights/, or a download of the Hugging Face "
            f"Hub repository {settings().hub_repo}). Trained models: none.")
    have = ", ".join(e.model for e in entries if e.dataset == dataset) or (
        f"none (datasets with trained models: {', '.join(dict.fromkeys(e.dataset for e in entries))})")
    raise WeightsError(f"No weights for dataset {dataset!r} and model {model!r}. Trained {dataset} models: {have}.")


def first_step(command: str) -> str:
    """A recorded command, or its first step and a count of the rest: a model trained in stages has a long chain."""
    steps = command.split(" && ")
    return command if len(steps) == 1 else (f"{steps[0]} && ... ({len(steps) - 1} more steps: the manifest's "
                                            "command, or training/train_all.sh)")


def weights_file(entry: WeightsEntry, weights_dir: Path | None = None) -> Path:
    """The local `.keras` file of an entry, downloaded from the Hub when it is missing."""
    folder = weights_dir or settings().weights_dir
    local = entry.path(folder)
    if local.is_file():
        return local
    repo = settings().hub_repo
    try:
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo_id=repo, filename=entry.file))
    except Exception as error:  # offline mode, missing repo or file, network errors
        raise WeightsError(
            f"Weights file {entry.file} is not in {folder} and could not be downloaded "
            f"from the Hugging Face Hub repository {repo!r} ({type(error).__name__}: {error}). "
            f"Train it instead with: {first_step(entry.command)}"
        ) from error
