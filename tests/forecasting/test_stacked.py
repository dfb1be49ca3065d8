"""K members trained as one (xl_lstm.forecasting.stacked): each member's numbers are what it alone gives.

* The stacked forward pass equals lstm.engine.run per member, and the stacked gradients equal
  bptt.loss_and_grads per member (itself checked against torch autograd in test_train.py),
  with and without zero-weighted padding.
* Per-member clipping is adam.clip_norm applied to each member.
* A few updates of the forecaster's stacked trainer equal training each member alone with
  bptt.loss_and_grads, adam.clip_norm and Adam on the same schedule, to rounding; also when the
  members' mini-batches differ in length and size (series shorter than the window).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from xl_lstm.forecasting import stacked
from xl_lstm.forecasting.adam import Adam, clip_norm, params_of
from xl_lstm.forecasting.auto import AutoConfig
from xl_lstm.forecasting.bptt import loss_and_grads
from xl_lstm.forecasting.members import schedule, train_members, windows
from xl_lstm.lstm.engine import run
from xl_lstm.lstm.params import LSTMParams

RTOL = 1e-10


def random_members(K: int, H: int, D: int = 1, O: int = 1, seed: int = 0) -> list[LSTMParams]:  # noqa: E741
    rng = np.random.default_rng(seed)
    return [
        LSTMParams(
            rng.normal(0, 0.6, (4 * H, H + D)),
            rng.normal(0, 0.6, 4 * H),
            rng.normal(0, 0.6, (O, H)),
            rng.normal(0, 0.6, O),
        )
        for _ in range(K)
    ]


def close(a: np.ndarray, b: np.ndarray, rtol: float = RTOL) -> bool:
    """Equal to rtol relative to the larger array's scale."""
    return bool(np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("D", [1, 3])
def test_the_stacked_forward_pass_is_the_engines_per_member(D: int) -> None:
    K, T, B, H = 3, 7, 5, 4
    members = random_members(K, H, D)
    X = np.random.default_rng(1).normal(0, 2, (K, T, B, D))
    ws = stacked.Workspace(K, T, B, H, D)
    y = stacked.forward(stacked.stack(members), X, ws)  # (K, T, O, B)
    h = ws.hidden(K, T, B)  # (K, T, H, B)
    for k, p in enumerate(members):
        r = run(p, X[k], outputs="all")
        assert close(h[k].transpose(0, 2, 1), r.h)  # type: ignore[arg-type]
        assert close(y[k].transpose(0, 2, 1), r.y)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "absolute", [None, [False, True, False], [True, True, True]], ids=["squared", "mixed", "absolute"]
)
@pytest.mark.parametrize("D", [1, 2])
def test_stacked_gradients_are_each_members_own(D: int, absolute: list[bool] | None) -> None:
    K, T, B, H = 3, 6, 4, 5
    members = random_members(K, H, D, O=2)
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(K, T, B, D)), rng.normal(size=(K, T, B, 2))
    losses, grads = stacked.loss_and_grads(
        stacked.stack(members),
        X,
        Y,
        np.ones((K, T, B)),
        stacked.Workspace(K, T, B, H, D),
        absolute and np.array(absolute),
    )
    for k, p in enumerate(members):
        loss, g, _, _ = loss_and_grads(p, X[k], Y[k], loss="absolute" if absolute and absolute[k] else "squared")
        assert losses[k] == pytest.approx(loss, rel=RTOL)
        for mine, theirs in zip(grads, g, strict=True):
            assert close(mine[k], theirs)


def test_padding_with_zero_weight_changes_nothing() -> None:
    """Member 0 trains on 6 steps of 4 windows, member 1 on 3 steps of 2: padded to 6×4 with weight 0."""
    K, H = 2, 3
    members = random_members(K, H)
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(K, 6, 4, 1)), rng.normal(size=(K, 6, 4, 1))
    weight = np.ones((K, 6, 4))
    weight[1, 3:], weight[1, :, 2:] = 0.0, 0.0
    X[1, 3:], X[1, :, 2:] = 1e3, -7.0  # whatever the padding holds
    losses, grads = stacked.loss_and_grads(stacked.stack(members), X, Y, weight, stacked.Workspace(K, 8, 5, H))
    for k, (T, B) in enumerate([(6, 4), (3, 2)]):
        loss, g, _, _ = loss_and_grads(members[k], X[k, :T, :B], Y[k, :T, :B])
        assert losses[k] == pytest.approx(loss, rel=RTOL)
        for mine, theirs in zip(grads, g, strict=True):
            assert close(mine[k], theirs)


