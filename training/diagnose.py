"""The study's diagnosis: is a model's failure its capacity or the noise? And how much capacity is enough?

    python -m training.diagnose --dataset cifar10 --model cnn_dense            # one model, a fixed budget
    python -m training.diagnose --ladder --dataset cifar10                     # the capacity ladder

One model: trains the same architecture twice with the same budget, once on clean inputs
(plain reconstruction) and once on noisy ones, and prints both side by side. If the model
reconstructs clean images no better than it denoises noisy ones, the bottleneck is the
model's capacity, not the noise.

The ladder: the study winner's shape (`cnn_dense`) at growing latent sizes, and twice the
filters at the largest, each trained to convergence (train.CONVERGE) on clean inputs and on
the study's noise (σ uniform in [0, 0.5]). A table and a plot of PSNR against parameters, and
the smallest rung that *covers* the dataset (COVERS): that one is the registry's `cnn_dense_large`,
and its noisy half, the same network trained the same way, is committed as its weights.
Results go to `--out` as JSON (and, for the ladder, Markdown and PNG) for the README.
Each half trained (a rung on clean or on noisy inputs) is kept in the ladder's JSON, which is
committed: a half already there with the same settings is read back rather than trained again,
so the ladder goes on where it stopped in a later session, even on a fresh machine, and
`--share K/N` lets N processes train it side by side.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import keras
import numpy as np

from denoiser import models
from denoiser.config import CAPACITY_LADDER, DIAGNOSIS, figure_path, settings
from denoiser.datasets import DATASETS, Dataset, load_dataset
from denoiser.files import locked, write_whole
from denoiser.noise import GAUSSIAN, add_noise
from denoiser.weights import WeightsEntry, WeightsError, find_entry, write_entry

from .data import CLEAN, trainable_dataset
from .scoring import Predict, gaussian_metrics, network_predict, score
from .train import CONVERGE, TrainConfig, as_stored, recorded_run, train

VERDICT_MARGIN_DB = 1.0  # clean reconstruction must beat denoising by this much to clear capacity
STUDY_NOISE = (0.0, 0.5)  # the study's training noise: Gaussian sigma uniform in this range
# A denoiser "covers" a dataset when it gains at least this much over the noisy input (dB) at each sigma.
COVERS = {0.1: 3.0, 0.3: 6.0}
LADDER_MODEL = "cnn_dense"  # the study's winner, whose latent size and filters the ladder varies
LARGE = "cnn_dense_large"  # the registry's name for the ladder's smallest covering rung


@dataclass(frozen=True)
class Rung:
    filters: tuple[int, int]
    latent_dim: int

    @property
    def options(self) -> dict:
        return {"filters": self.filters, "latent_dim": self.latent_dim}

    @property
    def name(self) -> str:
        return f"f{self.filters[0]}-{self.filters[1]}_z{self.latent_dim}"

    @classmethod
    def of(cls, row: dict) -> Rung:
        return cls(tuple(row["filters"]), row["latent_dim"])


# smallest first: a rung covers only where none before it does
LADDER = (Rung((32, 64), 16), Rung((32, 64), 64), Rung((32, 64), 256), Rung((32, 64), 1024), Rung((64, 128), 1024))


Half = dict  # one run of a pair, scored: its settings, size, epochs and scores (JSON, as the ladder keeps it)


def half_config(dataset: str, model: str, options: dict, noise: str, level_range: tuple[float, float],
                runs_dir: Path, **budget) -> TrainConfig:
    """One half of a pair: the architecture trained on clean inputs (noise CLEAN) or on noisy ones."""
    return TrainConfig(dataset=dataset, model=model, noise=noise, level_min=level_range[0], level_max=level_range[1],
                       eval_images=8, options=options, runs_dir=str(runs_dir / "runs" / noise),
                       weights_dir=str(runs_dir / "weights" / noise), **budget)


def train_half(data: Dataset, config: TrainConfig, sigmas: tuple[float, ...], images: int) -> Half:
    """Train a half (or read its weights back: a rerun goes on where it stopped) and score it.

    `clean_input` is the clean-trained model reconstructing clean test images; `denoised[sigma]`
    the noise-trained model on the same images with Gaussian noise (seed 0), `noisy[sigma]` the input.
    """
    entry = recorded_run(config) or train(config, data, "training.diagnose")
    predict = network_predict(keras.models.load_model(entry.path(Path(config.weights_dir)), compile=False))
    clean = data.test_images(images)
    half: Half = {"settings": settings_of(config), "images": images, "params": entry.params, "epochs": entry.epochs,
                  "best_epoch": entry.best_epoch}
    if config.noise == CLEAN:
        half["clean_input"] = scored(predict, clean, clean)
    else:
        noisy = {sigma: add_noise(clean, GAUSSIAN, sigma, seed=0) for sigma in sigmas}
        half["denoised"] = {str(sigma): scored(predict, clean, noisy[sigma]) for sigma in sigmas}
        half["noisy"] = {str(sigma): scored(lambda x: x, clean, noisy[sigma]) for sigma in sigmas}
    return half


def settings_of(config: TrainConfig) -> dict:
    """What makes a half the same run on another machine: its settings without the folders."""
    return {k: v for k, v in as_stored(asdict(config)).items() if k not in ("runs_dir", "weights_dir")}


def pair(clean: Half, noisy: Half) -> dict:
    """The two halves of one architecture side by side: epochs per noise, both halves' scores."""
    return {"params": noisy["params"], "epochs": {CLEAN: clean["epochs"], GAUSSIAN: noisy["epochs"]},
            "best_epoch": {CLEAN: clean["best_epoch"], GAUSSIAN: noisy["best_epoch"]},
            "clean_input": clean["clean_input"], "denoised": noisy["denoised"], "noisy": noisy["noisy"]}


