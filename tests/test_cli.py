import numpy as np
import pytest
from PIL import Image

from denoiser.__main__ import main


def test_batch_cli_denoises_files_and_folders_and_skips_broken_ones(use_weights, tmp_path, capsys):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(np.full((40, 60, 3), 120, np.uint8)).save(folder / "a.png")
    Image.fromarray(np.full((20, 20), 200, np.uint8)).save(folder / "sub" / "b.jpg")
    (folder / "broken.png").write_bytes(b"not really a png")
    single = tmp_path / "c.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(single)

    status = main([str(folder), str(single), "--out", str(tmp_path / "out"), "--noise", "gaussian:0.2"])

    assert status == 1
    assert "broken.png" in capsys.readouterr().err
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["a.png", "a_noisy.png", "b.png", "b_noisy.png", "c.png", "c_noisy.png"]
    assert Image.open(tmp_path / "out" / "a.png").size == (60, 40)
    assert Image.open(tmp_path / "out" / "b.png").mode == "L"


def test_batch_cli_all_good_exits_zero_and_bad_flags_explain(use_weights, tmp_path, capsys):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    assert main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o")]) == 0
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--noise", "blur:1"])
    assert "KIND:LEVEL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--dataset", "fashion_mnist"])
    assert "No weights" in capsys.readouterr().err
