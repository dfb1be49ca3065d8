"""The automatic forecaster's K LSTMs: trained side by side on windows of the series, and
forecast from many origins at once (xl_lstm.forecasting.auto decides what to train and when).

Training: every run of L+1 consecutive inputs of every series is a window; each member, from
its own seed and with its own loss (member k: ``losses[k % len(losses)]``, squared or absolute
error), takes Adam steps over shuffled mini-batches of windows, the K members' steps computed
together by ``stacked`` (each member's numbers its own, to rounding).
Forecasting: one pass over a series gives a member's state at each origin; all origins are
then fed back together as one batch, one step at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from ..lstm import engine
from ..lstm.params import LSTMParams, init_params
from . import stacked
from .adam import Adam

__all__ = [
    "TRAIN_DTYPE",
    "Settings",
    "batch_for",
    "member_steps",
    "schedule",
    "states_at_ends",
    "train_members",
    "window_count",
    "windows",
]


class Settings(Protocol):
    """What training reads of the forecaster's settings (auto.AutoConfig has them)."""

    @property
    def hidden(self) -> int: ...
    @property
    def updates(self) -> int: ...
    @property
    def batch(self) -> int | None: ...  # None: batch_for(the windows)
    @property
    def lr(self) -> float: ...
    @property
    def clip(self) -> float: ...
    @property
    def losses(self) -> tuple[str, ...]: ...


def windows(us: Sequence[np.ndarray], window: int) -> list[np.ndarray]:
    """Every run of window+1 consecutive inputs of every series, grouped by length: each (L+1, B)."""
    groups: dict[int, list[np.ndarray]] = {}
    for u in us:
        L = min(window, u.size - 1)
        if L < 1:
            continue
        idx = np.arange(u.size - L)[:, None] + np.arange(L + 1)  # (B_i, L+1)
        groups.setdefault(L, []).append(u[idx])
    return [np.concatenate(g).T for _, g in sorted(groups.items())]


# training's forward and backward passes run in float32 (Adam's weights stay float64): twice as
# fast, and on the development sets the same scores to the digits bench_forecast.py prints
TRAIN_DTYPE: type = np.float32
BATCH, SMALL_BATCH = 256, 128  # windows per mini-batch: the default, and where there are many windows
MANY_WINDOWS = 16_384  # from this many windows on, SMALL_BATCH (see batch_for)


def window_count(lengths: Sequence[int], window: int) -> int:
    """How many windows ``windows`` makes of series of these many inputs each."""
    return sum(n - min(window, n - 1) for n in lengths if n >= 2)


def batch_for(n_windows: int) -> int:
    """Windows per mini-batch for training on ``n_windows`` windows: SMALL_BATCH from MANY_WINDOWS
    on, else BATCH. On the development sets (mean of 3 seeds) 128 gave M1 monthly (29,467
    windows) MASE 1.088 against 1.099 and M3 quarterly (18,208) 1.085 against 1.095; M1
    quarterly (5,021) 1.598 against 1.601; but M1 yearly (844) 3.749 against 3.692 and the ten
    series (1,430 and 878) 1.163 against 1.081: where windows are few, each of the updates needs
    more of them."""
    return SMALL_BATCH if n_windows >= MANY_WINDOWS else BATCH


def schedule(groups: list[np.ndarray], batch: int, rng: np.random.Generator) -> list[tuple[int, np.ndarray]]:
    """One epoch's mini-batches in the order trained: (group, window indices), shuffled by ``rng``."""
    batches = [
        (j, ix)
        for j, g in enumerate(groups)
        for ix in np.array_split(rng.permutation(g.shape[1]), math.ceil(g.shape[1] / batch))
    ]
    return [batches[k] for k in rng.permutation(len(batches))]


