"""The forecaster's pretrained members (xl_lstm.forecasting.pretrained): the shipped file and its
recipe, training by the recipe, and ``fit_auto(start="pretrained")``, which trains nothing.

The shipped weights are data: every number computed from them is the same on any machine, so
those are compared exactly; what pretraining reaches is checked by its properties."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.forecasting.test_auto import seasonal_panel
from xl_lstm.core.errors import LSTMError
from xl_lstm.forecasting import pretrained
from xl_lstm.forecasting.auto import fit_auto, forecast_auto
from xl_lstm.forecasting.pretrained import PRETRAINED, RECIPE, lines, load_pretrained, pretrain


def test_the_shipped_members_are_the_recipes_shape_and_record_the_recipe() -> None:
    members = load_pretrained()
    H = RECIPE.hidden
    assert len(members) == len(RECIPE.seeds)
    for p in members:
        assert p.W.shape == (4 * H, H + 1) and np.asarray(p.W_y).shape == (1, H)
    record = json.loads(PRETRAINED.read_text(encoding="utf-8"))
    assert record["recipe"] == RECIPE.as_dict()  # the file was made by the recipe in the code
    assert set(record["trained_on"]["series"]) == set(RECIPE.sources) and "quick" not in record["trained_on"]
    assert sum(record["trained_on"]["series"].values()) > 1000


def test_the_lines_are_rising_and_falling_changes_of_one() -> None:
    us = lines(replace(RECIPE, lines=3, line_length=10))
    assert len(us) == 6 and all(u.shape == (10,) for u in us)
    assert [float(u[0]) for u in us] == [1.0, 1.0, 1.0, -1.0, -1.0, -1.0] and all(np.all(u == u[0]) for u in us)


def test_pretraining_lowers_the_loss_and_is_deterministic_on_one_machine() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(60)
    inputs = [np.sin(2 * np.pi * (t + k) / 12) + rng.normal(0, 0.1, t.size) for k in range(8)]
    recipe = replace(RECIPE, updates=120, lines=2, seeds=(0, 1))
    seen: list[np.ndarray] = []
    a = pretrain(inputs, recipe, lambda epoch, epochs, losses: seen.append(losses))
    b = pretrain(inputs, recipe)
    assert len(a) == 2
    assert np.all(seen[-1] < 0.5 * seen[0]), (seen[0], seen[-1])  # both members learnt the wave
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.W, q.W)


def test_a_pretrained_fit_trains_nothing_and_uses_the_shipped_members() -> None:
    panel = seasonal_panel(4)
    epochs: list[object] = []
    model = fit_auto(panel, 6, start="pretrained", on_epoch=epochs.append)
    assert epochs == []  # no training: no epoch to report
    for p, q in zip(model.members, load_pretrained(), strict=True):
        np.testing.assert_array_equal(p.W, q.W)
    assert model.config.start == "pretrained" and "3 pretrained LSTMs H=16" in model.describe()
    assert model.scores[model.damping, model.weight] == min(model.scores.values())  # validation still chooses
    out = forecast_auto(model, 6).forecasts
    for k, y in panel.items():
        r = out[k]
        assert np.all(np.isfinite(r.mean)) and np.all(r.lower[0.8] <= r.mean) and np.all(r.mean <= r.upper[0.8])
        assert np.all(np.abs(np.log(r.mean / y[-12:-6])) < 0.5)  # about a season ago's level, not off the chart


def test_a_pretrained_fit_of_one_member_takes_the_first() -> None:
    model = fit_auto(seasonal_panel(2), 6, start="pretrained", members=1)
    np.testing.assert_array_equal(model.members[0].W, load_pretrained()[0].W)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"start": "warm"}, "start must be 'scratch' or 'pretrained', got 'warm'"),
        ({"start": "pretrained", "hidden": 8}, "the pretrained members are 3 LSTMs of H=16: members=3, hidden=8 "),
        ({"start": "pretrained", "members": 5}, "members=5, hidden=16 need them trained here"),
    ],
)
def test_a_start_the_shipped_members_cannot_give_is_one_line(settings: dict, message: str) -> None:
    with pytest.raises(LSTMError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        fit_auto(seasonal_panel(2), 6, **settings)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("{not json", "cannot be read"),
        ('{"members": [{"W": [[1.0]], "b": [0.0], "W_y": [[1.0]], "b_y": [0.0]}]}', "member 0 is not a finite LSTM"),
        ('{"no members": []}', "cannot be read"),
    ],
)
def test_a_damaged_members_file_is_one_line_naming_it(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "members.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LSTMError, match=said) as info:
        pretrained.load_pretrained(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("n", [50, 100, 300])
@pytest.mark.parametrize(("first", "slope"), [(1.0, 1.0), (500.0, -1.0)])
def test_the_pretrained_members_carry_a_straight_line_on_within_1_percent(n: int, first: float, slope: float) -> None:
    """The synthetic lines in the recipe are what teach this (without them: 30 % short)."""
    y = first + slope * np.arange(n, dtype=float)
    r = forecast_auto(fit_auto({"y": y}, 6, start="pretrained")).forecasts["y"]
    truth = first + slope * np.arange(n, n + 6)
    assert np.max(np.abs(r.mean - truth) / np.abs(truth)) < 0.01, r.mean
