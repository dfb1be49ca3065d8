"""The engine against PyTorch's nn.LSTM, the oracle nobody on the team wrote.

Two halves:

* golden tests read tests/fixtures/torch_golden.npz (made by make_torch_golden.py beside
  it) and need no torch: torch's weights go in through ``from_torch`` and our ``run`` and
  ``step`` must give torch's h_t and C_t for every step and layer, and the head's y_t;
* live tests build nn.LSTM modules on the spot (the ``torch`` fixture: skipped where torch
  is missing, failed in CI), compare every step of every layer, push our weights back
  into torch with ``to_torch``, and check that the committed fixture is what the script
  makes today.

Tolerances are absolute and the same everywhere: 1e-12 in float64, 1e-5 in float32.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import xl_lstm as xl
from tests.conftest import FIXTURES
from xl_lstm.lstm.engine import CLIP

GOLDEN = FIXTURES / "torch_golden.npz"
GENERATOR = FIXTURES / "make_torch_golden.py"
ATOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def load_golden() -> dict[str, dict[str, np.ndarray]]:
    """{case name: {"weight_ih_l0": ..., "X": ..., "h": ..., ...}} from the flat "<case>/<key>" file."""
    with np.load(GOLDEN, allow_pickle=False) as z:
        cases: dict[str, dict[str, np.ndarray]] = {str(name): {} for name in z["cases"]}
        for key in z.files:
            name, sep, field = key.partition("/")
            if sep:
                cases[name][field] = z[key]
    return cases


GOLDEN_CASES = load_golden()
CASE_NAMES = sorted(GOLDEN_CASES)
STACKED = [name for name in CASE_NAMES if GOLDEN_CASES[name]["h"].shape[1] > 1]


def close(actual: Any, desired: np.ndarray, what: str) -> None:
    """actual equals desired to ATOL of desired's dtype, and has that dtype."""
    desired = np.asarray(desired)
    assert actual is not None, f"{what}: missing"
    assert actual.dtype == desired.dtype, f"{what}: dtype {actual.dtype}, expected {desired.dtype}"
    np.testing.assert_allclose(actual, desired, rtol=0, atol=ATOL[desired.dtype], err_msg=what)


