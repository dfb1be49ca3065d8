"""The workbook commands: ``xl-lstm template``, ``xl-lstm fit`` and ``xl-lstm refresh``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import LSTMError
from .progress import CountBar, training_bars


def template_command(args: argparse.Namespace) -> int:
    """A fresh template workbook, for the shipped series or the user's own (--data)."""
    from ..tables.series_file import read_series
    from ..template.build import check_target, write_template  # openpyxl is only needed here
    from ..template.model import template_steps

    if args.data is None and (args.column or args.dates):
        raise LSTMError("--column and --dates name columns of --data FILE; give --data too")
    check_target(Path(args.out), args.force)  # before reading and training
    series = None
    if args.data is not None:
        series = read_series(args.data, args.column, args.dates)
        T, season, horizon = template_steps(series, len(series.values), args.inputs, args.steps)
        print(
            f"reading  {series.source}: {len(series.values)} values, {series.labels[0]}..{series.labels[-1]}; "
            f"{T} steps, season {season}, the last {horizon} held out"
        )
    with training_bars(quiet=False) as bar:
        path = write_template(
            args.out, args.hidden, args.inputs, args.steps, force=args.force, series=series, on_epoch=bar
        )
    print(f"wrote    {path}")
    return 0


def fit_command(args: argparse.Namespace) -> int:
    """Train on BOOK's history, write the weights into it and refresh it in one atomic write."""
    from ..workbook.fit import fit_workbook

    with training_bars(args.quiet) as bar:
        model, result = fit_workbook(args.book, epochs=args.epochs, seed=args.seed, on_epoch=bar)
    print(f"trained  H={model.params.hidden_size}: {model.epochs} epochs, loss {model.train_loss:.4f}")
    print(f"wrote    weights, head and scaler into {result.path}; {result.cells} cells recomputed")
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
        print("xl-lstm: refresh: no workbooks found in " + " ".join(args.paths + args.glob), file=sys.stderr)
        return 2

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

        if args.jobs is not None and args.scheduler != "local":
            raise LSTMError("--jobs sets the workers of --scheduler local; a cluster has the workers started for it")
        with connect(args.scheduler, args.jobs or 2) as client:
            outcomes = refresh_many(
                sources, values_only=args.values, output=args.output, on_done=progress, runner=on_cluster(client)
            )
    bar.end()
    if not args.quiet:
        print(summary_table(outcomes))
    return 0 if all(o.result for o in outcomes) else 1
