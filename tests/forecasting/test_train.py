"""Training (xl_lstm/train.py): gradients, Adam, fit, forecast and their refusals.

* Gradients are checked against PyTorch autograd (the ``torch`` fixture: skipped where torch
  is missing, failed in CI) on random weights, nonzero h0/c0 and weighted steps, to 1e-10 in
  float64; the truncated-BPTT epoch gradient against torch with the state detached between
  chunks; and against central finite differences, which need nothing but NumPy.
* ``_Adam`` takes torch.optim.Adam's steps.
* ``fit`` is deterministic per seed and trains to a stated error on series with a known
  answer: a sine wave, and trends with seasonality through the log and diff transforms.
* ``forecast``'s conformal intervals are ordered, widen with the level, and cover the backtest.
* Bad input is one line of LSTMError that names the problem.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import xl_lstm as xl
from xl_lstm.forecasting.adam import Adam
from xl_lstm.forecasting.bptt import Grads, epoch_grads, loss_and_grads, sequence_loss
from xl_lstm.forecasting.metrics import mae, smape
from xl_lstm.forecasting.train import Epoch, FitConfig, Model, Scaler, fit_one_lstm, forecast_one_lstm

GRAD_ATOL = 1e-10  # float64 gradients vs torch autograd, absolute


# ---- helpers ---------------------------------------------------------------------------------------
def random_params(rng: np.random.Generator, D: int, H: int, O: int, scale: float = 0.6) -> xl.LSTMParams:
    """Weights drawn from N(0, scale²) everywhere, biases and head included: not init_params's ranges."""
    return xl.LSTMParams(
        rng.normal(0, scale, (4 * H, H + D)),
        rng.normal(0, scale, 4 * H),
        rng.normal(0, scale, (O, H)),
        rng.normal(0, scale, O),
    )


