"""``xl-lstm demo``: the main job end to end on the shipped airline series."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..forecasting.metrics import error_metrics
from ..lstm.engine import run
from ..lstm.recursive import recursive_forecast


def _numbers(v: Iterable[float], fmt: str = "+.6f") -> str:
    return " ".join(f"{a:{fmt}}" for a in v)


def demo(hidden: int, seed: int, out: str) -> str:
    """The main job end to end: a template workbook for the shipped airline series, its LSTM
    trained on the history (once, with the workbook recipe), every block refreshed by the engine
    without Excel; reports where it wrote, the forecaster's forecast (the workbook's sheet
    Forecaster), the one LSTM's, and their errors next to seasonal naive's."""
    from ..template.build import check_target, write_template
    from ..template.model import template_model
    from ..workbook.fit import fit_workbook
    from ..workbook.xlsx import Book

    path = Path(out)
    check_target(path, force=True)  # before any work: an open file, a missing folder
    m = template_model(hidden, seed=seed, train_epochs=0)  # the series, hold-out and season; training is below
    path = write_template(path, force=True, model=m).resolve()  # built once, from m
    model, result = fit_workbook(path, seed=seed)
    T_h, n = m.history_steps, m.horizon
    p, sc = model.params, model.scaler
    fc = recursive_forecast(p, m.raw[:T_h], n, sc.center, sc.scale)[:, 0]  # (n,)
    actual = m.raw[T_h:, 0]
    with Book(path) as book:
        auto = book.numbers("auto_forecast_formulas")  # (n, 1 + 2L): forecast, lower/upper per level
        levels = book.numbers("auto_levels")[0]
    history = m.raw[:T_h, 0]
    ours = error_metrics(actual, auto[:, 0], m.season, history)
    metrics = error_metrics(actual, fc, m.season, history)
    naive = error_metrics(actual, m.raw[T_h - m.season : T_h - m.season + n, 0], m.season, history)
    last = run(p, sc.transform(m.raw), outputs="last")
    widest = int(np.argmax(levels))
    return "\n".join(
        [
            f"wrote    {path}",
            f"series   airline passengers, {m.labels[0]}..{m.labels[-1]}, {len(m.labels)} months; the last {n} held out",
            f"trained  {p!r} on {T_h} months: {model.epochs} epochs, loss {model.train_loss:.4f}",
            f"refresh  {result.cells} cells recomputed, without Excel",
            f"months   {' '.join(f'{mo:>7}' for mo in m.labels[T_h:])}",
            f"forecast {_numbers(auto[:, 0], '7.1f')}",
            f"lo-{round(levels[widest] * 100)}    {_numbers(auto[:, 1 + 2 * widest], '7.1f')}",
            f"hi-{round(levels[widest] * 100)}    {_numbers(auto[:, 2 + 2 * widest], '7.1f')}",
            f"lstm     {_numbers(fc, '7.1f')}",
            f"actual   {_numbers(actual, '7.1f')}",
            f"errors   forecaster sMAPE {ours['sMAPE']:.1f}%  MASE {ours['MASE']:.2f};  "
            f"one LSTM sMAPE {metrics['sMAPE']:.1f}%  MASE {metrics['MASE']:.2f};  "
            f"seasonal naive sMAPE {naive['sMAPE']:.1f}%  MASE {naive['MASE']:.2f}",
            f"h_T      {_numbers(last.h_n[-1])}",
            f"C_T      {_numbers(last.c_n[-1])}",
        ]
    )
