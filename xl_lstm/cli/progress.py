"""Progress of the command line's long work, on stderr, through tqdm.

On a terminal each phase of the work gets a bar of its own, labelled with what it is
("validation: 3 members", "refresh"); anywhere else (a pipe, a log file, CI) no bar is
drawn, and ``end`` writes one closing line. Library code never prints: it reports through
callbacks (``Epoch`` for training, a count for files and parts), and these classes are the
callbacks the CLI hands it. tqdm rather than our own carriage returns: it knows terminals'
widths, rates and remaining times, and writes nothing when told it is disabled.

An error ends the command wherever it happens: ``close_bars`` (called before the error is
printed) removes every bar still drawn, so that the error's line starts a line of its own
instead of being written after a half-drawn bar.
"""

from __future__ import annotations

import sys
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from tqdm import tqdm

from .text import printable

if TYPE_CHECKING:
    from ..forecasting.train import Epoch


_DRAWN: weakref.WeakSet[tqdm] = weakref.WeakSet()  # every bar made here and not yet closed


def _bar(**kwargs: object) -> tqdm:
    """A tqdm bar that ``close_bars`` knows of."""
    bar = tqdm(**kwargs)  # type: ignore[call-overload]
    _DRAWN.add(bar)
    return bar


def close_bars() -> None:
    """Remove every bar still drawn (leave=False clears its line): what is printed next starts a line."""
    for bar in list(_DRAWN):
        bar.close()
        _DRAWN.discard(bar)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Closing:
    """A bar (or none) on a stream. ``with``: on success ``end()`` (its closing line), on a
    failure only the bar is removed, so that the error's one line starts a line of its own."""

    bar: tqdm | None = None

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.end()
        else:
            self._close()

    def end(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class TrainingBars(_Closing):
    """``on_epoch`` for training: one bar per phase (``Epoch.phase``), then one closing line."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.terminal = _is_terminal(self.stream)
        self.bar: tqdm | None = None
        self.phases: list[str] = []
        self.epochs = 0
        self.last: Epoch | None = None

    def __call__(self, e: Epoch) -> None:
        if not self.phases or e.phase != self.phases[-1]:
            self._close()
            self.phases.append(e.phase)
            if self.terminal and not self.quiet:
                self.bar = _bar(total=e.epochs, desc=e.phase, unit="epoch", file=self.stream, leave=False)
        self.epochs += 1
        self.last = e
        if self.bar is not None:
            self.bar.set_postfix_str(_losses(e), refresh=False)
            self.bar.update(e.epoch - self.bar.n)

    def end(self) -> None:
        """Close the last bar and say in one line what was trained (nothing if nothing was)."""
        self._close()
        if self.quiet or self.last is None:
            return
        phases = f"{len(self.phases)} phases" if len(self.phases) > 1 else self.phases[0]
        print(f"trained  {phases}, {self.epochs} epochs; last {_losses(self.last)}", file=self.stream, flush=True)
        self.last = None  # said once, however often end is called


def _losses(e: Epoch) -> str:
    return f"loss {e.train_loss:.4f}" + (f", validation {e.val_loss:.4f}" if e.val_loss == e.val_loss else "")


class CountBar(_Closing):
    """Progress over a known number of things (workbooks, parts): a bar on a terminal, and
    ``end`` closes it with one line such as ``forecast 7/7 parts, 2 failed`` (unless
    ``closing`` is False: a command whose own summary says as much)."""

    def __init__(
        self,
        total: int,
        what: str,
        label: str,
        stream: TextIO | None = None,
        quiet: bool = False,
        closing: bool = True,
    ) -> None:
        self.stream = stream or sys.stderr
        self.total, self.what, self.label, self.quiet, self.closing = total, what, label, quiet, closing
        self.done = self.failed = 0
        show = _is_terminal(self.stream) and not quiet
        self.bar = _bar(total=total, desc=label, unit=what, file=self.stream, leave=False) if show else None

    def say(self, line: str) -> None:
        """A line of its own (a failure, a note), above the bar on a terminal."""
        if self.bar is not None:
            self.bar.write(printable(line), file=self.stream)
        else:
            print(printable(line), file=self.stream, flush=True)

    def step(self, ok: bool = True) -> None:
        self.done += 1
        self.failed += not ok
        if self.bar is not None:
            self.bar.update(1)

    def end(self) -> None:
        self._close()
        if self.closing and not self.quiet:
            failed = f", {self.failed} failed" if self.failed else ""
            print(f"{self.label} {self.done}/{self.total} {self.what}{failed}", file=self.stream, flush=True)


def training_bars(quiet: bool) -> TrainingBars:
    """Training's progress on stderr: a bar per phase on a terminal, one closing line anywhere
    (nothing at all when quiet)."""
    return TrainingBars(quiet=quiet)
