"""The workbook commands: ``xl-lstm template``, ``xl-lstm fit`` and ``xl-lstm refresh``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import LSTMError
from ..core.files import refuse_input
from .outputs import check_output_place
from .progress import CountBar, training_bars
from .text import from_file, printable, say, say_lines

if TYPE_CHECKING:
    from ..tables.series_file import SeriesFile


def template_command(args: argparse.Namespace) -> int:
    """A fresh template workbook, for the shipped series or the user's own (--data)."""
    from ..tables.series_file import read_series
    from ..template.build import check_target  # openpyxl is only needed here
    from ..template.model import template_steps

    if args.data is None and (args.column or args.dates):
        raise LSTMError("--column and --dates name columns of --data FILE; give --data too")
    if args.data is not None:
        refuse_input(args.out, [args.data], "template")
    check_target(Path(args.out), args.force)  # before reading and training
    check_output_place(args.out)
    series = None
    if args.data is None:
        return _write_template(args, None)
    series = read_series(args.data, args.column, args.dates)
    try:
        T, season, horizon = template_steps(series, len(series.values), args.inputs, args.steps)
        say(
            f"reading  {series.source}: {len(series.values)} values, {series.labels[0]}..{series.labels[-1]}; "
            f"{T} steps, season {season}, the last {horizon} held out"
        )
        return _write_template(args, series)
    except LSTMError as exc:  # the work on the file's data: its errors name the file and column
        raise from_file(exc, f"{args.data}, column {series.name!r}", str(args.data)) from None


def _write_template(args: argparse.Namespace, series: SeriesFile | None) -> int:
    from ..template.build import write_template

    with training_bars(quiet=False) as bar:
        path = write_template(
            args.out, args.hidden, args.inputs, args.steps, force=args.force, series=series, on_epoch=bar
        )
    say(f"wrote    {path}")
    return 0


def fit_command(args: argparse.Namespace) -> int:
    """Train on BOOK's history, write the weights into it and refresh it in one atomic write."""
    from ..workbook.fit import fit_workbook

    try:
        with training_bars(args.quiet) as bar:
            model, result = fit_workbook(args.book, epochs=args.epochs, seed=args.seed, on_epoch=bar)
    except LSTMError as exc:  # the work on the book's series: its errors name the book
        raise from_file(exc, str(args.book), str(args.book)) from None
    say(f"trained  H={model.params.hidden_size}: {model.epochs} epochs, loss {model.train_loss:.4f}")
    say(f"wrote    weights, head and scaler into {result.path}; {result.cells} cells recomputed")
    if result.metrics is not None:
        print("held out " + "  ".join(f"{k} {v:.3f}{'%' if 'MAPE' in k else ''}" for k, v in result.metrics.items()))
    return 0


def refresh(args: argparse.Namespace) -> int:
    """Refresh every file; problems are one line each on stderr; exit 1 if any file failed."""
    from ..runs.batch import expand, refresh_many, summary_table

    if not args.paths and not args.glob:
        print("xl-lstm: refresh: name at least one PATH or --glob PATTERN (see xl-lstm --help)", file=sys.stderr)
        return 2
    sources = expand(args.paths, args.glob)
    if not sources:
        say("xl-lstm: refresh: no workbooks found in " + " ".join(args.paths + args.glob), sys.stderr)
        return 2

    if args.scheduler is not None and args.jobs is not None and args.scheduler != "local":
        raise LSTMError("--jobs sets the workers of --scheduler local; a cluster has the workers started for it")
    bar = CountBar(len(sources), "workbooks", "refresh", quiet=args.quiet, closing=False)  # the summary closes

    def progress(outcome, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if outcome.error:  # always said, quiet or not
            bar.say(f"xl-lstm: {outcome.error}")
        for note in outcome.result.notes if outcome.result else ():
            bar.say(f"xl-lstm: note: {note}")
        bar.step(ok=outcome.result is not None)

    if args.scheduler is None:
        outcomes = refresh_many(
            sources, values_only=args.values, output=args.output, jobs=args.jobs or 1, on_done=progress
        )
    else:
        from ..runs.cluster import connect, on_cluster

        with connect(args.scheduler, args.jobs or 2) as client:
            outcomes = refresh_many(
                sources, values_only=args.values, output=args.output, on_done=progress, runner=on_cluster(client)
            )
    bar.end()
    if not args.quiet:  # each name on its one line, whatever it holds
        say_lines(summary_table([dataclasses.replace(o, source=printable(o.source)) for o in outcomes]))
    return 0 if all(o.result for o in outcomes) else 1