def zeroing_weight(rng: np.random.Generator, T: int) -> np.ndarray:
    """Step weights from 0.5 to 2, with about half the steps (never all) set to 0."""
    w = rng.uniform(0.5, 2.0, T)
    if T > 1:
        w[rng.permutation(T)[: T // 2]] = 0.0
    return w


def torch_net(torch: ModuleType, params: xl.LSTMParams) -> Any:
    """nn.LSTM ("lstm.") + nn.Linear ("head.") in float64, loaded from xl.to_torch(params)."""
    net = torch.nn.Module()
    net.lstm = torch.nn.LSTM(params.input_size, params.hidden_size, dtype=torch.float64)
    net.head = torch.nn.Linear(params.hidden_size, params.output_size, dtype=torch.float64)
    state = xl.to_torch(params, prefix="lstm.", head_prefix="head.")
    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return net


def torch_grads(net: Any) -> dict[str, np.ndarray]:
    """torch's gradients under our names: W = [W_hh | W_ih], b = the grad of bias_ih."""
    lstm, head = net.lstm, net.head
    assert not lstm.bias_hh_l0.detach().numpy().any(), "to_torch puts the whole bias in bias_ih"
    return {
        "W": np.hstack([lstm.weight_hh_l0.grad.numpy(), lstm.weight_ih_l0.grad.numpy()]),
        "b": lstm.bias_ih_l0.grad.numpy(),
        "W_y": head.weight.grad.numpy(),
        "b_y": head.bias.grad.numpy(),
    }


def max_diff(ours: Grads, theirs: dict[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(getattr(ours, k) - v))) for k, v in theirs.items())


def refused(call: Callable[[], Any], *words: str) -> str:
    """call() raises one line of LSTMError containing every word; returns the message."""
    with pytest.raises(xl.LSTMError) as info:
        call()
    msg = str(info.value)
    assert msg and "\n" not in msg, msg
    for word in words:
        assert word in msg, f"{word!r} not in {msg!r}"
    return msg


def sine(n: int, period: int = 12) -> np.ndarray:
    return np.sin(2 * np.pi * np.arange(n) / period)


# ---- gradients against torch autograd ------------------------------------------------------------
@pytest.mark.parametrize("loss_name", ["squared", "absolute"])
@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted"])
@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("T", [1, 5, 30])
@pytest.mark.parametrize("O", [1, 2])
@pytest.mark.parametrize("H", [1, 4, 9])
@pytest.mark.parametrize("D", [1, 3])
def test_loss_and_grads_match_torch_autograd(
    torch: ModuleType, D: int, H: int, O: int, T: int, B: int, weighted: bool, loss_name: str
) -> None:
    """Loss, dW, db, dW_y, db_y and the final (h, C) equal torch's, to 1e-10, from nonzero h0/c0.

    With ``weight`` the torch loss is sum_t w_t·(y - Y)² / (Σw·B·O) (or |y - Y| for the
    absolute loss): steps of weight 0 must drop out of the gradient while still carrying the
    state forward.
    """
    rng = np.random.default_rng([D, H, O, T, B, weighted])
    params = random_params(rng, D, H, O)
    X, Y = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, O))
    h0, c0 = rng.normal(0, 0.5, (B, H)), rng.normal(0, 1.0, (B, H))
    w = zeroing_weight(rng, T) if weighted else np.ones(T)

    loss, grads, h_last, c_last = loss_and_grads(params, X, Y, h0, c0, weight=w if weighted else None, loss=loss_name)

    net = torch_net(torch, params)
    out, (h_n, c_n) = net.lstm(torch.from_numpy(X), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    err = net.head(out) - torch.from_numpy(Y)
    per_value = err.abs() if loss_name == "absolute" else err**2
    torch_loss = (torch.from_numpy(w)[:, None, None] * per_value).sum() / (w.sum() * B * O)
    torch_loss.backward()

    assert abs(loss - torch_loss.item()) <= GRAD_ATOL
    expected = torch_grads(net)
    for name, value in expected.items():
        np.testing.assert_allclose(getattr(grads, name), value, rtol=0, atol=GRAD_ATOL, err_msg=name)
    np.testing.assert_allclose(h_last, h_n[0].detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_last, c_n[0].detach().numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("lookback", "n_train"), [(1, 20), (4, 20), (7, 13), (7, 14), (6, 4), (50, 16)])
def test_epoch_grads_match_torch_truncated_bptt(torch: ModuleType, lookback: int, n_train: int) -> None:
    """_epoch_grads is truncated BPTT: torch's gradient of the mean squared error over the training steps.

    One series x (21, 1): inputs x_0..x_19, targets x_1..x_20. Torch runs it in chunks of
    ``lookback`` steps, carrying (h, C) forward but detached at each chunk boundary, and
    averages (y_t - x_{t+1})² over the steps t < n_train only; the validation tail
    counts for nothing. Chunk sizes that do and do not divide the series, a chunk split by
    n_train, and one chunk for the whole series (full BPTT) are covered.
    """
    rng = np.random.default_rng([lookback, n_train])
    params = random_params(rng, 1, 5, 1)
    x = rng.normal(size=(21, 1))
    T = x.shape[0] - 1

    loss, grads = epoch_grads(params, x, lookback, n_train)

    net = torch_net(torch, params)
    xt = torch.from_numpy(x)[:, None, :]  # (T+1, 1, 1)
    state, total = None, torch.zeros((), dtype=torch.float64)
    for t0 in range(0, min(T, n_train), lookback):
        t1 = min(T, t0 + lookback)
        out, (h, c) = net.lstm(xt[t0:t1], state)
        state = (h.detach(), c.detach())  # the state goes on; the gradient stops here
        counted = torch.arange(t0, t1) < n_train
        total = total + ((net.head(out) - xt[t0 + 1 : t1 + 1]) ** 2)[counted].sum()
    (total / min(T, n_train)).backward()

    assert abs(loss - total.item() / min(T, n_train)) <= GRAD_ATOL
    for name, value in torch_grads(net).items():
        np.testing.assert_allclose(getattr(grads, name), value, rtol=0, atol=GRAD_ATOL, err_msg=name)


def test_epoch_grads_with_one_chunk_is_full_bptt() -> None:
    """With lookback ≥ the series, the epoch gradient is loss_and_grads with the validation tail weighted 0."""
    rng = np.random.default_rng(3)
    params = random_params(rng, 1, 4, 1)
    x = rng.normal(size=(16, 1))
    loss, grads = epoch_grads(params, x, 100, 11)
    weight = (np.arange(15) < 11).astype(float)
    full_loss, full, _, _ = loss_and_grads(params, x[:-1], x[1:], weight=weight)
    assert loss == pytest.approx(full_loss, rel=1e-13)
    for a, b in zip(grads, full, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


# ---- gradients against finite differences (no torch) ---------------------------------------------
@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted"])
def test_loss_and_grads_match_central_differences(weighted: bool) -> None:
    """(L(θ+ε) - L(θ-ε)) / 2ε, ε = 1e-6, agrees with the analytic gradient to 1e-6 (relative).

    Four random coordinates of each of W, b, W_y, b_y, with a batch, two outputs and nonzero
    h0/c0. Relative to max(|g|, 1e-3): below that, rounding in L (≈1e-16/ε) dominates.
    """
    rng = np.random.default_rng(11 + weighted)
    D, H, O, T, B = 2, 3, 2, 7, 2
    params = random_params(rng, D, H, O)
    X, Y = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, O))
    h0, c0 = rng.normal(0, 0.5, (B, H)), rng.normal(0, 1.0, (B, H))
    w = zeroing_weight(rng, T) if weighted else None
    _, grads, _, _ = loss_and_grads(params, X, Y, h0, c0, weight=w)
    arrays = {"W": params.W, "b": params.b, "W_y": params.W_y, "b_y": params.b_y}
    eps = 1e-6

    def loss_with(name: str, index: tuple[int, ...], delta: float) -> float:
        moved = {k: np.array(v) for k, v in arrays.items()}
        moved[name][index] += delta
        return loss_and_grads(xl.LSTMParams(**moved), X, Y, h0, c0, weight=w)[0]

    for name, array in arrays.items():
        for flat in rng.choice(array.size, size=min(4, array.size), replace=False):
            index = np.unravel_index(flat, array.shape)
            numeric = (loss_with(name, index, eps) - loss_with(name, index, -eps)) / (2 * eps)
            analytic = getattr(grads, name)[index]
            assert abs(numeric - analytic) <= 1e-6 * max(abs(analytic), 1e-3), (name, index, numeric, analytic)


