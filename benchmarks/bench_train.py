"""Training time per epoch: xl_lstm's NumPy BPTT + Adam against the same model in PyTorch, one thread, same run.

    python benchmarks/bench_train.py            # T=500 steps: B=1 with H=32 and H=8, and B=32 with H=32;
                                                # and the forecaster's mini-batch: 256 windows of 16 steps, H=16
    python benchmarks/bench_train.py --quick    # tiny sizes: checks the script runs

One epoch on each side is one full-sequence BPTT pass over the whole series, the
gradient clipped to global norm 1, and one Adam step (lr 0.01):
    xl_lstm   what fit does per epoch: LSTMParams from the arrays, epoch_grads (lookback =
              the whole series, no validation tail), clip_norm, Adam.step; for B > 1 (fit
              trains one series) loss_and_grads on the (T, B, 1) batch, then clip_norm and Adam
    torch     nn.LSTM(1, H) + nn.Linear(H, 1), MSELoss, backward, clip_grad_norm_,
              torch.optim.Adam, started from the same weights on the same data; bias_hh
              is frozen at 0 so that, as in xl_lstm, one bias vector is trained
fit's per-epoch validation forward pass is left out of both sides. The last case is one
update of the automatic forecaster (xl_lstm.forecasting.auto): a mini-batch of 256 series' windows of
16 steps, H=16, which is what it trains on, one Adam step each.

The second table is the forecaster's real update: its K=3 members trained side by side
(xl_lstm.forecasting.stacked: one stacked forward and backward pass, per-member clipping, one
Adam), each member on its own mini-batch of windows of 24 steps (a monthly series' two seasons),
H=16: B=107 is the airline series' validation training (all its windows), B=256 a full batch.
torch runs the same model: K separate nn.LSTM(1, 16) + nn.Linear(16, 1), each on its own batch,
the K losses summed into one backward, clip_grad_norm_ per member, one torch.optim.Adam over all.
xl_lstm is timed with its passes in float64 and in float32 (stacked.Workspace's dtype).
The data is a synthetic seasonal series with trend and noise, standardised. Each side
runs `repeats` epochs after one warm-up epoch; the median is reported. xl_lstm trains
in float64 only, so the float32 row compares it with torch in float32 (for scale; the
target is same dtype). "Δloss" is the largest relative difference between the two
sides' losses over the run: the same model, trained the same way (float64: about 1e-16
unclipped; clip_grad_norm_ divides by norm + 1e-6, which leaves ~1e-7 once clipping
bites; float32: its rounding). The machine is shared: trust ratios measured in one
run, not absolute times. Target: ≤ 1.5× torch in the same dtype.
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"  # before NumPy or torch load their thread pools

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from xl_lstm.forecasting import stacked  # noqa: E402
from xl_lstm.forecasting.adam import Adam, clip_norm  # noqa: E402
from xl_lstm.forecasting.bptt import epoch_grads, loss_and_grads  # noqa: E402
from xl_lstm.lstm.interop import to_torch  # noqa: E402
from xl_lstm.lstm.params import LSTMParams, init_params  # noqa: E402

LR, CLIP = 0.01, 1.0


@dataclass(frozen=True)
class Case:
    T: int
    B: int
    H: int
    repeats: int


def series(T: int, B: int) -> np.ndarray:
    """(T+1, B, 1): B seasonal series with trend and noise, each standardised."""
    rng = np.random.default_rng(0)
    t = np.arange(T + 1)[:, None]
    phase = rng.uniform(0, 2 * np.pi, B)
    y = 0.02 * t + np.sin(2 * np.pi * t / 12 + phase) + 0.3 * rng.standard_normal((T + 1, B))
    y = (y - y.mean(axis=0)) / y.std(axis=0)
    return y[:, :, None]


def ours_epochs(p0: LSTMParams, data: np.ndarray, epochs: int) -> tuple[list[float], list[float]]:
    """Seconds and loss of each epoch (the first is the warm-up)."""
    arrays = [np.array(p0.W), np.array(p0.b), np.array(p0.W_y), np.array(p0.b_y)]
    adam = Adam([a.shape for a in arrays], LR)
    T, B = data.shape[0] - 1, data.shape[1]
    x1 = data[:, 0, :]  # (T+1, 1): one series, as fit sees it
    times, losses = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        p = LSTMParams(*arrays)
        if B == 1:
            loss, g = epoch_grads(p, x1, T, T)  # lookback = the whole series, all steps count
        else:
            loss, g, _, _ = loss_and_grads(p, data[:-1], data[1:])
        arrays = adam.step(arrays, clip_norm(list(g), CLIP))
        times.append(time.perf_counter() - t0)
        losses.append(loss)
    return times, losses


def torch_epochs(torch, p0: LSTMParams, data: np.ndarray, epochs: int, dtype) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    lstm = torch.nn.LSTM(1, p0.hidden_size).to(dtype)
    head = torch.nn.Linear(p0.hidden_size, 1).to(dtype)
    sd = to_torch(p0, head_prefix="head.")
    lstm.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in sd.items() if not k.startswith("head.")})
    head.load_state_dict(
        {"weight": torch.from_numpy(sd["head.weight"]).to(dtype), "bias": torch.from_numpy(sd["head.bias"]).to(dtype)}
    )
    lstm.bias_hh_l0.requires_grad_(False)  # stays 0: one trained bias, as in xl_lstm (two would take two Adam steps)
    params = [q for q in (*lstm.parameters(), *head.parameters()) if q.requires_grad]
    opt = torch.optim.Adam(params, lr=LR)
    mse = torch.nn.MSELoss()
    X = torch.from_numpy(data[:-1]).to(dtype)
    Y = torch.from_numpy(data[1:]).to(dtype)
    times, losses = [], []
    for _ in range(epochs):
        t0 = time.perf_counter()
        opt.zero_grad()
        out, _ = lstm(X)
        loss = mse(head(out), Y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    return times, losses


def member_data(K: int, T: int, B: int) -> np.ndarray:
    """(K, T+1, B): each member's own windows."""
    return np.stack([series(T, B)[:, :, 0] for _ in range(K)]) + np.arange(K)[:, None, None] * 0.01


