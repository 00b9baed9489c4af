"""The study's comparison, as it chose its winner: validation loss and PSNR per epoch, per model.

    python -m training.curves --runs-dir runs/study

Keeps the TensorBoard logs that `training.train` writes for runs with a validation split
(`<runs-dir>/<dataset>/<model>/logs`): a finished run's are copied into the committed
`weights/logs/<dataset>/<model>`, so the curves can be drawn again, and read in TensorBoard,
on a machine that never ran it. From those it draws the four study models' validation curves
per dataset into `weights/results/study_curves_<dataset>.png` and names the winner: the
highest validation PSNR at the epoch whose weights were kept (early stopping's best epoch).
PSNR decides, not the loss, because the models train on different losses (MSE, cross-entropy).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import tensorflow as tf

from denoiser.config import STUDY_CURVES, figure_path, settings
from denoiser.datasets import DATASETS
from denoiser.models import MODELS, STUDY_WINNER

from .events import LOGS, VALIDATION
from .stopping import improves
from .train import BACKUP, CONVERGE

STUDY_MODELS = sorted((name for name, spec in MODELS.items() if spec.study), key=lambda name: MODELS[name].study)
STUDY_DATASETS = ("mnist", "fashion_mnist")
CURVES = ("loss", "psnr")  # the epoch scalars training.events writes as epoch_<name>, as Keras's callback did

Curve = dict[int, float]  # epoch (from 1) -> value


def read_scalars(logdir: Path, tag: str) -> Curve:
    """One scalar per step from every event file in a folder; a resumed run's later files win."""
    values: Curve = {}
    for path in sorted(logdir.glob("events.out.tfevents*"), key=lambda p: p.stat().st_mtime):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == tag:
                    number = tf.make_ndarray(value.tensor) if value.HasField("tensor") else value.simple_value
                    values[int(event.step) + 1] = float(number)
    return dict(sorted(values.items()))


def kept_logs(runs_dir: Path, logs_dir: Path, dataset: str, model: str) -> Path:
    """A run's logs as committed, `<logs_dir>/<dataset>/<model>`: a finished run's under `runs_dir`
    replace them first; a run still going (its backup folder is there) leaves them as they are."""
    run, kept = runs_dir / dataset / model, logs_dir / dataset / model
    if (run / LOGS / VALIDATION).is_dir() and not (run / BACKUP).exists():
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(run / LOGS, kept)
    return kept


def validation_curves(logs: Path) -> dict[str, Curve]:
    """Validation loss and PSNR per epoch from one run's logs folder."""
    return {name: read_scalars(logs / VALIDATION, f"epoch_{name}") for name in CURVES}


def kept_epoch(curves: dict[str, Curve], min_delta: float = CONVERGE["min_delta"]) -> int:
    """The epoch whose weights early stopping keeps: the last to beat the best loss before it by
    `min_delta` of it (so not always the lowest loss, which may be lower by a hair)."""
    kept = None
    for epoch, loss in curves["loss"].items():
        if improves(loss, None if kept is None else curves["loss"][kept], min_delta):
            kept = epoch
    return kept


def winner(results: dict[str, dict[str, Curve]]) -> str:
    """The model with the best validation PSNR at its kept epoch."""
    return max(results, key=lambda model: results[model]["psnr"][kept_epoch(results[model])])


def plot(dataset: str, results: dict[str, dict[str, Curve]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for model, curves in results.items():
        for ax, name in zip(axes, CURVES):
            line, = ax.plot(list(curves[name]), list(curves[name].values()), label=f"{model} (#{MODELS[model].study})")
            best = kept_epoch(curves)
            ax.plot([best], [curves[name][best]], "o", color=line.get_color())
    axes[0].set(title="validation loss (each model's own)", xlabel="epoch", yscale="log")
    axes[1].set(title="validation PSNR (dB)", xlabel="epoch")
    axes[1].legend()
    fig.suptitle(f"{DATASETS[dataset].title}: the study's four models, to convergence (dot: the kept epoch)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def at_kept_epoch(curves: dict[str, Curve]) -> dict:
    """One model's row: epochs run, the kept epoch, and its validation loss (the model's own) and PSNR there."""
    kept = kept_epoch(curves)
    return {"epochs": len(curves["loss"]), "kept_epoch": kept, "val_loss": round(curves["loss"][kept], 4),
            "val_psnr": round(curves["psnr"][kept], 3)}


def summarise(dataset: str, results: dict[str, dict[str, Curve]]) -> dict:
    best = winner(results)
    rows = {model: at_kept_epoch(curves) for model, curves in results.items()}
    return {"dataset": dataset, "models": rows, "winner": best, "study_pick": STUDY_WINNER,
            "study_pick_wins": best == STUDY_WINNER}


def write_summaries(path: Path, summaries: list[dict]) -> None:
    """The summaries into `path`, merged by dataset: the datasets' runs may be sessions apart, and
    drawing one dataset's curves keeps what an earlier call wrote for the others."""
    fresh = {summary["dataset"] for summary in summaries}
    earlier = json.loads(path.read_text()) if path.is_file() else []
    merged = [summary for summary in earlier if summary["dataset"] not in fresh] + summaries
    merged.sort(key=lambda summary: list(DATASETS).index(summary["dataset"]))
    path.write_text(json.dumps(merged, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs-dir", default="runs/study", help="the --runs-dir the study's trainings used")
    parser.add_argument("--datasets", default=",".join(STUDY_DATASETS), type=DATASETS.args)
    parser.add_argument("--models", default=",".join(STUDY_MODELS), type=MODELS.args)
    parser.add_argument("--logs-dir", type=Path, default=settings().logs_dir,
                        help="where the finished runs' logs are kept, and read from")
    parser.add_argument("--out", default=str(settings().results_dir))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summaries = []
    for dataset in args.datasets:
        results = {model: validation_curves(kept_logs(Path(args.runs_dir), args.logs_dir, dataset, model))
                   for model in args.models}
        missing = [model for model, curves in results.items() if not curves["loss"] or not curves["psnr"]]
        if missing:
            parser.error(f"No validation curves for {dataset}: {', '.join(missing)}, finished, under {args.runs_dir} "
                         f"or {args.logs_dir} (train with --val-fraction and --runs-dir {args.runs_dir}; see "
                         f"training/study.sh). The finished runs' logs are kept in {args.logs_dir}.")
        plot(dataset, results, figure_path(STUDY_CURVES, dataset, out))
        summary = summarise(dataset, results)
        summaries.append(summary)
        print(f"\n{DATASETS[dataset].title}: validation PSNR at the kept epoch")
        for model, row in summary["models"].items():
            print(f"  {model:14s} {row['val_psnr']:6.2f} dB, loss {row['val_loss']:.4f} "
                  f"({MODELS[model].loss}; epoch {row['kept_epoch']} of {row['epochs']})")
        verdict = "the study's pick" if summary["study_pick_wins"] else f"not the study's pick ({STUDY_WINNER})"
        print(f"  winner: {summary['winner']}, {verdict}")
    write_summaries(out / "study_curves.json", summaries)


if __name__ == "__main__":
    main()