def test_sequence_loss_is_the_unweighted_loss() -> None:
    """sequence_loss is loss_and_grads's loss with zero initial states and no weights."""
    rng = np.random.default_rng(5)
    params = random_params(rng, 2, 3, 1)
    X, Y = rng.normal(size=(6, 4, 2)), rng.normal(size=(6, 4, 1))
    assert sequence_loss(params, X, Y) == pytest.approx(loss_and_grads(params, X, Y)[0], rel=1e-14)


def test_initial_state_in_every_shape_run_accepts() -> None:
    """h0/c0 as H numbers (shared by the batch), B×H, or L×B×H give the same loss and gradients."""
    rng = np.random.default_rng(6)
    B, H = 3, 4
    params = random_params(rng, 2, H, 1)
    X, Y = rng.normal(size=(5, B, 2)), rng.normal(size=(5, B, 1))
    h, c = rng.normal(0, 0.5, H), rng.normal(0, 0.5, H)
    shared = loss_and_grads(params, X, Y, h, c)
    for shape in [(B, H), (1, B, H)]:
        other = loss_and_grads(params, X, Y, np.broadcast_to(h, shape), np.broadcast_to(c, shape))
        assert other[0] == shared[0]
        for a, b in zip(other[1], shared[1], strict=True):
            np.testing.assert_array_equal(a, b)


# ---- Adam ---------------------------------------------------------------------------------------------
def test_adam_steps_match_torch_optim_adam(torch: ModuleType) -> None:
    """_Adam's first step, and the two after it, equal torch.optim.Adam's on the same gradients (1e-12).

    Gradients change scale between steps (×0.1, ×1, ×10) and one entry stays 0, so the bias
    corrections and both moment averages are exercised.
    """
    rng = np.random.default_rng(2)
    shapes = [(8, 5), (8,), (1, 2), (1,)]
    ours = [rng.normal(size=s) for s in shapes]
    theirs = [torch.tensor(p, requires_grad=True) for p in ours]
    adam = Adam(shapes, lr=0.05)
    optimizer = torch.optim.Adam(theirs, lr=0.05)
    for scale in (0.1, 1.0, 10.0):
        grads = [rng.normal(size=s) * scale for s in shapes]
        grads[1][0] = 0.0
        ours = adam.step(ours, grads)
        for t, g in zip(theirs, grads, strict=True):
            t.grad = torch.from_numpy(g.copy())
        optimizer.step()
        for p, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p, t.detach().numpy(), rtol=0, atol=1e-12)


