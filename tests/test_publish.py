from training.publish import main


def test_dry_run_lists_files_and_prints_the_model_card(use_weights, capsys):
    main(["--repo", "someone/denoiser-weights", "--weights-dir", str(use_weights), "--dry-run"])
    out = capsys.readouterr().out
    assert "Would upload to someone/denoiser-weights: 6 files" in out
    for name in ("mnist/res_unet.keras", "cifar10/latent_ae.keras", "manifest.json"):
        assert name in out
    assert "| MNIST | `res_unet` (Residual U-Net, all noise kinds)" in out
    assert "Intended use and limits" in out
    assert "python -m training.train --dataset cifar10 --model latent_ae" in out
