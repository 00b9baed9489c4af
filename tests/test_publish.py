import re
import subprocess
from pathlib import Path

import pytest

from denoiser.config import PROJECT_ROOT
from training.publish import main, space_plan


def test_dry_run_lists_files_and_prints_the_model_card(use_weights, capsys):
    main(["--repo", "someone/denoiser-weights", "--weights-dir", str(use_weights), "--dry-run"])
    out = capsys.readouterr().out
    assert "Would upload to someone/denoiser-weights: 6 files" in out
    for name in ("mnist/res_unet.keras", "cifar10/latent_ae.keras", "manifest.json"):
        assert name in out
    assert "### MNIST" in out and "| model | parameters | epochs | training time | σ=0.1 | σ=0.3 | σ=0.5 |" in out
    assert re.search(r"\| `res_unet` \(Residual U-Net, all noise kinds\) \| [\d,]+ \| 1 \| [\d.]+ min \| "
                     r"\d+\.\d\d / \d\.\d{3} \| \d+\.\d\d / \d\.\d{3} \| \d+\.\d\d / \d\.\d{3} \|", out)
    assert "Intended use and limits" in out
    assert "python -m training.train --dataset cifar10 --model latent_ae" in out


def test_every_tracked_binary_file_is_stored_with_xet_or_lfs():
    """The Hub refuses a git push with binary files stored plainly; .gitattributes must cover each one."""
    root = Path(__file__).resolve().parent.parent
    try:
        listing = subprocess.run(["git", "ls-files", "--eol"], cwd=root, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    binary = [line.split("\t", 1)[1] for line in listing.stdout.splitlines() if line.startswith("i/-text")]
    assert "weights/mnist/res_unet.keras" in binary and "denoiser/data/samples.npz" in binary  # git's own test works
    attrs = subprocess.run(["git", "check-attr", "filter", "--", *binary], cwd=root, capture_output=True,
                           text=True, check=True).stdout
    uncovered = [line.split(": filter:")[0] for line in attrs.splitlines() if not line.endswith(": filter: lfs")]
    assert uncovered == []


def test_space_dry_run_lists_every_file_the_app_needs_and_where_it_goes(capsys):
    main(["--space", "you/the-denoiser", "--dry-run"])
    out = capsys.readouterr().out
    assert "Would upload to the Space you/the-denoiser (Gradio SDK)" in out
    for name in ("app.py", "requirements.txt", "README.md", "denoiser/inference.py", "denoiser/models/res_unet.py",
                 "denoiser/data/samples.npz", "weights/manifest.json", "weights/mnist/res_unet.keras"):
        assert f"  {name}  ->  spaces/you/the-denoiser/{name}\n" in out
    assert "tests/" not in out and "training/" not in out and "__pycache__" not in out


def test_space_without_weights_points_the_app_at_the_model_repository(capsys):
    plan = space_plan(PROJECT_ROOT, with_weights=False, weights_repo="you/denoiser-weights")
    assert "weights/manifest.json" in plan.files and not any(name.endswith(".keras") for name in plan.files)
    assert plan.variables == {"DENOISER_HUB_REPO": "you/denoiser-weights"}
    main(["--space", "you/the-denoiser", "--without-weights", "--weights-repo", "you/denoiser-weights", "--dry-run"])
    assert "Space variable DENOISER_HUB_REPO=you/denoiser-weights" in capsys.readouterr().out


@pytest.mark.parametrize("flag", [["--space", "you/the-denoiser"], ["--repo", "you/denoiser-weights"]])
def test_publishing_without_a_token_or_offline_says_so_before_uploading(flag, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no stored login either
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "token"))
    with pytest.raises(SystemExit, match="No Hugging Face token: set HF_TOKEN"):
        main(flag)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SystemExit, match="HF_HUB_OFFLINE is set"):
        main(flag)
    assert capsys.readouterr().out == ""  # failed before listing or uploading anything


def test_a_hub_that_refuses_or_cannot_be_reached_gives_a_clear_message(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")  # offline: a connection error; online: refused
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(SystemExit, match=r"Publishing to the Space you/the-denoiser failed \(\w+"):
        main(["--space", "you/the-denoiser"])