# ---- fit: determinism and progress ------------------------------------------------------------
NOISY = sine(60) + np.random.default_rng(0).normal(0, 0.1, 60)


def test_fit_is_deterministic_for_a_seed() -> None:
    """Two fits with the same seed give identical weights, losses and residuals; another seed does not."""
    a, b = (fit_one_lstm(NOISY, hidden=3, epochs=15, seed=4) for _ in range(2))
    c = fit_one_lstm(NOISY, hidden=3, epochs=15, seed=5)
    for x, y, z in zip(
        (a.params.W, a.params.b, a.params.W_y, a.params.b_y),
        (b.params.W, b.params.b, b.params.W_y, b.params.b_y),
        (c.params.W, c.params.b, c.params.W_y, c.params.b_y),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)
    assert (a.train_loss, a.val_loss, a.epochs) == (b.train_loss, b.val_loss, b.epochs)
    np.testing.assert_array_equal(a.residuals, b.residuals)


def test_a_list_of_one_series_is_that_series() -> None:
    """fit([y]) trains exactly the model fit_one_lstm(y) does; fit on two series differs from fit on either."""
    one, listed = fit_one_lstm(NOISY, hidden=3, epochs=10), fit_one_lstm([NOISY], hidden=3, epochs=10)
    np.testing.assert_array_equal(one.params.W, listed.params.W)
    np.testing.assert_array_equal(one.residuals, listed.residuals)
    both = fit_one_lstm([NOISY, NOISY[::-1].copy()], hidden=3, epochs=10)
    assert not np.array_equal(both.params.W, one.params.W)
    assert both.residuals.shape[0] == 2 * one.residuals.shape[0]  # each series' validation tail is backtested


def test_fit_reports_each_epoch_to_its_callback_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """Library code prints nothing; on_epoch hears every epoch, with NaN validation when there is no tail."""
    seen: list[Epoch] = []
    fit_one_lstm(NOISY, hidden=2, epochs=20, on_epoch=seen.append)
    assert [e.epoch for e in seen] == list(range(1, 21)) and {e.epochs for e in seen} == {20}
    assert all(np.isfinite(e.train_loss) and np.isfinite(e.val_loss) for e in seen)
    no_tail: list[Epoch] = []
    fit_one_lstm(NOISY, hidden=2, epochs=5, val_fraction=0, on_epoch=no_tail.append)
    assert len(no_tail) == 5 and all(np.isnan(e.val_loss) for e in no_tail)
    quiet = capsys.readouterr()
    assert (quiet.out, quiet.err) == ("", "")


def test_fit_settings_live_in_one_config() -> None:
    """FitConfig holds every setting; keywords change some; a misspelt one is one line."""
    a = fit_one_lstm(NOISY, FitConfig(hidden=2, epochs=4, seed=1))
    b = fit_one_lstm(NOISY, hidden=2, epochs=4, seed=1)
    np.testing.assert_array_equal(a.params.W, b.params.W)
    with pytest.raises(xl.LSTMError, match="fit has no setting 'hiden'; the settings are clip, diff, epochs"):
        fit_one_lstm(NOISY, hiden=2)
    assert "\n" not in repr(a) and repr(a).startswith("Model(H=2, inputs=1, standard scaler; 4 epochs")


def test_early_stopping_keeps_the_best_validation_weights() -> None:
    """With patience 1 training stops early, and the model's val_loss is the best seen (its weights are kept)."""
    m = fit_one_lstm(NOISY, hidden=3, epochs=400, patience=1, lr=0.2)
    assert m.epochs < 400
    x = m.transform(NOISY)  # the model's own scaled series
    n_train = round((x.shape[0] - 1) * 0.85)  # the first 85% of the steps train; the rest validate
    preds = xl.run(m.params, x[:-1], outputs="h").h @ m.params.W_y.T + m.params.b_y
    assert m.val_loss == pytest.approx(float(np.mean((preds[n_train:] - x[n_train + 1 :]) ** 2)), rel=1e-12)