def torch_state(case: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The case's weights under PyTorch's names (LSTM and head), nothing else."""
    return {k: v for k, v in case.items() if k.startswith(("weight_", "bias_", "head."))}


def golden_params(case: dict[str, np.ndarray]) -> xl.LSTMParams:
    head = "head." if "head.weight" in case else None
    return xl.from_torch(torch_state(case), head_prefix=head)


# ---- the committed fixture itself ------------------------------------------------
def test_golden_fixture_covers_what_the_tests_rely_on() -> None:
    """Small, both dtypes, 1 to 3 layers, a head, nonzero h0/c0, both torch biases nonzero."""
    assert GOLDEN.stat().st_size < 300_000
    cases = GOLDEN_CASES.values()
    assert {c["X"].dtype.name for c in cases} == {"float64", "float32"}
    assert {c["h"].shape[1] for c in cases} == {1, 2, 3}
    assert any("y" in c for c in cases)
    assert any(np.any(c["h0"]) and np.any(c["c0"]) for c in cases)
    for c in cases:
        assert np.any(c["bias_ih_l0"]) and np.any(c["bias_hh_l0"])
        T, L, B, H = c["h"].shape
        assert c["X"].shape[:2] == (T, B) and c["h0"].shape == c["c0"].shape == (L, B, H)
        assert np.all(np.abs(np.diff(c["h"], axis=0)).max(axis=(1, 2, 3)) > 0)  # h moves every step


def test_saturated_cases_reach_the_sigmoid_clip() -> None:
    """The "sat" cases drive some σ pre-activation past ±CLIP, so run()'s clip path is checked against torch."""
    for name in (n for n in CASE_NAMES if n.endswith("_sat")):
        c = GOLDEN_CASES[name]
        H = c["weight_hh_l0"].shape[1]
        h_prev = np.concatenate([c["h0"][None, 0], c["h"][:-1, 0]])  # (T, B, H)
        z = c["X"] @ c["weight_ih_l0"].T + h_prev @ c["weight_hh_l0"].T + c["bias_ih_l0"] + c["bias_hh_l0"]
        sigma_rows = np.r_[0 : 2 * H, 3 * H : 4 * H]  # i, f, o
        assert np.abs(z[..., sigma_rows]).max() > CLIP, name


# ---- golden tests: no torch needed ---------------------------------------------------
@pytest.mark.parametrize("name", CASE_NAMES)
def test_run_matches_torch_at_every_step(name: str) -> None:
    """run() gives torch's top-layer h_t and C_t at every step, every layer's h_n and c_n, and y_t."""
    g = GOLDEN_CASES[name]
    r = xl.run(golden_params(g), g["X"], g["h0"], g["c0"], outputs="all")
    close(r.h, g["h"][:, -1], "h")  # (T, B, H)
    close(r.c, g["c"][:, -1], "C")  # (T, B, H)
    close(r.h_n, g["h"][-1], "h_n")  # (L, B, H)
    close(r.c_n, g["c"][-1], "c_n")  # (L, B, H)
    if "y" in g:
        close(r.y, g["y"], "y")  # (T, B, O)
        close(r.y_last, g["y"][-1], "y_last")  # (B, O)
    else:
        assert r.y is None and r.y_last is None


@pytest.mark.parametrize("name", CASE_NAMES)
def test_reported_gates_rebuild_torchs_states(name: str) -> None:
    """The i, f, g, o that run() reports (what the sheet shows) give torch's C_t and h_t by the seed's equations."""
    g = GOLDEN_CASES[name]
    r = xl.run(golden_params(g), g["X"], g["h0"], g["c0"], outputs="all")
    c_prev = np.concatenate([g["c0"][None, -1], g["c"][:-1, -1]])  # (T, B, H) torch's C_{t-1}, top layer
    close(r.f * c_prev + r.i * r.g, g["c"][:, -1], "f C_{t-1} + i g")
    close(r.o * np.tanh(g["c"][:, -1]), g["h"][:, -1], "o tanh(C_t)")
    assert all(np.all((0 <= s) & (s <= 1)) for s in (r.i, r.f, r.o))  # σ may round to 1


@pytest.mark.parametrize(("chunk_bytes", "batch_tile"), [(1, 1), (1, 3), (2048, 3)])
@pytest.mark.parametrize("name", CASE_NAMES)
def test_tiny_chunks_and_batch_tiles_change_nothing(name: str, chunk_bytes: int, batch_tile: int) -> None:
    """Chunks of one or a few steps and tiles of 1 or 3 series still give torch's numbers."""
    g = GOLDEN_CASES[name]
    r = xl.run(golden_params(g), g["X"], g["h0"], g["c0"], chunk_bytes=chunk_bytes, batch_tile=batch_tile)
    close(r.h, g["h"][:, -1], "h")
    close(r.c, g["c"][:, -1], "C")
    close(r.h_n, g["h"][-1], "h_n")
    close(r.c_n, g["c"][-1], "c_n")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_outputs_h_and_last_agree_with_all(name: str) -> None:
    """outputs="h" and "last" keep less but compute the very same numbers as "all"."""
    g = GOLDEN_CASES[name]
    params = golden_params(g)
    full, only_h, last = (xl.run(params, g["X"], g["h0"], g["c0"], outputs=o) for o in ("all", "h", "last"))
    np.testing.assert_array_equal(only_h.h, full.h)
    assert only_h.c is None and only_h.i is None
    assert last.h is None and last.c is None and last.y is None
    for r in (only_h, last):
        np.testing.assert_array_equal(r.h_n, full.h_n)
        np.testing.assert_array_equal(r.c_n, full.c_n)
        if "y" in g:
            np.testing.assert_array_equal(r.y_last, full.y_last)
    close(last.h_n, g["h"][-1], "h_n")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_one_series_given_as_T_by_D(name: str) -> None:
    """The last series of a batch, given alone as (T, D), gets torch's numbers as (T, H)."""
    g = GOLDEN_CASES[name]
    r = xl.run(golden_params(g), g["X"][:, -1], g["h0"][:, -1], g["c0"][:, -1])  # X (T, D), h0 (L, H)
    close(r.h, g["h"][:, -1, -1], "h")  # (T, H)
    close(r.c, g["c"][:, -1, -1], "C")
    close(r.h_n, g["h"][-1, :, -1], "h_n")  # (L, H)


@pytest.mark.parametrize("name", STACKED)
def test_each_layer_alone_matches_torch(name: str) -> None:
    """params.layer(k) run on torch's layer k-1 h (X for k=0) gives torch's layer k h_t and C_t."""
    g = GOLDEN_CASES[name]
    params = golden_params(g)
    for k in range(params.num_layers):
        below = g["X"] if k == 0 else g["h"][:, k - 1]  # (T, B, D_k)
        r = xl.run(params.layer(k), below, g["h0"][k], g["c0"][k])  # h0[k] (B, H)
        close(r.h, g["h"][:, k], f"layer {k} h")
        close(r.c, g["c"][:, k], f"layer {k} C")


@pytest.mark.parametrize("name", CASE_NAMES)
def test_step_by_step_matches_torch(name: str) -> None:
    """xl.step, once per time step and layer with (h, C) passed along, gives torch's states of every layer."""
    g = GOLDEN_CASES[name]
    params = golden_params(g)
    h, c = list(g["h0"]), list(g["c0"])  # per layer (B, H)
    hs, cs = [], []
    for x_t in g["X"]:  # (B, D)
        below = x_t
        for k in range(params.num_layers):
            s = xl.step(params, below, h[k], c[k], layer=k)
            h[k], c[k], below = s.h, s.c, s.h
        hs.append(np.stack(h))
        cs.append(np.stack(c))
    close(np.stack(hs), g["h"], "h")  # (T, L, B, H)
    close(np.stack(cs), g["c"], "C")


# ---- live torch ---------------------------------------------------------------------
F64, F32 = "f64", "f32"
# (layers, dtype, D, H, T, B): every value of each axis meets both dtypes and every layer count.
LIVE = [
    (1, F64, 1, 1, 1, 1),
    (1, F32, 1, 1, 40, 4),
    (1, F64, 3, 5, 7, 4),
    (1, F32, 3, 5, 40, 1),
    (1, F64, 1, 16, 40, 4),
    (1, F32, 3, 16, 7, 1),
    (1, F64, 3, 16, 40, 1),
    (2, F64, 1, 1, 7, 4),
    (2, F32, 3, 1, 1, 1),
    (2, F64, 3, 5, 40, 1),
    (2, F32, 1, 5, 7, 4),
    (2, F64, 3, 16, 1, 4),
    (2, F32, 1, 16, 40, 4),
    (2, F64, 1, 16, 40, 4),
    (3, F64, 1, 5, 40, 4),
    (3, F32, 3, 5, 7, 1),
    (3, F64, 3, 16, 7, 4),
    (3, F32, 1, 16, 40, 1),
    (3, F64, 1, 1, 40, 1),
    (3, F32, 3, 1, 7, 4),
]
LIVE_IDS = ["l{}_{}_D{}_H{}_T{}_B{}".format(*cfg) for cfg in LIVE]


def np_dtype(name: str) -> np.dtype:
    return np.dtype(np.float64 if name == F64 else np.float32)


def torch_dtype(torch: ModuleType, name: str) -> Any:
    return torch.float64 if name == F64 else torch.float32


def random_lstm(torch: ModuleType, D: int, H: int, layers: int, dtype: str, seed: int, **kw: Any) -> Any:
    """nn.LSTM with every weight and both biases drawn from U(-0.9, 0.9): gates well away from 0.5."""
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(D, H, num_layers=layers, dtype=torch_dtype(torch, dtype), **kw)
    with torch.no_grad():
        for p in lstm.parameters():
            p.uniform_(-0.9, 0.9)
    return lstm


def inputs(T: int, B: int, D: int, L: int, H: int, dtype: str, seed: int) -> tuple[np.ndarray, ...]:
    """X (T, B, D), h0 and c0 (L, B, H), all nonzero."""
    rng = np.random.default_rng(seed)
    dt = np_dtype(dtype)
    X = rng.normal(0, 1.5, (T, B, D)).astype(dt)
    h0 = rng.uniform(-0.5, 0.5, (L, B, H)).astype(dt)
    c0 = rng.normal(0, 1.0, (L, B, H)).astype(dt)
    return X, h0, c0


def torch_steps(torch: ModuleType, lstm: Any, X: np.ndarray, h0: np.ndarray, c0: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every layer's h_t and C_t, (T, L, B, H) each, stepping nn.LSTM one time step at a time."""
    hs, cs = [], []
    with torch.no_grad():
        h, c = torch.from_numpy(h0), torch.from_numpy(c0)
        for x_t in torch.from_numpy(X):  # (B, D)
            _, (h, c) = lstm(x_t[None], (h, c))  # h_n, c_n: (L, B, H)
            hs.append(h.numpy().copy())
            cs.append(c.numpy().copy())
    return np.stack(hs), np.stack(cs)


@pytest.mark.parametrize(("layers", "dtype", "D", "H", "T", "B"), LIVE, ids=LIVE_IDS)
def test_from_torch_matches_every_layer_at_every_step(
    torch: ModuleType, layers: int, dtype: str, D: int, H: int, T: int, B: int
) -> None:
    """A random nn.LSTM imported with from_torch(module): run() and step() give its h_t and C_t for every layer."""
    seed = LIVE.index((layers, dtype, D, H, T, B))
    lstm = random_lstm(torch, D, H, layers, dtype, seed)
    X, h0, c0 = inputs(T, B, D, layers, H, dtype, seed)
    want_h, want_c = torch_steps(torch, lstm, X, h0, c0)  # (T, L, B, H)

    params = xl.from_torch(lstm)
    assert params.dtype == np_dtype(dtype) and params.num_layers == layers
    r = xl.run(params, X, h0, c0)
    close(r.h, want_h[:, -1], "top h")
    close(r.c, want_c[:, -1], "top C")
    close(r.h_n, want_h[-1], "h_n")
    close(r.c_n, want_c[-1], "c_n")

    below = X  # each layer on its own, fed our own h of the layer below
    for k in range(layers):
        rk = xl.run(params.layer(k), below, h0[k], c0[k])
        close(rk.h, want_h[:, k], f"layer {k} h")
        close(rk.c, want_c[:, k], f"layer {k} C")
        below = rk.h

    h, c = list(h0), list(c0)  # and xl.step, one step and one layer at a time
    for t, x_t in enumerate(X):
        for k in range(layers):
            s = xl.step(params, x_t if k == 0 else h[k - 1], h[k], c[k], layer=k)
            h[k], c[k] = s.h, s.c
        close(np.stack(h), want_h[t], f"step {t} h")
        close(np.stack(c), want_c[t], f"step {t} C")


def test_bias_free_lstm_imports_with_zero_bias(torch: ModuleType) -> None:
    """nn.LSTM(bias=False) has no bias keys: b is zero and the numbers still match."""
    lstm = random_lstm(torch, 2, 5, 2, F64, seed=1, bias=False)
    X, h0, c0 = inputs(9, 3, 2, 2, 5, F64, seed=1)
    want_h, want_c = torch_steps(torch, lstm, X, h0, c0)
    params = xl.from_torch(lstm.state_dict())
    assert all(not np.any(b) for _, b in params.layers)
    r = xl.run(params, X, h0, c0)
    close(r.h, want_h[:, -1], "h")
    close(r.c_n, want_c[-1], "c_n")


def random_params(layers: int, dtype: str, D: int = 3, H: int = 5, O: int = 2, seed: int = 0) -> xl.LSTMParams:
    """Our own params (not from torch), with random nonzero biases and a head."""
    rng = np.random.default_rng(seed)
    base = xl.init_params(D, H, output_size=O, num_layers=layers, seed=seed)
    layer_list = [(W, rng.uniform(-1, 1, 4 * H)) for W, _ in base.layers]
    return xl.stack(layer_list, base.W_y, rng.uniform(-1, 1, O), dtype=np_dtype(dtype))


@pytest.mark.parametrize(("layers", "dtype"), [(1, F64), (2, F32), (3, F64)])
def test_to_torch_loads_into_nn_lstm_and_linear(torch: ModuleType, layers: int, dtype: str) -> None:
    """to_torch's arrays load strictly into a fresh nn.LSTM and nn.Linear, which then compute our run()."""
    params = random_params(layers, dtype, seed=layers)
    sd = xl.to_torch(params, head_prefix="head.")
    assert {v.dtype for v in sd.values()} == {np_dtype(dtype)}
    lstm = torch.nn.LSTM(3, 5, num_layers=layers, dtype=torch_dtype(torch, dtype))
    head = torch.nn.Linear(5, 2, dtype=torch_dtype(torch, dtype))
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items() if not k.startswith("head.")})
    head.load_state_dict({k.removeprefix("head."): torch.from_numpy(v) for k, v in sd.items() if k.startswith("head.")})

    X, h0, c0 = inputs(11, 4, 3, layers, 5, dtype, seed=layers)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(torch.from_numpy(X), (torch.from_numpy(h0), torch.from_numpy(c0)))
        y = head(out)  # (T, B, O)
    r = xl.run(params, X, h0, c0)
    close(r.h, out.numpy(), "h")
    close(r.h_n, h_n.numpy(), "h_n")
    close(r.c_n, c_n.numpy(), "c_n")
    close(r.y, y.numpy(), "y")


