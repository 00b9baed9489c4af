import shutil

import keras
import numpy as np
import pytest

from training import train
from training.stopping import EarlyStopping, ReduceLROnPlateau, StoppingState


def _session(folder, model, losses, first_epoch, min_delta=0.0):
    """One working session of a --converge run: its callbacks fresh, as a restarted process makes them."""
    early = EarlyStopping(patience=3, min_delta=min_delta, restore_best_weights=True)
    plateau = ReduceLROnPlateau(factor=0.5, patience=2, min_delta=min_delta)
    callbacks = [early, plateau, StoppingState(folder, [early, plateau])]
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()
    stopped_at = None
    for epoch, loss in enumerate(losses, start=first_epoch):
        model.set_weights([np.full_like(w, epoch) for w in model.get_weights()])  # weights that name their epoch
        for callback in callbacks:
            callback.on_epoch_end(epoch, {"val_loss": loss})
        if model.stop_training:
            stopped_at = epoch
            break
    return early, stopped_at


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    return model


def test_a_run_resumed_in_a_new_process_stops_and_keeps_its_best_as_one_run_would(tmp_path):
    model = _model()
    _session(tmp_path, model, [1.0, 0.5, 0.7], first_epoch=0)  # the session ends after epoch 2, no train end
    early, stopped_at = _session(tmp_path, model, [0.8, 0.9, 0.95], first_epoch=3)
    assert (early.best, early.best_epoch) == (0.5, 1)
    assert stopped_at == 4  # three epochs without a better loss than epoch 1's: 2, 3 and 4
    assert all(np.all(w == 1) for w in early.best_weights)  # epoch 1's weights, not the restart's


def test_an_epoch_is_better_only_by_a_fraction_of_the_best_loss(tmp_path):
    """min_delta is relative: 0.1% of a loss near 0.08 (cross-entropy) or near 0.003 (squared error) alike."""
    for scale in (0.08, 0.003):
        model = _model()
        losses = [scale * f for f in (1.0, 0.995, 0.9948, 0.9946, 0.9944, 0.9942)]  # after epoch 1: under 0.1%
        early, stopped_at = _session(tmp_path / str(scale), model, losses, first_epoch=0, min_delta=1e-3)
        assert (early.best_epoch, stopped_at) == (1, 4)
        assert model.optimizer.learning_rate.numpy() == pytest.approx(5e-4)  # the plateau's rule is the same one
    early, stopped_at = _session(tmp_path / "absolute", _model(), losses, first_epoch=0)  # no threshold: never stops
    assert (early.best_epoch, stopped_at) == (5, None)


def test_training_stops_with_the_relative_threshold_converge_states():
    config = train.parse_args(["--dataset", "mnist", "--model", "cnn_pool", "--converge"])
    early, plateau, _ = train.stopping_callbacks(config)
    assert early.min_delta == plateau.min_delta == train.CONVERGE["min_delta"] == 1e-3
    assert isinstance(early, EarlyStopping) and isinstance(plateau, ReduceLROnPlateau)


def test_a_finished_run_leaves_nothing_for_the_next_one(tmp_path):
    model = _model()
    early = EarlyStopping(patience=3)
    state = StoppingState(tmp_path, [early])
    for callback in (early, state):
        callback.set_model(model)
        callback.on_train_begin()
        callback.on_epoch_end(0, {"val_loss": 1.0})
    state.on_train_end()
    assert list(tmp_path.iterdir()) == []


def test_a_new_run_inherits_nothing_once_the_backup_is_gone(tmp_path):
    backup = tmp_path / "backup"
    model = _model()
    _session(backup, model, [1.0, 0.5, 0.7], first_epoch=0)
    shutil.rmtree(backup)  # what Keras does when a run ends, or a person does by hand
    early, stopped_at = _session(backup, model, [0.8, 0.9, 0.95, 0.97], first_epoch=0)
    assert (early.best, early.best_epoch, stopped_at) == (0.8, 0, 3)


@pytest.mark.parametrize("damage", ["lost weights", "half-written state"])
def test_a_damaged_state_starts_the_count_afresh_rather_than_keeping_the_wrong_weights(tmp_path, damage):
    model = _model()
    _session(tmp_path, model, [1.0, 0.5, 0.7], first_epoch=0)
    if damage == "lost weights":
        (tmp_path / "stopping_best.npz").unlink()
    else:
        (tmp_path / "stopping.json").write_text('[{"wait": 1, "be')
    with pytest.warns(UserWarning, match="afresh"):
        early, _ = _session(tmp_path, model, [0.8], first_epoch=3)
    assert (early.best, early.best_epoch) == (0.8, 3)
    assert all(np.all(w == 3) for w in early.best_weights)


def test_training_keeps_the_memory_in_the_backup_that_keras_deletes_when_a_run_ends():
    config = train.parse_args(["--dataset", "mnist", "--model", "cnn_pool", "--converge"])
    keeper = train.stopping_callbacks(config)[-1]
    assert isinstance(keeper, StoppingState) and keeper.folder == config.run_dir / train.BACKUP