def test_clipping_is_per_member() -> None:
    rng = np.random.default_rng(4)
    grads = [rng.normal(size=(3, 8, 5)), rng.normal(size=(3, 8)), rng.normal(size=(3, 1, 2)), rng.normal(size=(3, 1))]
    grads = [g * np.array([0.01, 1.0, 100.0]).reshape((3,) + (1,) * (g.ndim - 1)) for g in grads]  # small, mid, big
    clipped = stacked.clip_each(grads, 1.0)
    for k in range(3):
        want = clip_norm([g[k] for g in grads], 1.0)
        for mine, theirs in zip(clipped, want, strict=True):
            np.testing.assert_allclose(mine[k], theirs, rtol=1e-14)
    assert np.sqrt(sum(np.sum(g[2] ** 2) for g in clipped)) == pytest.approx(1.0)


def sequential(groups: list[np.ndarray], cfg: AutoConfig, seed: int, loss: str) -> LSTMParams:
    """One member trained alone the plain way: bptt.loss_and_grads, clip_norm, Adam, the same schedule."""
    from xl_lstm.lstm.params import init_params

    rng = np.random.default_rng(seed)
    p = init_params(1, cfg.hidden, output_size=1, seed=seed)
    arrays = [np.array(p.W), np.array(p.b), np.array(p.W_y), np.array(p.b_y)]
    adam = Adam([a.shape for a in arrays], cfg.lr)
    epochs = max(1, math.ceil(cfg.updates / sum(math.ceil(g.shape[1] / cfg.batch) for g in groups)))
    for _ in range(epochs):
        for j, ix in schedule(groups, cfg.batch, rng):
            W = groups[j][:, ix, None]
            _, grads, _, _ = loss_and_grads(params_of(arrays), W[:-1], W[1:], loss=loss)
            arrays = adam.step(arrays, clip_norm(list(grads), cfg.clip))
    return params_of(arrays)


@pytest.mark.parametrize("lengths", [[40, 33, 50], [40, 9, 12, 30]], ids=["one window length", "several"])
def test_stacked_training_is_each_member_trained_alone(lengths: list[int]) -> None:
    rng = np.random.default_rng(5)
    groups = windows([rng.normal(size=n) for n in lengths], 16)
    cfg = AutoConfig(hidden=6, updates=12, batch=20, clip=0.5)  # several batches an epoch, clipping biting
    seen: list[tuple[int, int]] = []
    together = train_members(groups, cfg, [7, 8, 9], lambda e, n, losses: seen.append((e, n)))
    assert seen == [(e, seen[0][1]) for e in range(1, seen[0][1] + 1)]
    assert cfg.losses == ("squared", "absolute")  # members 7 and 9 on the squared error, 8 on the absolute
    for k, (seed, mine) in enumerate(zip([7, 8, 9], together, strict=True)):
        alone = sequential(groups, cfg, seed, cfg.losses[k % 2])
        for a, b in zip((mine.W, mine.b, mine.W_y, mine.b_y), (alone.W, alone.b, alone.W_y, alone.b_y), strict=True):
            assert close(a, b, 1e-9)  # type: ignore[arg-type]


def test_float32_passes_give_the_float64_gradients_to_float32_precision() -> None:
    K, T, B, H = 3, 12, 8, 6
    stack = stacked.stack(random_members(K, H))
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(K, T, B, 1)), rng.normal(size=(K, T, B, 1))
    w = np.ones((K, T, B))
    l64, g64 = stacked.loss_and_grads(stack, X, Y, w, stacked.Workspace(K, T, B, H))
    l32, g32 = stacked.loss_and_grads(stack, X, Y, w, stacked.Workspace(K, T, B, H, dtype=np.float32))
    np.testing.assert_allclose(l32, l64, rtol=1e-5)
    for a, b in zip(g32, g64, strict=True):
        assert a.dtype == np.float64  # for Adam
        assert close(a, b, 1e-5) and not close(a, b, 1e-12)  # float32's rounding, no more