# ---- known answers ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sine_model() -> Model:
    """hidden 8, 200 epochs on 120 points of a noise-free sine of period 12 (≈0.6 s)."""
    return fit_one_lstm(sine(120), hidden=8, epochs=200, lr=0.02, seed=0)


def test_sine_wave_forecast_reaches_a_stated_error(sine_model: Model) -> None:
    """The next 12 points of sin(2πt/12) after 120: MAE < 0.02 on amplitude 1 (measured 0.0025).

    Over seeds 0-5 and lr 0.01/0.02 the measured MAE was 0.0019-0.0071, so 0.02 has margin.
    """
    truth = sine(132)[120:]
    got = forecast_one_lstm(sine_model, sine(120), 12).mean
    assert got.shape == (12,)
    assert mae(truth, got) < 0.02


def test_multiplicative_trend_and_season_with_log_and_diff() -> None:
    """100·e^(0.01t)·(1 + 0.2 sin(2πt/12)): log+diff, 12 steps after 144, sMAPE < 1% (measured 0.18%).

    Seasonal naive scores ≈12% here (a year of 12% growth), and the measured sMAPE over
    seeds 0-3 was 0.03-0.18%.
    """
    t = np.arange(156)
    y = 100 * np.exp(0.01 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    model = fit_one_lstm(y[:144], hidden=8, epochs=200, lr=0.02, seed=0, log=True, diff=True)
    got = forecast_one_lstm(model, y[:144], 12).mean
    assert smape(y[144:], y[132:144]) > 10  # the naive yardstick
    assert smape(y[144:], got) < 1.0


def test_additive_trend_and_season_with_diff() -> None:
    """20 + 0.3t + 3 sin(2πt/12): diff, 12 steps after 144, MAE < 0.1 on a season of amplitude 3 (measured 0.010).

    Over seeds 0-3 the measured MAE was 0.005-0.010.
    """
    t = np.arange(156)
    y = 20 + 0.3 * t + 3 * np.sin(2 * np.pi * t / 12)
    model = fit_one_lstm(y[:144], hidden=8, epochs=200, lr=0.02, seed=0, diff=True)
    assert mae(y[144:], forecast_one_lstm(model, y[:144], 12).mean) < 0.1


@pytest.mark.parametrize("kind", ["standard", "robust", "minmax"])
def test_scaler_round_trips(kind: str) -> None:
    """Each scaler's inverse undoes its transform (forecasts come back in the series' own units)."""
    X = np.random.default_rng(1).normal(50, 7, (30, 1))
    sc = Scaler.fit(kind, X)
    np.testing.assert_allclose(sc.inverse(sc.transform(X)), X, rtol=1e-14)


# ---- conformal intervals ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def noisy_model() -> Model:
    return fit_one_lstm(NOISY, hidden=6, epochs=80, seed=0)


def test_intervals_are_ordered_and_widen_with_the_level(noisy_model: Model) -> None:
    """lower ≤ mean ≤ upper at every step, the 95% band contains the 80% band, and nothing is NaN.

    The horizon (30) is longer than the backtest's residual columns, so steps beyond them
    (which reuse the last column) are covered too.
    """
    assert noisy_model.residuals.shape[1] < 30
    r = forecast_one_lstm(noisy_model, NOISY, 30, levels=(0.8, 0.95))
    assert np.isfinite(r.mean).all()
    for q in (0.8, 0.95):
        assert np.isfinite(r.lower[q]).all() and np.isfinite(r.upper[q]).all()
        assert (r.lower[q] <= r.mean).all() and (r.mean <= r.upper[q]).all()
    assert (r.upper[0.95] - r.lower[0.95] >= r.upper[0.8] - r.lower[0.8]).all()
    assert (r.upper[0.8] > r.lower[0.8]).any()


def test_one_step_interval_covers_its_level_of_the_backtest(noisy_model: Model) -> None:
    """Split conformal: at least a fraction q of the one-step backtest errors fall inside the q band."""
    errors = np.abs(noisy_model.residuals[:, 0])
    r = forecast_one_lstm(noisy_model, NOISY, 1, levels=(0.5, 0.8))
    for q in (0.5, 0.8):
        half_width = r.upper[q][0] - r.mean[0]
        assert np.mean(errors <= half_width + 1e-12) >= q


def test_no_validation_tail_means_no_intervals() -> None:
    """val_fraction=0 leaves no residuals: the forecast is there, its intervals are NaN (as documented)."""
    model = fit_one_lstm(NOISY, hidden=2, epochs=5, val_fraction=0)
    r = forecast_one_lstm(model, NOISY, 4)
    assert np.isfinite(r.mean).all()
    assert np.isnan(r.lower[0.8]).all() and np.isnan(r.upper[0.95]).all()


# ---- bad input: one line of LSTMError each ----------------------------------------------------------
GOOD = list(NOISY[:20])


@pytest.mark.parametrize(
    ("series", "kwargs", "words"),
    [
        (GOOD[:7], {}, ("too short", "7 values")),
        (GOOD[:3] + [float("nan")] + GOOD[4:], {}, ("finite", "item 4")),
        ([5.0] * 20, {}, ("constant",)),
        ([1.0] * 10 + [2.0] + [1.0] * 9, {"scaler": "robust"}, ("constant", "robust")),
        (GOOD[:2] + ["n/a"] + GOOD[3:], {}, ("text 'n/a'", "item 3")),
        (GOOD, {"log": True}, ("log", "positive")),
        (GOOD, {"hidden": 0}, ("hidden",)),
        (GOOD, {"hidden": 2.5}, ("hidden",)),
        (GOOD, {"epochs": 0}, ("epochs",)),
        (GOOD, {"epochs": True}, ("epochs",)),
        (GOOD, {"lookback": 0}, ("lookback",)),
        (GOOD, {"lookback": 2.5}, ("lookback",)),
        (GOOD, {"lookback": "12"}, ("lookback",)),
        (GOOD, {"val_fraction": 0.95}, ("val_fraction",)),
        (GOOD, {"val_fraction": -0.1}, ("val_fraction",)),
        (GOOD, {"val_fraction": "0.1"}, ("val_fraction",)),
        (GOOD, {"lr": -0.01}, ("lr",)),
        (GOOD, {"lr": float("nan")}, ("lr",)),
        (GOOD, {"clip": 0}, ("clip",)),
        (GOOD, {"scaler": "zscore"}, ("scaler",)),
        (GOOD, {"seed": -1}, ("seed",)),
        ([GOOD, GOOD[:5]], {}, ("series[1]", "too short")),
    ],
    ids=lambda v: None if not isinstance(v, dict) else ",".join(map(str, v)) or "series",
)
def test_fit_refuses_bad_input(series: Any, kwargs: dict[str, Any], words: tuple[str, ...]) -> None:
    """Too short, NaN, constant, text, log of non-positives, bad settings: one line naming the problem."""
    refused(lambda: fit_one_lstm(series, **{"epochs": 2, **kwargs}), *words)


@pytest.fixture(scope="module")
def tiny_model() -> Model:
    return fit_one_lstm(NOISY, hidden=2, epochs=3)


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((GOOD, 0), {}, ("horizon",)),
        ((GOOD, 2.5), {}, ("horizon",)),
        ((GOOD, 3), {"levels": (0.8, 1.5)}, ("levels", "1.5")),
        ((GOOD, 3), {"levels": (0.0,)}, ("levels",)),
        ((GOOD[:1], 3), {}, ("history", "too short")),
        ((GOOD[:4] + [float("inf")], 3), {}, ("history", "finite", "item 5")),
        ((GOOD[:4] + [None], 3), {}, ("history", "empty")),
    ],
)
def test_forecast_refuses_bad_input(
    tiny_model: Model, args: tuple[Any, ...], kwargs: dict[str, Any], words: tuple[str, ...]
) -> None:
    """Horizon 0 or fractional, a level outside (0, 1), a too short or non-finite history: one line each."""
    refused(lambda: forecast_one_lstm(tiny_model, *args, **kwargs), *words)