def lstm_with_head(torch: ModuleType, layers: int, seed: int) -> Any:
    """A bigger model: ModuleDict(lstm=nn.LSTM(3, 5), head=nn.Linear(5, 2)); keys "lstm.*", "head.*"."""
    torch.manual_seed(seed)
    return torch.nn.ModuleDict(
        {
            "lstm": torch.nn.LSTM(3, 5, num_layers=layers, dtype=torch.float64),
            "head": torch.nn.Linear(5, 2, dtype=torch.float64),
        }
    )


@pytest.mark.parametrize("layers", [1, 2])
def test_from_torch_finds_the_lstm_inside_a_bigger_model(torch: ModuleType, layers: int) -> None:
    """from_torch finds the "lstm." prefix by itself and takes the head by head_prefix; y matches torch."""
    net = lstm_with_head(torch, layers, seed=10 + layers)
    X, h0, c0 = inputs(8, 2, 3, layers, 5, F64, seed=layers)
    with torch.no_grad():
        out, (h_n, _) = net["lstm"](torch.from_numpy(X), (torch.from_numpy(h0), torch.from_numpy(c0)))
        y = net["head"](out).numpy()  # (T, B, 2)
    for source in (net.state_dict(), net):
        params = xl.from_torch(source, head_prefix="head.")
        assert params.num_layers == layers and params.output_size == 2
        r = xl.run(params, X, h0, c0)
        close(r.h, out.numpy(), "h")
        close(r.h_n, h_n.numpy(), "h_n")
        close(r.y, y, "y")