def train_pair(data: Dataset, model: str, options: dict, level_range: tuple[float, float], sigmas: tuple[float, ...],
               images: int, runs_dir: Path, **budget) -> dict:
    """Train and score one architecture on clean inputs and on noisy ones (train_half, twice)."""
    configs = (half_config(data.spec.name, model, options, noise, level_range, runs_dir, **budget)
               for noise in (CLEAN, GAUSSIAN))
    return pair(*(train_half(data, config, sigmas, images) for config in configs))


def scored(predict: Predict, clean: np.ndarray, inputs: np.ndarray) -> dict[str, float]:
    """Mean PSNR/SSIM of `predict` on `inputs` against `clean`, to three decimals."""
    scores, _ = score(predict, clean, inputs)
    return {k: round(v, 3) for k, v in scores.items()}


def diagnose(dataset: str, model: str, steps: int, sigma: float, images: int, runs_dir: Path) -> dict:
    """One model, the same fixed budget twice: clean inputs, then noise at exactly `sigma`."""
    pair = train_pair(load_dataset(dataset), model, {}, (sigma, sigma), (sigma,), images, runs_dir / "diagnose",
                      epochs=1, steps_per_epoch=steps)
    result = {"dataset": dataset, "model": model, "steps": steps, "sigma": sigma, "images": images,
              "params": pair["params"], "clean_input": pair["clean_input"], "noisy_input": pair["denoised"][str(sigma)]}
    result["verdict"] = verdict(result["clean_input"]["psnr"], result["noisy_input"]["psnr"])
    return result


def verdict(clean_psnr: float, noisy_psnr: float) -> str:
    """'capacity' when the model reconstructs clean inputs hardly better than it denoises noisy ones."""
    return "capacity" if clean_psnr - noisy_psnr < VERDICT_MARGIN_DB else "noise"


def gains(row: dict) -> dict[float, float]:
    """dB the denoiser gains over its noisy input at each of the COVERS sigmas."""
    return {sigma: row["denoised"][str(sigma)]["psnr"] - row["noisy"][str(sigma)]["psnr"] for sigma in COVERS}


def covers(row: dict) -> bool:
    """The definition: at least 3 dB above the noisy input at sigma 0.1 and 6 dB at sigma 0.3."""
    return all(gain >= COVERS[sigma] for sigma, gain in gains(row).items())