def test_forecast_refuses_what_is_not_a_model(tiny_model: Model) -> None:
    """Passing the bare weights (or anything not from fit) is refused by name."""
    refused(lambda: forecast_one_lstm(tiny_model.params, GOOD, 3), "Model", "LSTMParams")
    refused(lambda: forecast_one_lstm("model.npz", GOOD, 3), "Model", "str")


def test_log_model_refuses_non_positive_history() -> None:
    """A model trained with log=True cannot take the log of a history with a 0 in it."""
    model = fit_one_lstm(np.exp(NOISY), hidden=2, epochs=2, log=True)
    refused(lambda: forecast_one_lstm(model, [1.0, 2.0, 0.0], 3), "log", "positive")


def _loss_case(**change: Any) -> Callable[[], Any]:
    rng = np.random.default_rng(0)
    args = {"params": random_params(rng, 2, 3, 1), "X": rng.normal(size=(5, 2)), "Y": rng.normal(size=(5, 1))}
    args.update(change)
    params, X, Y = args.pop("params"), args.pop("X"), args.pop("Y")
    return lambda: loss_and_grads(params, X, Y, **args)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"params": {"W": 1}}, ("params", "LSTMParams", "dict")),
        ({"params": xl.init_params(2, 3)}, ("head",)),
        ({"params": xl.init_params(2, 3, output_size=1, num_layers=2)}, ("one-layer",)),
        ({"Y": np.zeros((4, 1))}, ("Y must be",)),
        ({"X": [[0.0, float("nan")]] * 5}, ("X", "finite")),
        ({"X": [["a", 1.0]] * 5}, ("X", "text")),
        ({"weight": np.ones(3)}, ("weight", "5")),
        ({"weight": np.zeros(5)}, ("weight",)),
        ({"weight": [1.0, -1.0, 1.0, 1.0, 1.0]}, ("weight",)),
        ({"weight": [1.0, float("nan"), 1.0, 1.0, 1.0]}, ("weight", "finite")),
        ({"weight": ["a"] * 5}, ("weight", "text")),
        ({"h0": np.zeros(7)}, ("h0",)),
    ],
    ids=lambda v: ",".join(v) if isinstance(v, dict) else None,
)
def test_loss_and_grads_refuses_bad_input(change: dict[str, Any], words: tuple[str, ...]) -> None:
    """Not params, no head, two layers, mismatched Y, bad X, and a weight of the wrong length, all zero,
    negative, NaN or text: one line each (never a NaN loss or a NumPy broadcasting error)."""
    refused(_loss_case(**change), *words)


