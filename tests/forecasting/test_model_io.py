"""A model file's every field is checked on load: a damaged one is one line naming the file and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xl_lstm.core.errors import LSTMError
from xl_lstm.forecasting.model_io import load_model, save_model
from xl_lstm.forecasting.train import Model, fit_one_lstm, forecast_one_lstm
from xl_lstm.tables.datasets import load_airpassengers

AIR = load_airpassengers().to_numpy()


@pytest.fixture(scope="module")
def model() -> Model:
    return fit_one_lstm(AIR[:60], hidden=3, epochs=5, seed=2, log=True, season=12)


@pytest.fixture
def saved(model: Model, tmp_path: Path) -> Path:
    return save_model(model, tmp_path / "m.npz")


def damaged(path: Path, change: Callable[[dict[str, np.ndarray]], Any]) -> Path:
    """The model file with some fields changed (a dict of arrays in, edited in place)."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    out = path.with_name("damaged.npz")
    np.savez(out, **arrays)
    return out


def put(field: str, value: Any) -> Callable[[dict[str, np.ndarray]], None]:
    return lambda a: a.__setitem__(field, np.asarray(value))


def drop(field: str) -> Callable[[dict[str, np.ndarray]], None]:
    return lambda a: a.pop(field)


DAMAGES = {  # what was done to the file -> the field the message must name
    "season -5": (put("season", -5), "season"),
    "season 1e12": (put("season", 10**12), "season"),
    "season 12.0": (put("season", 12.0), "season"),
    "season [12]": (put("season", [12]), "season"),
    "log 'yes'": (put("log", "yes"), "log"),
    "log 1": (put("log", 1), "log"),
    "diff 2.0": (put("diff", 2.0), "diff"),
    "scaler_scale 0": (put("scaler_scale", [0.0]), "scaler_scale"),
    "scaler_scale -1": (put("scaler_scale", [-1.0]), "scaler_scale"),
    "scaler_scale nan": (put("scaler_scale", [np.nan]), "scaler_scale"),
    "scaler_scale two": (put("scaler_scale", [1.0, 2.0]), "scaler_scale"),
    "scaler_scale text": (put("scaler_scale", ["1"]), "scaler_scale"),
    "scaler_center inf": (put("scaler_center", [np.inf]), "scaler_center"),
    "scaler_center 2-D": (put("scaler_center", [[0.0]]), "scaler_center"),
    "scaler_kind odd": (put("scaler_kind", "zscore"), "scaler_kind"),
    "scaler_kind number": (put("scaler_kind", 1), "scaler_kind"),
    "residuals inf": (lambda a: a["residuals"].__setitem__((0, 0), np.inf), "residuals"),
    "residuals 1-D": (put("residuals", [1.0, 2.0]), "residuals"),
    "residuals text": (put("residuals", [["a"]]), "residuals"),
    "losses two": (put("losses", [0.1, 0.2]), "losses"),
    "losses negative": (put("losses", [-0.1, 0.2, 5]), "losses"),
    "losses inf": (put("losses", [np.inf, 0.2, 5]), "losses"),
    "epochs 2.5": (put("losses", [0.1, 0.2, 2.5]), "losses"),
    "epochs -1": (put("losses", [0.1, 0.2, -1]), "losses"),
    "a field unknown": (put("extra", 1), "extra"),
    "a second layer": (put("W_1", np.zeros((12, 6))), "W_1"),
    "scaler_center missing": (drop("scaler_center"), "scaler_center"),
    "log missing": (drop("log"), "log"),
    "losses missing": (drop("losses"), "losses"),
    "head of two outputs": (
        lambda a: (a.__setitem__("W_y", np.zeros((2, 3))), a.__setitem__("b_y", np.zeros(2))),
        "W_y",
    ),
    "weights nan": (lambda a: a["W_0"].__setitem__((0, 0), np.nan), "W must be finite"),  # as load says it
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_field_is_one_line_naming_the_file_and_the_field(saved: Path, damage: str) -> None:
    change, field = DAMAGES[damage]
    path = damaged(saved, change)
    with pytest.raises(LSTMError) as err:
        load_model(path)
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"{path}: ") and field in line, line


def test_the_fields_as_saved_come_back_exactly_and_forecast_the_same(model: Model, saved: Path) -> None:
    back = load_model(saved)
    for name in ("log", "diff", "season", "epochs"):
        assert getattr(back, name) == getattr(model, name)
    assert back.season == 12 and back.log is True and back.scaler.kind == model.scaler.kind
    for a, b in ((back.scaler.center, model.scaler.center), (back.scaler.scale, model.scaler.scale)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.residuals, model.residuals)  # NaN where an origin saw fewer values ahead
    np.testing.assert_array_equal(
        [back.train_loss, back.val_loss], [model.train_loss, model.val_loss]
    )  # NaN equals NaN here
    a, b = forecast_one_lstm(model, AIR[:60], 6), forecast_one_lstm(back, AIR[:60], 6)
    np.testing.assert_array_equal(a.mean, b.mean)
    again = load_model(save_model(back, saved.with_name("again.npz")))
    np.testing.assert_array_equal(forecast_one_lstm(again, AIR[:60], 6).mean, a.mean)


def test_a_file_of_an_older_version_without_season_loads_with_none(saved: Path) -> None:
    assert load_model(damaged(saved, drop("season"))).season == 0
