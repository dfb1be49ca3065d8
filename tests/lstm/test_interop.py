"""Weights in and out of Keras, ONNX, PyTorch state_dicts and our .npz, without any framework.

Each framework's layout is checked against a reference forward pass written here
from that framework's own documented equations, so a transposed block or a wrong
gate order shows up as wrong numbers, not just as a wrong shape.

    ours     W (4H, H+D) = [W_h | W_x], b (4H,)            gates i, f, g, o
    Keras    kernel (D, 4H), recurrent_kernel (H, 4H), bias  gates i, f, c, o
    ONNX     W [1, 4H, D], R [1, 4H, H], B [1, 8H]           gates i, o, f, c
    PyTorch  weight_ih (4H, D), weight_hh (4H, H), 2 biases  gates i, f, g, o
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

import xl_lstm as xl
from xl_lstm.lstm import interop


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg and "Traceback" not in msg, msg
    return msg


# ---- Keras ------------------------------------------------------------------------------
# Reference from keras.layers.LSTM (https://keras.io/api/layers/recurrent_layers/lstm/) and
# LSTMCell.call in keras/src/layers/rnn/lstm.py (default activation tanh, recurrent_activation
# sigmoid, implementation 2):
#     z = x @ kernel + h_prev @ recurrent_kernel + bias      (4H,) split into column blocks i, f, c, o
#     i = σ(z_i); f = σ(z_f); c = f * c_prev + i * tanh(z_c); o = σ(z_o); h = o * tanh(c)
def keras_lstm(X, kernel, recurrent_kernel, bias=None):  # type: ignore[no-untyped-def]
    """X (T, D) -> every h and c, each (T, H), from zero initial states (Keras's default)."""
    H = recurrent_kernel.shape[0]
    h, c = np.zeros(H), np.zeros(H)
    hs, cs = [], []
    for x in X:
        z = x @ kernel + h @ recurrent_kernel + (0.0 if bias is None else bias)
        z_i, z_f, z_c, z_o = z[:H], z[H : 2 * H], z[2 * H : 3 * H], z[3 * H :]
        c = _sigmoid(z_f) * c + _sigmoid(z_i) * np.tanh(z_c)
        h = _sigmoid(z_o) * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def _keras_layer(rng: np.random.Generator, D: int, H: int, bias: bool = True) -> list[np.ndarray]:
    out = [rng.standard_normal((D, 4 * H)), rng.standard_normal((H, 4 * H))]  # kernel, recurrent_kernel
    return out + [rng.standard_normal(4 * H)] if bias else out


def test_from_keras_runs_like_keras() -> None:
    """One Keras LSTM layer: every step's h and c equal the Keras-equation reference."""
    D, H, T = 3, 4, 15
    rng = np.random.default_rng(0)
    weights = _keras_layer(rng, D, H)  # kernel (3, 16), recurrent_kernel (4, 16), bias (16,)
    X = rng.standard_normal((T, D))
    want_h, want_c = keras_lstm(X, *weights)
    p = xl.from_keras(weights)
    assert (p.input_size, p.hidden_size, p.num_layers, p.W_y) == (D, H, 1, None)
    r = xl.run(p, X)
    np.testing.assert_allclose(r.h, want_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.c, want_c, rtol=0, atol=1e-12)


def test_from_keras_two_stacked_layers_and_dense() -> None:
    """Sequential([LSTM(return_sequences=True), LSTM, Dense]): states of both layers and the head."""
    D, H, O, T = 2, 3, 2, 12
    rng = np.random.default_rng(1)
    layer1, layer2 = _keras_layer(rng, D, H), _keras_layer(rng, H, H)
    dense_kernel, dense_bias = rng.standard_normal((H, O)), rng.standard_normal(O)  # (H, O), (O,)
    p = xl.from_keras(layer1 + layer2 + [dense_kernel, dense_bias])
    assert (p.num_layers, p.output_size) == (2, O)

    X = rng.standard_normal((T, D))
    h1, c1 = keras_lstm(X, *layer1)
    h2, c2 = keras_lstm(h1, *layer2)  # the second layer reads the first one's h
    r = xl.run(p, X)
    np.testing.assert_allclose(r.h, h2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.c, c2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.h_n, [h1[-1], h2[-1]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.c_n, [c1[-1], c2[-1]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.y, h2 @ dense_kernel + dense_bias, rtol=0, atol=1e-12)  # Dense: h @ kernel + bias
    np.testing.assert_allclose(r.y_last, h2[-1] @ dense_kernel + dense_bias, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dense", [False, True])
def test_to_keras_gives_back_the_same_arrays(dense: bool) -> None:
    """from_keras then to_keras: the same list, array for array, bit for bit."""
    rng = np.random.default_rng(2)
    weights = _keras_layer(rng, 2, 3) + _keras_layer(rng, 3, 3)
    if dense:
        weights += [rng.standard_normal((3, 1)), rng.standard_normal(1)]
    back = xl.to_keras(xl.from_keras(weights))
    assert len(back) == len(weights)
    for got, want in zip(back, weights, strict=True):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)


def test_from_keras_without_bias() -> None:
    """LSTM(use_bias=False) has no bias array: b is zero, and to_keras writes the zeros out."""
    D, H, T = 2, 3, 10
    rng = np.random.default_rng(3)
    kernel, recurrent = _keras_layer(rng, D, H, bias=False)
    X = rng.standard_normal((T, D))
    want_h, want_c = keras_lstm(X, kernel, recurrent)
    p = xl.from_keras([kernel, recurrent])
    np.testing.assert_array_equal(p.b, np.zeros(4 * H))
    r = xl.run(p, X)
    np.testing.assert_allclose(r.h, want_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.c, want_c, rtol=0, atol=1e-12)
    back = xl.to_keras(p)
    np.testing.assert_array_equal(back[0], kernel)
    np.testing.assert_array_equal(back[1], recurrent)
    np.testing.assert_array_equal(back[2], np.zeros(4 * H))

    # Two bias-free layers and a Dense: still read as two layers and a head.
    layer2 = _keras_layer(rng, H, H, bias=False)
    p2 = xl.from_keras([kernel, recurrent, *layer2, rng.standard_normal((H, 1)), rng.standard_normal(1)])
    assert (p2.num_layers, p2.output_size) == (2, 1)


def _bad_keras_lists() -> list[tuple[str, list]]:
    rng = np.random.default_rng(4)
    k, r, b = _keras_layer(rng, 2, 3)  # (2, 12), (3, 12), (12,)
    return [
        ("empty", []),
        ("kernel only", [k]),
        ("kernel transposed", [k.T, r, b]),
        ("kernel and recurrent swapped", [r, k, b]),
        ("bias of the wrong length", [k, r, b[:-1]]),
        ("three arrays after the LSTM", [k, r, b, np.ones((3, 1)), np.ones(1), np.ones(1)]),
        ("a 3-D array after the LSTM", [k, r, b, np.ones((3, 1, 1))]),
        ("a Dense of the wrong width", [k, r, b, np.ones((5, 1)), np.ones(1)]),
        ("text", [k, r, "bias"]),
        ("NaN in the kernel", [np.where(np.eye(2, 12) > 0, np.nan, k), r, b]),
    ]


@pytest.mark.parametrize("what,weights", _bad_keras_lists(), ids=[w for w, _ in _bad_keras_lists()])
def test_from_keras_refuses_bad_lists(what: str, weights: list) -> None:
    """Anything that is not [LSTM arrays..., optional Dense] is one line, not a wrong model."""
    with pytest.raises(xl.LSTMError) as exc:
        xl.from_keras(weights)
    _one_line(exc)


def test_from_keras_refuses_a_string() -> None:
    with pytest.raises(xl.LSTMError, match="get_weights"):
        xl.from_keras("kernel,recurrent_kernel,bias")  # type: ignore[arg-type]


# ---- ONNX ---------------------------------------------------------------------------------
# Reference from the ONNX LSTM operator (https://onnx.ai/onnx/operators/onnx__LSTM.html),
# default activations f = sigmoid, g = h = tanh, forward direction:
#   it = f(Xt*(Wi^T) + Ht-1*(Ri^T) + Pi (.) Ct-1 + Wbi + Rbi)
#   ft = f(Xt*(Wf^T) + Ht-1*(Rf^T) + Pf (.) Ct-1 + Wbf + Rbf)
#   ct = g(Xt*(Wc^T) + Ht-1*(Rc^T) + Wbc + Rbc)
#   Ct = ft (.) Ct-1 + it (.) ct
#   ot = f(Xt*(Wo^T) + Ht-1*(Ro^T) + Po (.) Ct + Wbo + Rbo)
#   Ht = ot (.) h(Ct)
# W = [Wi, Wo, Wf, Wc] stacked along 4H (gate order i, o, f, c), likewise R;
# B = [Wb, Rb] of 8H; P = [Pi, Po, Pf] of 3H.
def onnx_lstm(X, W, R, B=None, P=None, initial_h=None, initial_c=None):  # type: ignore[no-untyped-def]
    """X (T, D), W [1, 4H, D], R [1, 4H, H], B [1, 8H], P [1, 3H] -> Y_h per step, Y_c per step, each (T, H)."""
    W, R = W[0], R[0]
    H = R.shape[1]
    Wi, Wo, Wf, Wc = np.split(W, 4)  # each (H, D)
    Ri, Ro, Rf, Rc = np.split(R, 4)  # each (H, H)
    B = np.zeros(8 * H) if B is None else B[0]
    Wbi, Wbo, Wbf, Wbc, Rbi, Rbo, Rbf, Rbc = np.split(B, 8)
    P = np.zeros(3 * H) if P is None else P[0]
    Pi, Po, Pf = np.split(P, 3)
    Ht = np.zeros(H) if initial_h is None else initial_h[0, 0]  # initial_h [dirs, batch, H]
    Ct = np.zeros(H) if initial_c is None else initial_c[0, 0]
    hs, cs = [], []
    for Xt in X:
        it = _sigmoid(Xt @ Wi.T + Ht @ Ri.T + Pi * Ct + Wbi + Rbi)
        ft = _sigmoid(Xt @ Wf.T + Ht @ Rf.T + Pf * Ct + Wbf + Rbf)
        ct = np.tanh(Xt @ Wc.T + Ht @ Rc.T + Wbc + Rbc)
        Ct = ft * Ct + it * ct
        ot = _sigmoid(Xt @ Wo.T + Ht @ Ro.T + Po * Ct + Wbo + Rbo)
        Ht = ot * np.tanh(Ct)
        hs.append(Ht)
        cs.append(Ct)
    return np.array(hs), np.array(cs)


def _onnx_node(rng: np.random.Generator, D: int, H: int) -> dict[str, np.ndarray]:
    return {
        "W": rng.standard_normal((1, 4 * H, D)),
        "R": rng.standard_normal((1, 4 * H, H)),
        "B": rng.standard_normal((1, 8 * H)),  # input and recurrent biases, both nonzero
    }


def test_from_onnx_runs_like_onnx() -> None:
    """W, R, B of an ONNX LSTM node: every step's h and c equal the ONNX-spec reference."""
    D, H, T = 3, 4, 15
    rng = np.random.default_rng(10)
    node = _onnx_node(rng, D, H)
    X = rng.standard_normal((T, D))
    h0, c0 = rng.uniform(-1, 1, (1, 1, H)), rng.standard_normal((1, 1, H))  # initial_h/c [dirs, batch, H]
    want_h, want_c = onnx_lstm(X, **node, P=np.zeros((1, 3 * H)), initial_h=h0, initial_c=c0)
    for p in (xl.from_onnx(**node), xl.from_onnx(**node, P=np.zeros((1, 3 * H)))):
        r = xl.run(p, X, h0[0, 0], c0[0, 0])
        np.testing.assert_allclose(r.h, want_h, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r.c, want_c, rtol=0, atol=1e-12)


def test_onnx_reference_sees_peepholes() -> None:
    """The reference really uses P (so refusing nonzero P below is refusing a different model)."""
    D, H = 2, 3
    rng = np.random.default_rng(11)
    node = _onnx_node(rng, D, H)
    X = rng.standard_normal((5, D))
    plain, _ = onnx_lstm(X, **node)
    peep, _ = onnx_lstm(X, **node, P=rng.standard_normal((1, 3 * H)))
    assert np.abs(plain - peep).max() > 1e-3


def test_to_onnx_runs_like_onnx_and_round_trips() -> None:
    """to_onnx(params) fed to the ONNX reference equals run(params); from_onnx(to_onnx(p)) is p exactly."""
    D, H, T = 2, 3, 10
    p = xl.init_params(D, H, seed=12)
    rng = np.random.default_rng(13)
    p = xl.LSTMParams(p.W, rng.standard_normal(4 * H))  # a bias in every gate, not just f
    node = xl.to_onnx(p)
    assert node["W"].shape == (1, 4 * H, D) and node["R"].shape == (1, 4 * H, H) and node["B"].shape == (1, 8 * H)
    X = rng.standard_normal((T, D))
    want_h, want_c = onnx_lstm(X, **node)
    r = xl.run(p, X)
    np.testing.assert_allclose(r.h, want_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.c, want_c, rtol=0, atol=1e-12)

    back = xl.from_onnx(**node)
    np.testing.assert_array_equal(back.W, p.W)
    np.testing.assert_array_equal(back.b, p.b)


def test_onnx_node_round_trips_with_biases_summed() -> None:
    """to_onnx(from_onnx(W, R, B)): W and R exactly; B comes back as [Wb + Rb, 0]."""
    H = 3
    node = _onnx_node(np.random.default_rng(14), 2, H)
    back = xl.to_onnx(xl.from_onnx(**node))
    np.testing.assert_array_equal(back["W"], node["W"])
    np.testing.assert_array_equal(back["R"], node["R"])
    np.testing.assert_array_equal(back["B"][0, : 4 * H], node["B"][0, : 4 * H] + node["B"][0, 4 * H :])
    np.testing.assert_array_equal(back["B"][0, 4 * H :], np.zeros(4 * H))


def test_onnx_gate_order_is_i_o_f_c() -> None:
    """A bias only in ONNX's third block (f) lands in our forget gate."""
    H = 2
    B = np.zeros((1, 8 * H))
    B[0, 2 * H : 3 * H] = 40.0  # Wbf
    p = xl.from_onnx(np.zeros((1, 4 * H, 1)), np.zeros((1, 4 * H, H)), B)
    np.testing.assert_array_equal(p.gate("f")[1], [40.0, 40.0])
    for gate in "igo":
        np.testing.assert_array_equal(p.gate(gate)[1], [0.0, 0.0])


def _bad_onnx() -> list[tuple[str, dict]]:
    rng = np.random.default_rng(15)
    n = _onnx_node(rng, 2, 3)  # H = 3
    two = {k: np.concatenate([v, v]) for k, v in n.items()}  # num_directions = 2
    return [
        ("nonzero peepholes", dict(n, P=np.ones((1, 9)))),
        ("bidirectional", two),
        ("bidirectional R only", dict(n, R=two["R"])),
        ("R not 4H×H", dict(n, R=np.ones((1, 12, 4)))),
        ("W with another H", dict(n, W=np.ones((1, 8, 2)))),
        ("B of 4H, not 8H", dict(n, B=np.ones((1, 12)))),
        ("W of 4 dimensions", dict(n, W=np.ones((1, 1, 12, 2)))),
        ("NaN in R", dict(n, R=np.full((1, 12, 3), np.nan))),
    ]


@pytest.mark.parametrize("what,node", _bad_onnx(), ids=[w for w, _ in _bad_onnx()])
def test_from_onnx_refuses_what_it_cannot_represent(what: str, node: dict) -> None:
    with pytest.raises(xl.LSTMError) as exc:
        xl.from_onnx(**node)
    msg = _one_line(exc)
    if "peephole" in what:
        assert "P" in msg and "peephole" in msg
    if "bidirectional" in what:
        assert "num_directions=2" in msg


def test_to_onnx_refuses_two_layers() -> None:
    """One ONNX LSTM node is one layer: a 2-layer model is refused, not silently cut."""
    with pytest.raises(xl.LSTMError) as exc:
        xl.to_onnx(xl.init_params(2, 3, num_layers=2))
    assert "layer" in _one_line(exc)
    with pytest.raises(xl.LSTMError):
        xl.to_onnx({"W": np.ones((4, 2))})  # type: ignore[arg-type]


# ---- PyTorch state_dict, as NumPy arrays --------------------------------------------------
# Reference from torch.nn.LSTM's documentation (https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html):
#   i = σ(W_ii x + b_ii + W_hi h + b_hi)  f = σ(W_if x + b_if + W_hf h + b_hf)
#   g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
#   c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c');  weight_ih_l0 = (W_ii|W_if|W_ig|W_io) stacked along 4H.
def torch_lstm(X, w_ih, w_hh, b_ih, b_hh):  # type: ignore[no-untyped-def]
    H = w_hh.shape[1]
    h, c = np.zeros(H), np.zeros(H)
    hs = []
    for x in X:
        z = w_ih @ x + b_ih + w_hh @ h + b_hh
        i, f, g, o = _sigmoid(z[:H]), _sigmoid(z[H : 2 * H]), np.tanh(z[2 * H : 3 * H]), _sigmoid(z[3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs)


def _torch_sd(rng: np.random.Generator, D: int, H: int, prefix: str = "", layer: int = 0) -> dict[str, np.ndarray]:
    return {
        f"{prefix}weight_ih_l{layer}": rng.standard_normal((4 * H, D)),
        f"{prefix}weight_hh_l{layer}": rng.standard_normal((4 * H, H)),
        f"{prefix}bias_ih_l{layer}": rng.standard_normal(4 * H),
        f"{prefix}bias_hh_l{layer}": rng.standard_normal(4 * H),
    }


def test_from_torch_joins_weights_and_sums_biases() -> None:
    """W = [weight_hh | weight_ih], b = bias_ih + bias_hh; and it runs like nn.LSTM's equations."""
    D, H = 3, 2
    rng = np.random.default_rng(20)
    sd = _torch_sd(rng, D, H)
    p = xl.from_torch(sd)
    assert p.W.shape == (4 * H, H + D)
    np.testing.assert_array_equal(p.W[:, :H], sd["weight_hh_l0"])
    np.testing.assert_array_equal(p.W[:, H:], sd["weight_ih_l0"])
    np.testing.assert_array_equal(p.b, sd["bias_ih_l0"] + sd["bias_hh_l0"])
    X = rng.standard_normal((12, D))
    np.testing.assert_allclose(xl.run(p, X).h, torch_lstm(X, *sd.values()), rtol=0, atol=1e-12)


def test_to_torch_round_trip_two_layers_and_head() -> None:
    """from_torch(to_torch(p)) is p, bit for bit; keys and shapes are nn.LSTM's."""
    p = xl.init_params(2, 3, num_layers=2, output_size=1, seed=21)
    sd = xl.to_torch(p, prefix="lstm.", head_prefix="head.")
    assert {k: v.shape for k, v in sd.items()} == {
        "lstm.weight_ih_l0": (12, 2), "lstm.weight_hh_l0": (12, 3), "lstm.bias_ih_l0": (12,), "lstm.bias_hh_l0": (12,),
        "lstm.weight_ih_l1": (12, 3), "lstm.weight_hh_l1": (12, 3), "lstm.bias_ih_l1": (12,), "lstm.bias_hh_l1": (12,),
        "head.weight": (1, 3), "head.bias": (1,),
    }  # fmt: skip
    np.testing.assert_array_equal(sd["lstm.bias_hh_l0"], np.zeros(12))
    back = xl.from_torch(sd, head_prefix="head.")
    for (W1, b1), (W2, b2) in zip(back.layers, p.layers, strict=True):
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(back.W_y, p.W_y)
    np.testing.assert_array_equal(back.b_y, p.b_y)


def test_from_torch_finds_the_lstm_inside_a_bigger_model() -> None:
    """A model's state_dict: the LSTM's prefix is found; the head comes with head_prefix."""
    rng = np.random.default_rng(22)
    sd = {"embed.weight": rng.standard_normal((10, 3)), **_torch_sd(rng, 3, 2, "lstm.")}
    sd.update({"head.weight": rng.standard_normal((1, 2)), "head.bias": rng.standard_normal(1)})
    p = xl.from_torch(sd, head_prefix="head.")
    np.testing.assert_array_equal(p.W[:, 2:], sd["lstm.weight_ih_l0"])
    np.testing.assert_array_equal(p.W_y, sd["head.weight"])
    assert xl.from_torch(sd).W_y is None


def test_from_torch_float32_stays_float32() -> None:
    sd = {k: v.astype(np.float32) for k, v in _torch_sd(np.random.default_rng(23), 2, 2).items()}
    assert xl.from_torch(sd).dtype == np.float32


def _bad_state_dicts() -> list[tuple[str, dict, str]]:
    rng = np.random.default_rng(24)
    one = _torch_sd(rng, 2, 3)
    return [
        ("two LSTMs", {**_torch_sd(rng, 2, 3, "enc."), **_torch_sd(rng, 3, 3, "dec.")}, "'enc.', 'dec.'"),
        ("bidirectional", {**one, **{k + "_reverse": v for k, v in one.items()}}, "_reverse"),
        ("no weight_hh", {k: v for k, v in one.items() if "hh" not in k or "bias" in k}, "weight_hh_l0"),
        ("no LSTM at all", {"head.weight": np.ones((1, 3))}, "weight_ih_l0"),
        ("projection", {**one, "weight_hr_l0": np.ones((2, 3))}, "proj_size"),
        ("weight_hh not 4H×H", {**one, "weight_hh_l0": np.ones((12, 4))}, "4H×H"),
        ("bias of 3H", {**one, "bias_hh_l0": np.ones(9)}, "bias_hh_l0"),
        ("a list, not a dict", [1, 2], "state_dict"),  # type: ignore[dict-item]
    ]


@pytest.mark.parametrize("what,sd,named", _bad_state_dicts(), ids=[w for w, _, _ in _bad_state_dicts()])
def test_from_torch_refuses_what_it_cannot_read(what: str, sd: dict, named: str) -> None:
    with pytest.raises(xl.LSTMError) as exc:
        xl.from_torch(sd)
    assert named in _one_line(exc)


def test_from_torch_picks_one_of_two_lstms_by_prefix() -> None:
    rng = np.random.default_rng(25)
    sd = {**_torch_sd(rng, 2, 3, "enc."), **_torch_sd(rng, 3, 4, "dec.")}
    assert xl.from_torch(sd, prefix="dec.").hidden_size == 4
    assert xl.from_torch(sd, prefix="enc.").hidden_size == 3


# ---- our .npz -----------------------------------------------------------------------------
def _assert_same_params(a: xl.LSTMParams, b: xl.LSTMParams) -> None:
    assert a.dtype == b.dtype and a.num_layers == b.num_layers
    for (W1, b1), (W2, b2) in zip(a.layers, b.layers, strict=True):
        assert W1.dtype == W2.dtype
        np.testing.assert_array_equal(W1, W2)
        np.testing.assert_array_equal(b1, b2)
    assert (a.W_y is None) == (b.W_y is None)
    if a.W_y is not None:
        np.testing.assert_array_equal(a.W_y, b.W_y)
        np.testing.assert_array_equal(a.b_y, b.b_y)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("head", [None, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_load_round_trip(tmp_path: Path, layers: int, head: int | None, dtype: str) -> None:
    """Exact round trip; float32 weights load back as float32 (load keeps the stored dtype)."""
    p = xl.init_params(3, 4, num_layers=layers, output_size=head, seed=30, dtype=dtype)
    path = tmp_path / "model.npz"
    assert xl.save(p, path) == path
    back = xl.load(path)
    assert back.dtype == np.dtype(dtype)
    _assert_same_params(back, p)
    assert os.listdir(tmp_path) == ["model.npz"]  # no temp file left behind
    xl.save(p, str(path))  # overwriting works, and str paths are fine
    _assert_same_params(xl.load(str(path)), p)


@pytest.mark.parametrize("interrupt", [OSError("No space left on device"), KeyboardInterrupt()])
def test_save_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupt: BaseException) -> None:
    """A write that dies half way leaves the old file byte for byte, and no temp file."""
    path = tmp_path / "model.npz"
    xl.save(xl.init_params(1, 2, seed=0), path)
    before = path.read_bytes()

    def half_a_write(fh, **arrays):  # type: ignore[no-untyped-def]
        fh.write(b"PK\x03\x04" + b"\0" * 100)  # the start of a zip, then the disk fills up
        raise interrupt

    monkeypatch.setattr(interop.np, "savez", half_a_write)
    # An OSError (disk full, no permission) becomes one line naming the file; Ctrl-C stays Ctrl-C.
    expected = xl.LSTMError if isinstance(interrupt, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as exc:
        xl.save(xl.init_params(1, 3, seed=1), path)
    if expected is xl.LSTMError:
        assert str(path) in _one_line(exc) and "No space left" in str(exc.value)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_save_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(xl.LSTMError) as exc:
        xl.save(xl.init_params(1, 2), tmp_path / "nowhere" / "model.npz")
    assert "nowhere" in _one_line(exc)
    assert os.listdir(tmp_path) == []


def test_save_refuses_what_is_not_params(tmp_path: Path) -> None:
    with pytest.raises(xl.LSTMError):
        xl.save({"W": np.ones((4, 2))}, tmp_path / "x.npz")  # type: ignore[arg-type]


# Hostile and foreign files: each is refused with one line naming the file.
class _Trap:
    """Unpickling this creates a file: proof that load() never unpickles."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


def _good_arrays() -> dict[str, np.ndarray]:
    p = xl.init_params(1, 2, seed=0)
    return {"format": np.array(interop.NPZ_FORMAT), "W_0": np.array(p.W), "b_0": np.array(p.b)}


def _npy_claiming(shape: tuple[int, ...]) -> bytes:
    """A .npy header that promises ``shape`` float64s, followed by only 16 bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buf.getvalue() + bytes(16)


def _write_hostile(kind: str, path: Path) -> None:
    if kind == "text file":
        path.write_text("W,b\n1,2\n")
    elif kind == "empty file":
        path.write_bytes(b"")
    elif kind == "truncated npz":
        np.savez(path, **_good_arrays())
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif kind == "pickled object":
        np.savez(path, **_good_arrays(), W_y=np.array([_Trap(path.with_suffix(".pwned"))], dtype=object))
    elif kind == "no format tag":
        np.savez(path, **{k: v for k, v in _good_arrays().items() if k != "format"})
    elif kind == "wrong format tag":
        np.savez(path, **dict(_good_arrays(), format=np.array("xl_lstm.params/999")))
    elif kind == "W_0 without b_0":
        np.savez(path, **{k: v for k, v in _good_arrays().items() if k != "b_0"})
    elif kind == "wrong shapes":
        np.savez(path, **dict(_good_arrays(), b_0=np.ones(5)))
    elif kind == "no layers":
        np.savez(path, format=np.array(interop.NPZ_FORMAT))
    elif kind == "NaN weights":
        np.savez(path, **dict(_good_arrays(), W_0=np.full((8, 3), np.nan)))
    elif kind == "npy header lies":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("format.npy", _npy_bytes(np.array(interop.NPZ_FORMAT)))
            zf.writestr("W_0.npy", _npy_claiming((10**12,)))  # 8 TB promised, 16 bytes given
    elif kind == "not an npy inside":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("W_0.npy", "this is not an array")
    else:  # pragma: no cover
        raise AssertionError(kind)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


HOSTILE = [
    "text file", "empty file", "truncated npz", "pickled object", "no format tag", "wrong format tag",
    "W_0 without b_0", "wrong shapes", "no layers", "NaN weights", "npy header lies", "not an npy inside",
]  # fmt: skip


@pytest.mark.parametrize("kind", HOSTILE)
def test_load_refuses_foreign_and_hostile_files(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "model.npz"
    _write_hostile(kind, path)
    with pytest.raises(xl.LSTMError) as exc:
        xl.load(path)
    msg = _one_line(exc)
    assert str(path) in msg
    assert not path.with_suffix(".pwned").exists()  # nothing was unpickled


def test_load_names_what_is_wrong(tmp_path: Path) -> None:
    """The refusals say why, not only that."""
    cases = {"no format tag": "format", "wrong format tag": "xl_lstm.params/999", "W_0 without b_0": "b_0"}
    for kind, named in cases.items():
        path = tmp_path / f"{kind.replace(' ', '_')}.npz"
        _write_hostile(kind, path)
        with pytest.raises(xl.LSTMError, match=named):
            xl.load(path)


def test_load_refuses_missing_files_and_folders(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.npz", tmp_path):
        with pytest.raises(xl.LSTMError) as exc:
            xl.load(path)
        assert str(path) in _one_line(exc)


def test_load_refuses_files_that_would_inflate_too_far(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inflated size is checked from the zip directory before anything is inflated."""
    path = tmp_path / "model.npz"
    xl.save(xl.init_params(2, 8, seed=0), path)  # W_0 alone is 32×10 doubles = 2560 bytes
    xl.load(path)  # fine under the real limit
    monkeypatch.setattr(interop, "NPZ_MAX_BYTES", 1000)
    with pytest.raises(xl.LSTMError) as exc:
        xl.load(path)
    assert str(path) in _one_line(exc) and "inflate" in str(exc.value)


def _zip_bomb(path: Path, inflated_mib: int) -> None:
    """A real zip of about 1 MB whose one member, W_0.npy, inflates to ``inflated_mib`` MiB of zeros.

    A deflate stream of zeros, full-flushed every MiB, repeats itself byte for byte, so the
    stream is one compressed MiB written many times (no GiB is ever held or compressed).
    """
    mib = 1 << 20
    header = io.BytesIO()
    n_doubles = (inflated_mib * mib - 128) // 8
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (n_doubles,)})
    head = header.getvalue()
    assert len(head) + 8 * n_doubles == inflated_mib * mib, len(head)
    first_plain = head + bytes(mib - len(head))
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    first = comp.compress(first_plain) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(bytes(mib)) + comp.flush(zlib.Z_FULL_FLUSH)
    data = first + again * (inflated_mib - 1) + comp.flush()
    crc = zlib.crc32(first_plain)
    zeros = bytes(mib)
    for _ in range(inflated_mib - 1):
        crc = zlib.crc32(zeros, crc)
    name, size = b"W_0.npy", inflated_mib * mib
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0)
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size, len(name), 0, 0, 0, 0, 0, 0
    )
    cd_offset = len(local) + len(name) + len(data)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), cd_offset, 0)
    path.write_bytes(local + name + data + central + name + end)


def test_load_refuses_a_real_zip_bomb(tmp_path: Path) -> None:
    """About 1 MB on disk, 1025 MiB inflated (just over the 1 GiB limit): refused without inflating."""
    path = tmp_path / "bomb.npz"
    _zip_bomb(path, 1025)
    assert path.stat().st_size < 2 << 20
    with zipfile.ZipFile(path) as zf:  # it is a genuine, readable zip ...
        (info,) = zf.infolist()
        assert info.file_size == 1025 << 20
        with zf.open(info) as member:  # ... whose member really is a .npy of zeros
            assert np.lib.format.read_magic(member) == (1, 0)
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            assert dtype == np.float64 and shape[0] * 8 > 1 << 30
            assert member.read(1 << 20) == bytes(1 << 20)
    with pytest.raises(xl.LSTMError) as exc:
        xl.load(path)
    assert str(path) in _one_line(exc) and "MiB" in str(exc.value)
