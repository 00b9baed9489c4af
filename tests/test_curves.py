import json

import pytest
import tensorflow as tf

from training import curves, train


def write_validation_curves(runs_dir, dataset, model, loss, psnr):
    """Event files as Keras's TensorBoard callback wrote them for earlier runs (step = epoch - 1)."""
    writer = tf.summary.create_file_writer(str(runs_dir / dataset / model / "logs" / "validation"))
    with writer.as_default():
        for epoch, (l, p) in enumerate(zip(loss, psnr)):
            tf.summary.scalar("epoch_loss", l, step=epoch)
            tf.summary.scalar("epoch_psnr", p, step=epoch)
    writer.close()


def test_the_winner_is_judged_at_the_epoch_each_model_keeps(tmp_path, capsys):
    runs = tmp_path / "runs"
    # cnn_pool's PSNR peaks after its best loss; what counts is the epoch early stopping keeps
    write_validation_curves(runs, "mnist", "cnn_pool", [0.5, 0.3, 0.4], [10.0, 15.0, 25.0])
    write_validation_curves(runs, "mnist", "cnn_dense", [0.2, 0.1], [18.0, 20.0])
    curves.main(["--runs-dir", str(runs), "--datasets", "mnist", "--models", "cnn_pool,cnn_dense",
                 "--logs-dir", str(tmp_path / "logs"), "--out", str(tmp_path / "out")])
    (summary,) = json.loads((tmp_path / "out" / "study_curves.json").read_text())
    assert summary["winner"] == "cnn_dense" and summary["study_pick_wins"]
    assert summary["models"]["cnn_pool"] == {"epochs": 3, "kept_epoch": 2, "val_loss": 0.3, "val_psnr": 15.0}
    assert (tmp_path / "out" / "study_curves_mnist.png").stat().st_size > 1000
    assert "winner: cnn_dense, the study's pick" in capsys.readouterr().out


def test_each_dataset_keeps_its_summary_when_another_is_drawn(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "out"
    for dataset, psnr in (("fashion_mnist", 12.0), ("mnist", 20.0), ("mnist", 21.0)):  # the last redraws mnist
        write_validation_curves(runs, dataset, "cnn_pool", [0.5, 0.4], [10.0, psnr])
        curves.main(["--runs-dir", str(runs), "--datasets", dataset, "--models", "cnn_pool",
                     "--logs-dir", str(tmp_path / "logs"), "--out", str(out)])
    summaries = json.loads((out / "study_curves.json").read_text())
    assert [(s["dataset"], s["models"]["cnn_pool"]["val_psnr"]) for s in summaries] == [
        ("mnist", 21.0), ("fashion_mnist", 12.0)]


def test_finished_runs_logs_are_kept_and_drawn_again_without_the_runs(tmp_path):
    runs, logs, out = tmp_path / "runs", tmp_path / "logs", tmp_path / "out"
    write_validation_curves(runs, "mnist", "cnn_pool", [0.5, 0.4], [10.0, 11.0])
    args = ["--datasets", "mnist", "--models", "cnn_pool", "--logs-dir", str(logs), "--out", str(out)]
    curves.main(["--runs-dir", str(runs), *args])
    assert list((logs / "mnist" / "cnn_pool" / "validation").glob("events.out.tfevents*"))
    # a run started again and still going (its backup folder is there) does not replace the finished one's logs
    (runs / "mnist" / "cnn_pool" / train.BACKUP).mkdir()
    write_validation_curves(runs, "mnist", "cnn_pool", [0.6], [9.0])
    curves.main(["--runs-dir", str(runs), *args])
    assert curves.validation_curves(logs / "mnist" / "cnn_pool")["psnr"] == {1: 10.0, 2: 11.0}
    # another machine, no runs at all: the kept logs draw the same curves
    curves.main(["--runs-dir", str(tmp_path / "nothing"), *args])
    (summary,) = json.loads((out / "study_curves.json").read_text())
    assert summary["models"]["cnn_pool"] == {"epochs": 2, "kept_epoch": 2, "val_loss": 0.4, "val_psnr": 11.0}


def test_the_kept_epoch_is_early_stoppings_not_the_lowest_loss():
    """Epochs 3 and 4 lower the loss by under 0.1% of it: early stopping keeps epoch 2's weights."""
    losses = {1: 1.0, 2: 0.9, 3: 0.8995, 4: 0.8993}
    assert curves.kept_epoch({"loss": losses}) == 2
    assert curves.kept_epoch({"loss": losses}, min_delta=0.0) == 4


def test_a_resumed_run_reads_as_one_curve(tmp_path):
    write_validation_curves(tmp_path, "mnist", "cnn_pool", [0.5, 0.4], [10.0, 11.0])
    write_validation_curves(tmp_path, "mnist", "cnn_pool", [0.5, 0.35, 0.3], [10.0, 11.5, 12.0])  # redid epoch 2
    logs = tmp_path / "mnist" / "cnn_pool" / "logs"
    assert curves.validation_curves(logs)["psnr"] == {1: 10.0, 2: 11.5, 3: 12.0}


def test_missing_curves_name_the_runs_to_make(tmp_path, capsys):
    write_validation_curves(tmp_path, "mnist", "cnn_pool", [0.5], [10.0])
    with pytest.raises(SystemExit):
        curves.main(["--runs-dir", str(tmp_path), "--datasets", "mnist", "--logs-dir", str(tmp_path / "logs"),
                     "--out", str(tmp_path / "out")])
    assert "cnn_dense, cnn_unpadded, cnn_deep" in capsys.readouterr().err


def test_study_models_in_study_order_and_converge_flag():
    assert curves.STUDY_MODELS == ["cnn_pool", "cnn_dense", "cnn_unpadded", "cnn_deep"]
    config = train.parse_args(["--dataset", "mnist", "--model", "cnn_pool", "--converge", "--patience", "2"])
    assert (config.epochs, config.val_fraction, config.patience) == (train.CONVERGE["epochs"],
                                                                     train.CONVERGE["val_fraction"], 2)
    plain = train.parse_args(["--dataset", "mnist", "--model", "cnn_pool"])
    assert (plain.epochs, plain.val_fraction, plain.patience) == (10, 0.0, None)
