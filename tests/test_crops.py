import numpy as np
import pytest
from PIL import Image

from training import crops


def test_the_most_textured_images_come_first():
    flat = np.full((8, 8, 1), 0.5)
    ramp = np.tile(np.linspace(0, 1, 8)[:, None, None], (1, 8, 1)) ** 2
    checker = (np.indices((8, 8)).sum(0) % 2)[..., None].astype(float)
    assert list(crops.most_textured(np.stack([flat, checker, ramp]), 2)) == [1, 2]


def test_the_figure_shows_the_psnr_model_beside_the_gan(gan_weights, synthetic_data_dir, tmp_path):
    crops.main(["--dataset", "cifar10", "--count", "2", "--pool", "8", "--out", str(tmp_path)])
    width, height = Image.open(tmp_path / "sharp_crops_cifar10.png").size
    assert width > 1.5 * height  # four columns (clean, noisy, two models), two rows


def test_a_dataset_without_a_gan_is_refused_with_what_to_do(gan_weights, synthetic_data_dir, capsys):
    with pytest.raises(SystemExit):
        crops.main(["--dataset", "mnist"])
    assert "no trained res_unet_gan for mnist" in capsys.readouterr().err


@pytest.mark.parametrize("count", ["0", "9"])
def test_the_count_must_fit_the_pool(count, capsys):
    with pytest.raises(SystemExit):
        crops.main(["--dataset", "cifar10", "--count", count, "--pool", "8"])
    assert f"--count {count}: between 1 and --pool (8)" in capsys.readouterr().err
