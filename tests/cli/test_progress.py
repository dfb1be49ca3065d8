"""The command line's progress: a bar per phase on a terminal, one closing line elsewhere,
nothing when quiet; and the phases the forecaster reports, in order, with honest labels."""

from __future__ import annotations

import functools
import io

import numpy as np
import pytest
from tqdm import tqdm

from xl_lstm.cli import progress
from xl_lstm.cli.progress import CountBar, TrainingBars
from xl_lstm.forecasting.auto import fit_auto
from xl_lstm.forecasting.train import Epoch


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def epochs(phase: str, n: int, val: float = float("nan")) -> list[Epoch]:
    return [Epoch(k, n, 1.0 / k, val, phase) for k in range(1, n + 1)]


def test_the_forecaster_reports_its_members_training_as_a_phase_validation_first() -> None:
    seen: list[Epoch] = []
    y = 50 + np.sin(np.arange(60) / 2) * 5 + np.arange(60) * 0.3
    fit_auto(y, 4, updates=6, members=3, on_epoch=seen.append)
    phases = list(dict.fromkeys(e.phase for e in seen))
    assert phases == ["validation: 3 members", "fit: 3 members"]  # the members train together
    for phase in phases:  # each phase counts its own epochs from 1 to its total
        mine = [e for e in seen if e.phase == phase]
        assert [e.epoch for e in mine] == list(range(1, mine[0].epochs + 1))


def test_off_a_terminal_only_one_closing_line_is_written() -> None:
    out = io.StringIO()
    with TrainingBars(stream=out) as bars:
        for e in epochs("validation: member 1 of 2", 5) + epochs("fit: member 1 of 2", 4):
            bars(e)
        assert out.getvalue() == ""  # nothing while it works
    assert out.getvalue() == "trained  2 phases, 9 epochs; last loss 0.2500\n"


def test_on_a_terminal_each_phase_has_a_bar_with_its_label(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "tqdm", functools.partial(tqdm, mininterval=0))  # draw every update
    out = Terminal()
    with TrainingBars(stream=out) as bars:
        for e in epochs("validation: member 1 of 2", 3) + epochs("training", 2, val=0.125):
            bars(e)
    text = out.getvalue()
    assert "validation: member 1 of 2" in text and "3/3" in text and "training" in text
    assert "validation 0.1250" in text and "nan" not in text  # the validation loss only where there is one
    assert text.endswith("trained  2 phases, 5 epochs; last loss 0.5000, validation 0.1250\n")


def test_quiet_writes_nothing_and_a_failure_leaves_no_closing_line() -> None:
    out = Terminal()
    with TrainingBars(stream=out, quiet=True) as bars:
        for e in epochs("training", 3):
            bars(e)
    assert out.getvalue() == ""
    out = io.StringIO()
    with pytest.raises(RuntimeError), TrainingBars(stream=out) as bars:
        bars(epochs("training", 3)[0])
        raise RuntimeError("stopped")
    assert out.getvalue() == ""  # the error's own line is the one a user sees


def test_a_count_says_what_it_counted_and_what_failed() -> None:
    out = io.StringIO()
    with CountBar(3, "parts", "forecast", stream=out) as bar:
        bar.step()
        bar.say("xl-lstm: part 2: refused")
        bar.step(ok=False)
        bar.step()
    assert out.getvalue().splitlines() == ["xl-lstm: part 2: refused", "forecast 3/3 parts, 1 failed"]
    out = io.StringIO()
    with CountBar(1, "workbooks", "refresh", stream=out, closing=False) as bar:
        bar.step()
    assert out.getvalue() == ""