def test_sequence_loss_refuses_mismatched_targets() -> None:
    """sequence_loss does not broadcast a wrong-shaped Y into a plausible-looking number."""
    rng = np.random.default_rng(0)
    params = random_params(rng, 2, 3, 1)
    refused(lambda: sequence_loss(params, rng.normal(size=(5, 2)), np.zeros((1, 1))), "Y must be")
    refused(lambda: sequence_loss(xl.init_params(2, 3), rng.normal(size=(5, 2)), np.zeros((5, 1))), "head")


@pytest.mark.parametrize("H", [1, 3, 8])
def test_one_series_backward_pass_as_step_matrices_is_the_loop(monkeypatch: pytest.MonkeyPatch, H: int) -> None:
    """For one series the backward recursion runs as one matrix product a step (bptt._dh_dc_linear);
    with that path off (LINEAR_BYTES = 0) it runs as written: the same gradients."""
    import xl_lstm.forecasting.bptt as bptt

    rng = np.random.default_rng(H)
    p = random_params(rng, 2, H, 2)
    X, Y = rng.normal(size=(40, 2)), rng.normal(size=(40, 2))
    h0, c0 = rng.normal(size=H), rng.normal(size=H)
    w = rng.uniform(0, 1, 40)
    loss, fast, h, c = loss_and_grads(p, X, Y, h0, c0, weight=w)
    monkeypatch.setattr(bptt, "LINEAR_BYTES", 0)
    loss2, slow, h2, c2 = loss_and_grads(p, X, Y, h0, c0, weight=w)
    assert loss == loss2
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-13)