def smallest_covering(rows: list[dict]) -> dict | None:
    """The rung with the fewest parameters that covers the dataset; None when none does."""
    covering = [row for row in rows if covers(row)]
    return min(covering, key=lambda row: row["params"]) if covering else None


def still_to_train(rows: list[dict], rungs: tuple[Rung, ...] = LADDER) -> list[Rung]:
    done = {Rung.of(row) for row in rows}
    return [rung for rung in rungs if rung not in done]


def settled(rows: list[dict], rungs: tuple[Rung, ...] = LADDER) -> dict | None:
    """The smallest covering rung, once every rung before it is done: none still to train can be smaller."""
    best = smallest_covering(rows)
    if best is None:
        return None
    smaller = set(rungs[:rungs.index(Rung.of(best))])
    return None if smaller & set(still_to_train(rows, rungs)) else best


def promote(dataset: str, rung: Rung, runs_dir: Path, command: str, **budget) -> WeightsEntry:
    """Commit `rung`'s noisy half as the registry's `cnn_dense_large`, scored like any trained model.

    It is that network trained on the study's noise to convergence, so it is copied, not trained
    again; an entry already made from the same settings (folders aside) is left as it is, and the
    dataset is loaded only to score a new one.
    """
    half = half_config(dataset, LADDER_MODEL, rung.options, GAUSSIAN, STUDY_NOISE, runs_dir / rung.name,
                       **budget)
    target = TrainConfig(dataset, LARGE)
    stored = {**settings_of(half), "eval_images": target.eval_images}
    weights_dir = Path(target.weights_dir)
    try:
        current = find_entry(dataset, LARGE, weights_dir)
        recorded = {**settings_of(TrainConfig(dataset, LADDER_MODEL)), **current.config}  # as recorded_run
        if recorded == stored and current.path(weights_dir).is_file():
            return current
    except WeightsError:
        pass
    data = load_dataset(dataset)
    trained = recorded_run(half) or train(half, data, "training.diagnose")
    network = keras.models.load_model(trained.path(Path(half.weights_dir)), compile=False)
    entry = replace(trained, model=LARGE, config=stored, command=command,
                    metrics=gaussian_metrics(network, data, target.eval_images, half.size_multiple))
    entry.path(weights_dir).parent.mkdir(parents=True, exist_ok=True)
    network.save(entry.path(weights_dir))
    write_entry(entry, weights_dir)
    return entry


def read_halves(record: Path | None) -> dict[str, Half]:
    return json.loads(record.read_text()) if record and record.is_file() else {}


def keep_half(record: Path, key: str, half: Half) -> None:
    """Add one trained half to the ladder's record: processes sharing the ladder take turns to write it."""
    with locked(record):
        halves = {**read_halves(record), key: half}
        write_whole(record, lambda path: path.write_text(json.dumps(halves, indent=1) + "\n"))


def ladder(dataset: str, images: int, runs_dir: Path, rungs: tuple[Rung, ...] = LADDER, record: Path | None = None,
           share: tuple[int, int] = (1, 1), **budget) -> list[dict]:
    """Train and score every rung's two halves; the rows of the rungs whose halves are both done.

    Each half trained goes to `record` (JSON, committed with the results), and a half already there
    with the same settings is read back, not trained again: a CPU session's end loses only the half
    in progress. `share` (k, n) trains only the k-th of every n halves, so n processes can share the
    ladder; the rows then hold what all of them have finished.
    """
    data = load_dataset(dataset)
    sigmas = tuple(sorted({*COVERS, *data.spec.gaussian_levels}))
    halves = read_halves(record)
    rows = []
    for index, (rung, noise) in enumerate((rung, noise) for rung in rungs for noise in (CLEAN, GAUSSIAN)):
        key = f"{rung.name}/{noise}"
        config = half_config(dataset, LADDER_MODEL, rung.options, noise, STUDY_NOISE, runs_dir / rung.name, **budget)
        kept = halves.get(key)
        if kept and (kept["settings"], kept["images"]) == (settings_of(config), images):
            continue
        if index % share[1] != share[0] - 1:
            halves.pop(key, None)  # another process's half, not (yet) trained with these settings
            continue
        halves[key] = train_half(data, config, sigmas, images)
        if record:
            keep_half(record, key, halves[key])
    for rung in rungs:
        clean, noisy = halves.get(f"{rung.name}/{CLEAN}"), halves.get(f"{rung.name}/gaussian")
        if not (clean and noisy):
            print(f"{rung.name}: not yet trained on " + " and ".join(
                name for name, half in (("clean inputs", clean), ("noisy ones", noisy)) if not half), flush=True)
            continue
        row = {"dataset": dataset, "model": LADDER_MODEL, **rung.options, "images": images, **pair(clean, noisy)}
        row["covers"] = covers(row)
        rows.append(row)
        print(f"{rung.name}: {row['params']:,} parameters, clean {row['clean_input']['psnr']:.2f} dB, gains "
              + ", ".join(f"σ={s:g} {g:+.2f} dB" for s, g in gains(row).items()), flush=True)
    return rows


