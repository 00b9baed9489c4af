import re

from training.publish import main


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
