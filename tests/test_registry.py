import argparse

import pytest

from denoiser.baselines import BASELINES, run_baseline
from denoiser.datasets import DATASETS
from denoiser.models import MODELS, build
from denoiser.noise import NOISES, add_noise, parse_noise, parse_noises
from denoiser.registry import UnknownName

REGISTRIES = {"dataset": DATASETS, "model": MODELS, "noise kind": NOISES, "baseline": BASELINES}


@pytest.mark.parametrize("what", REGISTRIES)
def test_every_registry_refuses_an_unknown_name_the_same_way(what):
    registry = REGISTRIES[what]
    first = next(iter(registry))
    assert registry.lookup(first) is registry[first] and registry.arg(first) == first
    message = f"Unknown {what} 'nope'; choose one of {', '.join(registry)}."
    with pytest.raises(UnknownName) as error:
        registry.lookup("nope")
    assert str(error.value) == message
    with pytest.raises(argparse.ArgumentTypeError, match="Unknown .* 'nope'"):
        registry.args(f"{first},nope")
    assert registry.args("") == []


def test_library_calls_raise_the_registry_error():
    import numpy as np

    with pytest.raises(UnknownName, match="Unknown model"):
        build("unet9", (28, 28, 1))
    with pytest.raises(UnknownName, match="Unknown noise kind"):
        add_noise(np.zeros((4, 4)), "blur", 0.1)
    with pytest.raises(UnknownName, match="Unknown baseline"):
        run_baseline("wiener", np.zeros((4, 4, 1), np.float32), 0.1)


def test_noise_argument_is_a_known_kind_at_a_level_in_its_range():
    assert parse_noise("poisson:30") == ("poisson", 30.0)
    assert parse_noises("gaussian:0.1,speckle:0.2") == [("gaussian", 0.1), ("speckle", 0.2)]
    for text, why in [("blur:1", "Unknown noise kind 'blur'"), ("gaussian", "could not convert"),
                      ("gaussian:0.9", r"must lie in \[0, 0.5\], got 0.9")]:
        with pytest.raises(argparse.ArgumentTypeError, match=why):
            parse_noise(text)