def ladder_markdown(rows: list[dict], rungs: tuple[Rung, ...] = LADDER) -> str:
    """The table of the rungs done, and which covers: the smallest, once no rung still to train can be smaller."""
    sigmas = list(COVERS)
    head = " | ".join(f"σ={s:g}: noisy → denoised (gain)" for s in sigmas)
    lines = [f"| filters | latent | params | epochs clean / noisy (best) | clean in → PSNR | {head} | covers |",
             "|---|---|---|---|---|" + "---|" * len(sigmas) + "---|"]
    for row in rows:
        epochs = " / ".join(f"{row['epochs'][n]} ({row['best_epoch'][n]})" for n in (CLEAN, GAUSSIAN))
        cells = " | ".join(f"{row['noisy'][str(s)]['psnr']:.2f} → {row['denoised'][str(s)]['psnr']:.2f} "
                           f"({gain:+.2f})" for s, gain in gains(row).items())
        lines.append(f"| {row['filters'][0]}, {row['filters'][1]} | {row['latent_dim']} | {row['params']:,} | "
                     f"{epochs} | {row['clean_input']['psnr']:.2f} | {cells} | {'yes' if row['covers'] else 'no'} |")
    best = settled(rows, rungs)
    todo = [rung.name for rung in still_to_train(rows, rungs)]
    needs = " and ".join(f"≥ {gain:g} dB above the noisy input at σ = {s:g}" for s, gain in COVERS.items())
    verdict_line = (f"Smallest configuration that covers it ({needs}): filters {best['filters'][0]}, "
                    f"{best['filters'][1]} and a {best['latent_dim']}-d latent, {best['params']:,} parameters."
                    if best else f"Which configuration covers it ({needs}) is not settled yet." if todo
                    else f"No configuration covers it ({needs}).")
    if todo:
        verdict_line += f" Still to train: {', '.join(todo)}."
    return "\n".join(lines) + "\n\n" + verdict_line + "\n"


