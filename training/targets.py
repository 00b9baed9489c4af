"""The evaluation protocol per dataset: the noises every method is scored on, and the targets.

For Gaussian noise each dataset has the project's targets (issue #3), at the levels its
`DatasetSpec.gaussian_levels` names; for every other noise the app's model must beat the
best classical method. A new dataset adds its levels to its DatasetSpec and its goals here.
"""

from __future__ import annotations

from dataclasses import dataclass

from denoiser.datasets import DATASETS
from denoiser.noise import GAUSSIAN

from .results import Row

OTHER_NOISES = (("salt_pepper", 0.1), ("speckle", 0.2), ("poisson", 30.0))  # one level of each non-Gaussian kind


@dataclass(frozen=True)
class Goal:
    """A Gaussian target: `gain` dB over BM3D's score, or `gain` dB itself where `over_bm3d` is False."""

    gain: float
    over_bm3d: bool = True


# dataset -> Gaussian sigma -> goal (issue #3)
GAUSSIAN_GOALS: dict[str, dict[float, Goal]] = {
    "mnist": {0.1: Goal(31.0, over_bm3d=False), 0.3: Goal(24.5, over_bm3d=False), 0.5: Goal(21.0, over_bm3d=False)},
    "fashion_mnist": {0.1: Goal(3.0), 0.3: Goal(5.0), 0.5: Goal(5.0)},
    "cifar10": {0.1: Goal(0.0), 0.3: Goal(1.5), 0.5: Goal(2.0)},
    # issue #10: sigma 15, 25 and 50 of 255 on the 20 validation photos
    "photos": dict(zip(DATASETS["photos"].gaussian_levels, (Goal(0.3), Goal(0.6), Goal(1.5)))),
}


# issue #12: how much surer the dataset's classifier must be of a latent model's midpoints than of the plain
# autoencoder's (training.midpoints' confidence)
MIDPOINT_MARGINS = {"mnist": 0.15, "fashion_mnist": 0.10}


def protocol_noises(dataset: str) -> list[tuple[str, float]]:
    """The (kind, level) pairs a dataset is evaluated on: its Gaussian levels, then the other kinds."""
    return [(GAUSSIAN, sigma) for sigma in DATASETS[dataset].gaussian_levels] + list(OTHER_NOISES)


@dataclass(frozen=True)
class Target:
    """What a model must score for one noise: more than `limit` dB, or at least it where not `strict`."""

    wording: str
    limit: float
    strict: bool

    def met(self, psnr: float) -> bool:
        return psnr > self.limit if self.strict else psnr >= self.limit


def threshold(dataset: str, noise: str, level: float, rows: list[Row]) -> Target | None:
    """The target for one noise: issue #3's for Gaussian, else beating every classical method.

    None when the method it is measured against is not among the rows.
    """
    classical = [r.psnr for r in rows
                 if (r.dataset, r.noise, r.level, r.method_type) == (dataset, noise, level, "baseline")]
    bm3d = [r.psnr for r in rows if (r.dataset, r.method, r.noise, r.level) == (dataset, "bm3d", noise, level)]
    goal = GAUSSIAN_GOALS.get(dataset, {}).get(level) if noise == GAUSSIAN else None
    if goal is None:
        return Target("> best classical", max(classical), strict=True) if classical else None
    if not goal.over_bm3d:
        return Target(f"≥ {goal.gain:.1f}", goal.gain, strict=False)
    if not bm3d:
        return None
    if goal.gain == 0:
        return Target("> BM3D", bm3d[0], strict=True)
    return Target(f"≥ BM3D + {goal.gain:.1f}", bm3d[0] + goal.gain, strict=False)


@dataclass(frozen=True)
class SharpGoal:
    """Issue #13: the sharp (GAN) model against the Gaussian specialist on the same noisy images."""

    psnr_loss: float = 1.5  # dB of PSNR it may give up
    fd_ratio: float = 0.5  # its Fréchet distance at most this part of the specialist's
    # and its classifier accuracy at least the specialist's

    def met(self, sharp: Row, specialist: Row) -> bool:
        return (sharp.psnr >= specialist.psnr - self.psnr_loss and sharp.accuracy >= specialist.accuracy
                and sharp.fd <= self.fd_ratio * specialist.fd)


SHARP_GOALS: dict[str, dict[float, SharpGoal]] = {"cifar10": {0.3: SharpGoal(), 0.5: SharpGoal()}}  # issue #13