def test_to_torch_with_prefixes_round_trips_through_a_bigger_model(torch: ModuleType) -> None:
    """to_torch(prefix="lstm.", head_prefix="head.") loads strictly into the bigger model and reads back equal."""
    params = random_params(2, F64, seed=7)
    net = lstm_with_head(torch, 2, seed=0)
    net.load_state_dict(
        {k: torch.from_numpy(v) for k, v in xl.to_torch(params, prefix="lstm.", head_prefix="head.").items()}
    )
    back = xl.from_torch(net, head_prefix="head.")
    for (W, b), (W2, b2) in zip(params.layers, back.layers, strict=True):
        np.testing.assert_array_equal(W2, W)
        np.testing.assert_array_equal(b2, b)
    np.testing.assert_array_equal(back.W_y, params.W_y)
    np.testing.assert_array_equal(back.b_y, params.b_y)


@pytest.mark.parametrize("wrapped", [False, True], ids=["module", "state_dict_in_model"])
@pytest.mark.parametrize(
    ("kwargs", "key", "reason"),
    [
        ({"bidirectional": True}, "weight_ih_l0_reverse", "bidirectional"),
        ({"proj_size": 2}, "weight_hr_l0", "proj_size"),
    ],
    ids=["bidirectional", "proj_size"],
)
def test_from_torch_refuses_what_it_cannot_run(
    torch: ModuleType, kwargs: dict[str, Any], key: str, reason: str, wrapped: bool
) -> None:
    """Bidirectional and projected LSTMs are refused in one line that names the offending key."""
    lstm = torch.nn.LSTM(3, 5, num_layers=2, **kwargs)
    source = torch.nn.ModuleDict({"lstm": lstm}).state_dict() if wrapped else lstm
    with pytest.raises(xl.LSTMError) as exc:
        xl.from_torch(source)
    message = str(exc.value)
    assert "\n" not in message
    assert reason in message
    assert (f"lstm.{key}" if wrapped else key) in message