def ours_members(
    members: list[LSTMParams], data: np.ndarray, steps: int, dtype: type
) -> tuple[list[float], list[float]]:
    """Seconds and mean loss of each stacked update of the K members (the first is the warm-up)."""
    arrays = stacked.stack(members)
    adam = Adam([a.shape for a in arrays], LR)
    K, T1, B = data.shape
    ws = stacked.Workspace(K, T1 - 1, B, members[0].hidden_size, dtype=dtype)
    X, Y, w = data[:, :-1, :, None], data[:, 1:, :, None], np.ones((K, T1 - 1, B))
    times, losses = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        loss, g = stacked.loss_and_grads(arrays, X, Y, w, ws)
        arrays = adam.step(arrays, stacked.clip_each(g, CLIP))
        times.append(time.perf_counter() - t0)
        losses.append(float(loss.mean()))
    return times, losses


def torch_members(
    torch, members: list[LSTMParams], data: np.ndarray, steps: int, dtype
) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """The same updates in torch: K separate LSTMs and heads, one backward, per-member clipping, one Adam."""
    models, groups = [], []
    for p in members:
        lstm = torch.nn.LSTM(1, p.hidden_size).to(dtype)
        head = torch.nn.Linear(p.hidden_size, 1).to(dtype)
        sd = to_torch(p, head_prefix="head.")
        lstm.load_state_dict({k: torch.from_numpy(v).to(dtype) for k, v in sd.items() if not k.startswith("head.")})
        head.load_state_dict(
            {
                "weight": torch.from_numpy(sd["head.weight"]).to(dtype),
                "bias": torch.from_numpy(sd["head.bias"]).to(dtype),
            }
        )
        lstm.bias_hh_l0.requires_grad_(False)
        models.append((lstm, head))
        groups.append([q for q in (*lstm.parameters(), *head.parameters()) if q.requires_grad])
    opt = torch.optim.Adam([q for g in groups for q in g], lr=LR)
    mse = torch.nn.MSELoss()
    XY = [(torch.from_numpy(d[:-1, :, None]).to(dtype), torch.from_numpy(d[1:, :, None]).to(dtype)) for d in data]
    times, losses = [], []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        per = [mse(head(lstm(X)[0]), Y) for (lstm, head), (X, Y) in zip(models, XY, strict=True)]
        sum(per).backward()
        for g in groups:
            torch.nn.utils.clip_grad_norm_(g, CLIP)
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(float(sum(x.item() for x in per)) / len(per))
    return times, losses