def train_members(
    groups: list[np.ndarray],
    cfg: Settings,
    seeds: Sequence[int],
    report: Callable[[int, int, np.ndarray], None],
    dtype: type = np.float64,
    start: tuple[LSTMParams, ...] | None = None,
    updates: int | None = None,
) -> tuple[LSTMParams, ...]:
    """The members, one per seed, trained side by side as one stacked model (``stacked``); each
    has its own initial weights (``start``'s, else its seed's), data order and gradient clipping,
    so each is what training it alone would give (to rounding): Adam on its loss (member k:
    ``cfg.losses[k % len(cfg.losses)]``) over shuffled mini-batches of ``cfg.batch`` windows
    (None: ``batch_for`` their number), about ``updates`` (default ``cfg.updates``) steps, the
    forward and backward passes in ``dtype`` (Adam in float64). ``report(epoch, epochs,
    losses (K,))`` after each pass over the windows."""
    K = len(seeds)
    rngs = [np.random.default_rng(s) for s in seeds]
    absolute = np.array([cfg.losses[k % len(cfg.losses)] == "absolute" for k in range(K)])
    arrays = stacked.stack(start or [init_params(1, cfg.hidden, output_size=1, seed=s) for s in seeds])
    adam = Adam([a.shape for a in arrays], cfg.lr)
    n_windows = sum(g.shape[1] for g in groups)
    batch = cfg.batch or batch_for(n_windows)
    per_epoch = sum(math.ceil(g.shape[1] / batch) for g in groups)
    epochs = max(1, math.ceil((updates or cfg.updates) / per_epoch))
    T_max, B_max = max(g.shape[0] for g in groups) - 1, min(batch, max(g.shape[1] for g in groups))
    ws = stacked.Workspace(K, T_max, B_max, cfg.hidden, dtype=dtype)
    windows, weights = np.empty(K * (T_max + 1) * B_max), np.empty(K * T_max * B_max)
    for epoch in range(1, epochs + 1):
        plans = [schedule(groups, batch, rng) for rng in rngs]
        total = np.zeros(K)
        for step in zip(*plans, strict=True):  # each member's next mini-batch
            T = max(groups[j].shape[0] - 1 for j, _ in step)
            B = max(ix.size for _, ix in step)
            W = windows[: K * (T + 1) * B].reshape(K, T + 1, B)  # (K, L+1, b) windows, zero-padded
            weight = weights[: K * T * B].reshape(K, T, B)  # where the members' batches differ
            W.fill(0.0)
            weight.fill(0.0)
            for k, (j, ix) in enumerate(step):
                L = groups[j].shape[0] - 1
                W[k, : L + 1, : ix.size] = groups[j][:, ix]
                weight[k, :L, : ix.size] = 1.0
            losses, grads = stacked.loss_and_grads(arrays, W[:, :-1, :, None], W[:, 1:, :, None], weight, ws, absolute)
            arrays = adam.step(arrays, stacked.clip_each(grads, cfg.clip))
            total += losses * np.array([ix.size for _, ix in step])
        report(epoch, epochs, total / n_windows)
    return stacked.unstack(arrays)


STATE_CELLS = 1 << 21  # steps × series fed together when finding states at the origins (16 MiB of inputs)


def member_steps(
    members: Sequence[LSTMParams], runs: Sequence[tuple[np.ndarray, Sequence[int] | np.ndarray]], horizon: int
) -> np.ndarray:
    """Each member's û (members, origins, h): for each (u, ends) of ``runs``, the forecasts
    after the inputs u[:e] for every e in ends (one pass over u gives the state at each end),
    all origins fed back together as one batch (lstm.recursive's forecast, batched)."""
    out = []
    for p in members:
        h, c = states_at_ends(p, runs)  # (B, H)
        y = h @ p.W_y.T + p.b_y  # type: ignore[union-attr]  # (B, 1)
        steps = [y[:, 0]]
        for _ in range(horizon - 1):
            s = engine.step(p, y, h, c)
            h, c = s.h, s.c
            y = h @ p.W_y.T + p.b_y  # type: ignore[union-attr]
            steps.append(y[:, 0])
        out.append(np.stack(steps, axis=1))  # (B, h)
    return np.array(out)


def states_at_ends(
    p: LSTMParams, runs: Sequence[tuple[np.ndarray, Sequence[int] | np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """h, C (origins, H): the state after u[:e] for each e in each run's ends, in that order.

    Runs of similar length go through the steps together, left-aligned and zero-padded (what
    follows a run's end does not reach its states), at most STATE_CELLS steps × runs at a
    time; a run alone is engine.run's."""
    ends = [np.asarray(e, dtype=np.intp) for _, e in runs]
    first = np.cumsum([0] + [e.size for e in ends])  # run r's origins are rows first[r]:first[r+1]
    H = p.hidden_size
    h_out, c_out = np.empty((first[-1], H)), np.empty((first[-1], H))
    order = sorted(range(len(runs)), key=lambda r: runs[r][0].size)
    while order:
        chunk = [order.pop()]  # the longest left, then shorter ones while they fit
        T = runs[chunk[0]][0].size
        while order and (len(chunk) + 1) * T <= STATE_CELLS:
            chunk.append(order.pop())
        if len(chunk) == 1:
            r = chunk[0]
            res = engine.run(p, runs[r][0][:, None], outputs="all")  # h, c (T, H)
            h_out[first[r] : first[r + 1]] = res.h[ends[r] - 1]  # type: ignore[index]
            c_out[first[r] : first[r + 1]] = res.c[ends[r] - 1]  # type: ignore[index]
            continue
        X = np.zeros((T, len(chunk), 1))  # (T, R, 1)
        for j, r in enumerate(chunk):
            X[: runs[r][0].size, j, 0] = runs[r][0]
        t_end = np.concatenate([ends[r] - 1 for r in chunk])  # the step after which each origin's state is taken
        column = np.concatenate([np.full(ends[r].size, j) for j, r in enumerate(chunk)])
        row = np.concatenate([np.arange(first[r], first[r + 1]) for r in chunk])
        h = c = np.zeros((len(chunk), H))
        for t in range(int(t_end.max()) + 1):
            s = engine.step(p, X[t], h, c)
            h, c = s.h, s.c
            at = t_end == t
            h_out[row[at]], c_out[row[at]] = h[column[at]], c[column[at]]
    return h_out, c_out