# ---- the fixture is what the script makes ----------------------------------------------
def generator() -> ModuleType:
    """tests/fixtures/make_torch_golden.py as a module (tests/fixtures is not a package)."""
    spec = importlib.util.spec_from_file_location("make_torch_golden", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_reproduces_the_committed_fixture(torch: ModuleType) -> None:
    """build(torch) today gives the committed file: same keys, inputs and seeded weights bit for bit, states to 1e-13/1e-6."""
    fresh = generator().build(torch)
    with np.load(GOLDEN, allow_pickle=False) as z:
        committed = {k: z[k] for k in z.files}
    assert sorted(fresh) == sorted(committed)
    versions = f"fixture made with torch {committed['torch_version']}, now {torch.__version__}"
    for key, want in committed.items():
        if key == "torch_version":
            continue
        got = fresh[key]
        assert (got.dtype, got.shape) == (want.dtype, want.shape), key
        if key.partition("/")[2] in ("h", "c", "y"):  # computed: allow for another CPU's rounding
            atol = 1e-13 if want.dtype == np.float64 else 1e-6
            np.testing.assert_allclose(got, want, rtol=0, atol=atol, err_msg=f"{key} ({versions})")
        else:
            np.testing.assert_array_equal(got, want, err_msg=f"{key} ({versions})")