def members_table(torch, quick: bool) -> None:  # type: ignore[no-untyped-def]
    """The forecaster's update: K members side by side against K torch LSTMs, float64 and float32."""
    K, H, T = 3, (4 if quick else 16), (8 if quick else 24)
    print()
    print(f"the forecaster's update: K={K} members side by side, H={H}, windows of T={T} steps, B per member")
    header = (
        f"{'K':>3} {'B':>4} {'dtype':>7} | {'xl_lstm ms':>10} {'torch f32 ms':>12} {'ratio':>6} "
        f"{'torch f64 ms':>12} {'ratio':>6} | {'Δloss':>8}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for B, repeats in ((5, 2), (9, 2)) if quick else ((107, 41), (256, 25)):
        data = member_data(K, T, B)
        members = [init_params(1, H, output_size=1, seed=k) for k in range(K)]
        theirs, their_losses = {}, {}
        for name, dt in (("float32", torch.float32), ("float64", torch.float64)):
            t_torch, their_losses[name] = torch_members(torch, members, data, repeats + 1, dt)
            theirs[name] = statistics.median(t_torch[1:])
        for name, dt in (("float64", np.float64), ("float32", np.float32)):
            t_ours, l_ours = ours_members(members, data, repeats + 1, dt)
            ours = statistics.median(t_ours[1:])
            delta = max(abs(a - b) / abs(b) for a, b in zip(l_ours, their_losses[name], strict=True))
            worst = max(worst, ours / theirs["float32"]) if name == "float32" else worst
            print(
                f"K={K} {B:>4} {name:>7} | {ours * 1e3:>10.2f} {theirs['float32'] * 1e3:>12.2f} "
                f"{ours / theirs['float32']:>6.2f} {theirs['float64'] * 1e3:>12.2f} {ours / theirs['float64']:>6.2f} | "
                f"{delta:>8.1e}"
            )
    print(
        f"target: a batched step <= 1.5x torch float32 on the same model: "
        f"{'met' if worst <= 1.5 else 'NOT met'} with float32 passes (worst ratio {worst:.2f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that the script runs")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    if args.quick:
        cases = [Case(20, 1, 4, 2), Case(20, 4, 8, 2)]
    else:
        cases = [Case(500, 1, 32, 15), Case(500, 1, 8, 15), Case(500, 32, 32, 9), Case(16, 256, 16, 41)]
    print(f"numpy {np.__version__}, torch {torch.__version__}, one thread, median seconds per epoch")
    header = f"{'T':>4} {'B':>3} {'H':>3} {'torch dtype':>11} | {'xl_lstm ms':>10} {'torch ms':>9} {'ratio':>6} | {'Δloss':>8}"
    print(header)
    print("-" * len(header))
    ratios, ratios32 = [], []
    for case in cases:
        data = series(case.T, case.B)
        p0 = init_params(1, case.H, output_size=1, seed=0)
        n = case.repeats + 1
        t_ours, l_ours = ours_epochs(p0, data, n)
        ours = statistics.median(t_ours[1:])
        for name, dtype in (("float64", torch.float64), ("float32", torch.float32)):
            t_torch, l_torch = torch_epochs(torch, p0, data, n, dtype)
            theirs = statistics.median(t_torch[1:])
            delta = max(abs(a - b) / abs(b) for a, b in zip(l_ours, l_torch, strict=True))
            (ratios if name == "float64" else ratios32).append(ours / theirs)
            print(
                f"{case.T:>4} {case.B:>3} {case.H:>3} {name:>11} | {ours * 1e3:>10.2f} {theirs * 1e3:>9.2f} "
                f"{ours / theirs:>6.2f} | {delta:>8.1e}"
            )
    print(
        f"target: xl_lstm (float64) <= 1.5x torch float64 per epoch; "
        f"{'met' if max(ratios) <= 1.5 else 'NOT met'} (worst ratio {max(ratios):.2f})"
    )
    print(f"for scale: xl_lstm (float64, its only dtype) / torch float32: {min(ratios32):.2f} to {max(ratios32):.2f}")
    members_table(torch, args.quick)


if __name__ == "__main__":
    main()