def plot_ladder(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    params = [row["params"] for row in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(params, [row["clean_input"]["psnr"] for row in rows], "o-", label="clean in: reconstruction")
    for sigma, gain in COVERS.items():
        denoised = [row["denoised"][str(sigma)]["psnr"] for row in rows]
        line, = ax.plot(params, denoised, "o-", label=f"σ={sigma:g}: denoised")
        need = [row["noisy"][str(sigma)]["psnr"] + gain for row in rows]
        ax.plot(params, need, "--", color=line.get_color(), label=f"σ={sigma:g}: noisy input + {gain:g} dB (covers)")
    for row in rows:
        ax.annotate(f"{row['latent_dim']}-d" + ("" if row["filters"] == LADDER[0].filters else ", 2× filters"),
                    (row["params"], row["clean_input"]["psnr"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.margins(x=0.15)  # room for the largest rung's label
    ax.set(xscale="log", xlabel="parameters", ylabel="PSNR (dB)",
           title=f"{DATASETS[rows[0]['dataset']].title}: {LADDER_MODEL} at growing capacity, trained to convergence")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def share_arg(text: str) -> tuple[int, int]:
    """'K/N' -> (K, N), with 1 <= K <= N."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected K/N, say 1/2") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"{text!r}: K must be between 1 and N")
    return k, n


def registry_rung() -> Rung:
    """The rung the registry's `cnn_dense_large` is built as."""
    options = models.MODELS[LARGE].build.keywords
    return Rung(tuple(options["filters"]), options["latent_dim"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="cifar10", type=trainable_dataset)
    parser.add_argument("--model", default="cnn_dense", type=models.MODELS.arg)
    parser.add_argument("--ladder", action="store_true", help=f"run the capacity ladder of {LADDER_MODEL} instead")
    parser.add_argument("--steps", type=int, default=500, help="one model: training batches for each of the two runs")
    parser.add_argument("--sigma", type=float, default=0.1, help="one model: Gaussian noise of the noisy run")
    parser.add_argument("--images", type=int, default=None, help="first N test images to score (default: 500; "
                        "the ladder: 1000, the protocol's)")
    parser.add_argument("--epochs", type=int, default=CONVERGE["epochs"], help="the ladder: cap on epochs")
    parser.add_argument("--patience", type=int, default=CONVERGE["patience"],
                        help="the ladder: early-stopping patience")
    parser.add_argument("--train-images", type=int, help="the ladder: train on the first N training images only")
    parser.add_argument("--share", type=share_arg, default=(1, 1), metavar="K/N",
                        help="the ladder: train only the K-th of every N halves, so that N processes share it")
    parser.add_argument("--runs-dir", default="runs")
    parser.add_argument("--out", default=str(settings().results_dir))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.ladder:
        budget = {**CONVERGE, "epochs": args.epochs, "patience": args.patience, "train_images": args.train_images}
        figure = figure_path(CAPACITY_LADDER, args.dataset, out)
        rows = ladder(args.dataset, args.images or 1000, Path(args.runs_dir), LADDER, figure.with_suffix(".json"),
                      share=args.share, **budget)
        if rows:
            table = ladder_markdown(rows, LADDER)
            figure.with_suffix(".md").write_text(table)
            plot_ladder(rows, figure)
            print("\n" + table)
        best = settled(rows, LADDER)
        if best and Rung.of(best) != registry_rung():
            # an error, so that training/study.sh stops before it trains with the old cnn_dense_large
            raise SystemExit(f"Set {LARGE} to filters={tuple(best['filters'])}, latent_dim={best['latent_dim']} in "
                             f"denoiser/models/__init__.py (it is {registry_rung()}), then run again: the rungs "
                             "already trained are read back.")
        if best:
            command = (f"python -m training.diagnose --ladder --dataset {args.dataset} --epochs {args.epochs} "
                       f"--patience {args.patience}" + (f" --train-images {args.train_images}" if args.train_images
                                                        else ""))
            entry = promote(args.dataset, Rung.of(best), Path(args.runs_dir), command, **budget)
            print(f"{LARGE} is the {Rung.of(best).name} rung trained on noise: {entry.path()}, gains "
                  + ", ".join(f"σ={s:g} {g:+.2f} dB" for s, g in gains(best).items()))
        if still_to_train(rows, LADDER):
            print(f"{len(rows)} of {len(LADDER)} rungs done; {figure.with_suffix('.json')} keeps the halves trained. "
                  "Run again (every share, or none) to train the rest.")
        return

    result = diagnose(args.dataset, args.model, args.steps, args.sigma, args.images or 500, Path(args.runs_dir))
    print(f"\n{args.model} on {args.dataset}, {result['params']:,} parameters, {args.steps} steps each")
    print(f"  trained on clean inputs, reconstructing clean images:  {result['clean_input']['psnr']:6.2f} dB")
    print(f"  trained on noisy inputs (σ={args.sigma}), denoising:          {result['noisy_input']['psnr']:6.2f} dB")
    cause = ("capacity: it cannot even reproduce clean images" if result["verdict"] == "capacity"
             else "the noise: clean images come back much better")
    print(f"  verdict: {cause}")
    (out / DIAGNOSIS.format(dataset=args.dataset, model=args.model)).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
