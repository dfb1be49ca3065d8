"""The ``xl-lstm`` command.

    xl-lstm demo [--hidden H] [--seed S] [--output PATH]
                                           the main job: a template workbook for the shipped
                                           airline series, refreshed, and its forecast
    xl-lstm template OUT.xlsx [--data FILE [--column C] [--dates D]] [--hidden H] [--inputs D] [--steps T] [--force]
                                           write a fresh template workbook (for your own series)
    xl-lstm refresh PATH... [--glob PATTERN] [--values] [--output DIR] [--jobs N] [--scheduler ADDRESS] [--quiet]
                                           recompute the LSTM blocks of workbooks, without Excel
    xl-lstm fit BOOK.xlsx [--epochs N] [--seed S] [--quiet]
                                           train on the workbook's series, write the weights, refresh
    xl-lstm forecast DATA|- [--column C] [--horizon N] [--levels 80,95] [--season M] [--output OUT] ...
                                           forecast every series of a table (.csv, .parquet, .xlsx;
                                           long unique_id,ds,y or one column per series), or one
                                           column, with intervals; the forecaster chooses its
                                           transforms, season and damping itself (xl_lstm.forecast.auto)
    xl-lstm forecast DATA --scheduler ADDRESS|local --output DIR [--csv] [--fit-sample N] [--partitions N] ...
                                           the same on a dask.distributed cluster (xl_lstm.runs.cluster):
                                           DATA a table or a folder of them, the forecasts as parts

Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import LSTMError
from ..forecast.metrics import error_metrics
from ..lstm.engine import run
from ..lstm.recursive import recursive_forecast
from ..workbook.contract import WORKBOOK_FIT
from .progress import CountBar, TrainingBars

if TYPE_CHECKING:
    from ..tables.csv_column import Cells


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _numbers(v: Iterable[float], fmt: str = "+.6f") -> str:
    return " ".join(f"{a:{fmt}}" for a in v)


def demo(hidden: int, seed: int, out: str) -> str:
    """The main job end to end: a template workbook for the shipped airline series, its LSTM
    trained on the history (once, with the workbook recipe), every block refreshed by the engine
    without Excel; reports where it wrote, the forecaster's forecast (the workbook's sheet
    Forecaster), the one LSTM's, and their errors next to seasonal naive's."""
    from ..template.build import check_target, template_model, write_template
    from ..workbook.refresh import fit_workbook
    from ..workbook.xlsx import Book

    path = Path(out)
    check_target(path, force=True)  # before any work: an open file, a missing folder
    m = template_model(hidden, seed=seed, train_epochs=0)  # the series, hold-out and season; training is below
    path = write_template(path, hidden, force=True, seed=seed, train_epochs=0).resolve()
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
            f"series   airline passengers, {m.months[0]}..{m.months[-1]}, {len(m.months)} months; the last {n} held out",
            f"trained  {p!r} on {T_h} months: {model.epochs} epochs, loss {model.train_loss:.4f}",
            f"refresh  {result.cells} cells recomputed, without Excel",
            f"months   {' '.join(f'{mo:>7}' for mo in m.months[T_h:])}",
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


def epoch_bar(quiet: bool) -> TrainingBars:
    """Training's progress on stderr: a bar per phase on a terminal, one closing line anywhere
    (nothing at all when quiet)."""
    return TrainingBars(quiet=quiet)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog.split()[0]} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from ..core.version import __version__

    parser = _Parser(prog="xl-lstm", description="LSTMs for people who live in spreadsheets.")
    parser.add_argument("--version", action="version", version=f"xl-lstm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser(
        "demo",
        help="the main job: write a template workbook for the shipped airline series, refresh it, print the forecast",
    )
    p_demo.add_argument("--hidden", type=_positive, default=4, help="hidden units H (default 4)")
    p_demo.add_argument("--seed", type=int, default=0, help="seed of the deterministic initialisation (default 0)")
    p_demo.add_argument(
        "--output",
        "--out",
        dest="output",
        metavar="PATH",
        default="lstm_demo.xlsx",
        help="the workbook it writes (default lstm_demo.xlsx, replaced)",
    )
    p_tpl = sub.add_parser(
        "template", help="write a fresh template workbook (weights, inputs, states, forecast, charts)"
    )
    p_tpl.add_argument("out", metavar="OUT.xlsx", help="the workbook to write")
    p_tpl.add_argument("--hidden", type=_positive, default=4, help="hidden units H (default 4)")
    p_tpl.add_argument(
        "--inputs", type=_positive, default=1, help="inputs per step D: the series and D-1 lags (default 1)"
    )
    p_tpl.add_argument("--steps", type=_positive, default=None, help="time steps T (default: the whole series)")
    p_tpl.add_argument("--force", action="store_true", help="replace OUT.xlsx if it exists")
    p_tpl.add_argument("--data", metavar="FILE", help="your own series: a .csv or .xlsx file, one row per step")
    p_tpl.add_argument("--column", help="the column of numbers in --data (default: the last one)")
    p_tpl.add_argument("--dates", help="the date column in --data (default: the first column, if it holds dates)")
    p_ref = sub.add_parser(
        "refresh", help="recompute the LSTM blocks of workbooks made from the template, without Excel"
    )
    p_ref.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="workbooks and folders of workbooks, taken literally (a[1].xlsx is that file, not a pattern)",
    )
    p_ref.add_argument(
        "--glob",
        action="append",
        default=[],
        metavar="PATTERN",
        help="also refresh the workbooks matching this pattern (quote it; ** recurses); repeatable",
    )
    p_ref.add_argument(
        "--values", action="store_true", help="store plain numbers instead of formulas (for readers without the add-in)"
    )
    p_ref.add_argument("--output", metavar="DIR", help="write refreshed copies into DIR instead of replacing the files")
    p_ref.add_argument(
        "--jobs", type=_positive, default=None, help="worker processes (default 1; with --scheduler local: its workers)"
    )
    p_ref.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="refresh on a dask.distributed cluster (tcp://HOST:8786), one task per workbook, or 'local' for "
        "a cluster of --jobs processes here; the workers must see the same paths",
    )
    p_ref.add_argument("--quiet", action="store_true", help="no progress lines and no summary table")
    p_fit = sub.add_parser(
        "fit", help="train on a template workbook's series, write weights, head and scaler, refresh it"
    )
    p_fit.add_argument(
        "book",
        metavar="BOOK.xlsx",
        help="a workbook made by `xl-lstm template` (or `demo`): trained on its series (the name lstm_history), "
        "and its weights, head and scaler written back into it",
    )
    p_fit.add_argument(
        "--epochs",
        type=_positive,
        default=None,
        help=f"passes over the history (default {WORKBOOK_FIT.epochs}, the workbook recipe)",
    )
    p_fit.add_argument("--seed", type=int, default=0, help="seed of the initial weights (default 0)")
    p_fit.add_argument("--quiet", action="store_true", help="no progress bar")
    p_fc = sub.add_parser(
        "forecast",
        help="forecast every series of a table (CSV, Parquet or .xlsx: long unique_id,ds,y or one column per series)",
    )
    p_fc.add_argument(
        "data", metavar="DATA", help="a .csv, .parquet or .xlsx table, or - to read numbers from stdin (one per line)"
    )
    p_fc.add_argument("--column", help="forecast only this CSV column (default: every series of the table)")
    p_fc.add_argument(
        "--horizon", type=_positive, default=None, help="steps ahead (default: 12 months, 8 quarters, ...; else 12)"
    )
    p_fc.add_argument(
        "--levels", default="80,95", help="prediction interval levels in percent, comma-separated (default 80,95)"
    )
    p_fc.add_argument(
        "--season", type=_positive, default=None, help="steps per season (default: from the dates or the data; 1: none)"
    )
    p_fc.add_argument("--hidden", type=_positive, default=16, help="hidden units H (default 16)")
    p_fc.add_argument("--members", type=_positive, default=3, help="LSTMs in the median, odd (default 3)")
    p_fc.add_argument("--updates", type=_positive, default=400, help="training steps per LSTM (default 400)")
    p_fc.add_argument("--seed", type=int, default=0, help="seed of the first LSTM (default 0)")
    p_fc.add_argument(
        "--output", metavar="OUT", help="write the forecasts here (.csv, .parquet or .xlsx) in the table's own shape"
    )
    p_fc.add_argument("--quiet", action="store_true", help="no progress bar")
    p_fc.add_argument(
        "--fit-sample",
        type=_positive,
        default=None,
        metavar="N",
        help="fit the model on N series chosen at random (seeded by --seed), forecast them all (default: fit on all)",
    )
    p_fc.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="forecast on a dask.distributed cluster (tcp://HOST:8786), or 'local' for a cluster of --jobs "
        "processes here; needs --output DIR",
    )
    p_fc.add_argument("--jobs", type=_positive, default=None, help="worker processes of --scheduler local (default 2)")
    p_fc.add_argument(
        "--partitions",
        type=_positive,
        default=None,
        help="parts of the series on a cluster (default: ~1000 series each)",
    )
    p_fc.add_argument("--csv", action="store_true", help="on a cluster: write part-N.csv beside each part-N.parquet")
    return parser


def template_command(args: argparse.Namespace) -> int:
    """A fresh template workbook, for the shipped series or the user's own (--data)."""
    from ..tables.series_file import read_series
    from ..template.build import check_target, template_steps, write_template  # openpyxl is only needed here

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
    with epoch_bar(quiet=False) as bar:
        path = write_template(
            args.out, args.hidden, args.inputs, args.steps, force=args.force, series=series, on_epoch=bar
        )
    print(f"wrote    {path}")
    return 0


def fit_command(args: argparse.Namespace) -> int:
    """Train on BOOK's history, write the weights into it and refresh it in one atomic write."""
    from ..workbook.refresh import fit_workbook

    with epoch_bar(args.quiet) as bar:
        model, result = fit_workbook(args.book, epochs=args.epochs, seed=args.seed, on_epoch=bar)
    print(f"trained  H={model.params.hidden_size}: {model.epochs} epochs, loss {model.train_loss:.4f}")
    print(f"wrote    weights, head and scaler into {result.path}; {result.cells} cells recomputed")
    if result.metrics is not None:
        print("held out " + "  ".join(f"{k} {v:.3f}{'%' if 'MAPE' in k else ''}" for k, v in result.metrics.items()))
    return 0


def _read_column(
    data: str, column: str | None, quiet: bool = False, cells: Cells | None = None
) -> tuple[str, np.ndarray]:
    """The series to forecast (see xl_lstm.tables.csv_column), from ``cells`` when the file is parsed
    already; says on stderr which column it uses, unless quiet."""
    from ..tables.csv_column import column_numbers, read_column

    col = read_column(data, column, sys.stdin) if cells is None else column_numbers(data, cells, column)  # type: ignore[arg-type]
    if not quiet:
        print(f"xl-lstm: {col.note}", file=sys.stderr)
    return col.name, col.values


def parse_levels(text: str) -> tuple[float, ...]:
    """Interval levels as percentages (80,95) or as fractions (0.8,0.95), not a mix of both."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise LSTMError(f"--levels must be percentages such as 80,95; got {text!r}") from None
    if all(0 < v < 1 for v in values):
        return tuple(values)
    if all(1 < v < 100 for v in values):
        return tuple(v / 100 for v in values)
    raise LSTMError(f"--levels must be percentages between 1 and 100 (80,95) or fractions (0.8,0.95); got {text!r}")


def forecast_command(args: argparse.Namespace) -> int:
    levels = parse_levels(args.levels)
    settings = {"hidden": args.hidden, "members": args.members, "updates": args.updates, "seed": args.seed}
    if args.season is not None:
        settings["season"] = args.season
    _check_cluster_options(args)
    if args.scheduler is not None:
        return _forecast_cluster(args, levels, settings)
    one = args.data == "-" or args.column is not None
    cells = None if one else _one_series_csv(args.data)  # parsed once: read again as the column below
    if one or cells is not None:
        if args.fit_sample is not None:
            raise LSTMError("--fit-sample chooses among the series of a table; this is one series")
        return _forecast_one(args, levels, settings, cells)
    if Path(args.data).is_dir():
        return _forecast_files(args, levels, settings)
    return _forecast_table(args, levels, settings)


def _check_cluster_options(args: argparse.Namespace) -> None:
    """Options that only mean something with --scheduler (or only without it): one line each."""
    if args.scheduler is None:
        for given, name in ((args.csv, "--csv"), (args.partitions, "--partitions"), (args.jobs, "--jobs")):
            if given:
                raise LSTMError(f"{name} is for a cluster: give --scheduler ADDRESS (or --scheduler local)")
        return
    if args.jobs is not None and args.scheduler != "local":
        raise LSTMError("--jobs sets the workers of --scheduler local; a cluster has the workers started for it")
    if args.data == "-" or args.column is not None:
        raise LSTMError("--scheduler forecasts the series of a table or a folder of tables, not one column or stdin")
    if not args.output:
        raise LSTMError("--scheduler writes the forecasts as parts into a folder: give --output DIR")


def _one_series_csv(data: str) -> Cells | None:
    """The parsed cells of a CSV file with at most one column of numbers (and maybe dates) and no
    unique_id: one series, read (or refused) by csv_column's rules, the same as a template's
    --data; None for any other file (a table of many series)."""
    from ..tables.csv_column import load_text, numeric_columns, read_cells

    if Path(data).suffix.lower() not in (".csv", ".tsv", ".txt"):
        return None
    cells = read_cells(data, load_text(data))
    one = "unique_id" not in [n.lower() for n in cells.names]
    return cells if one and len(numeric_columns(cells.body, len(cells.names), cells.sep)) <= 1 else None


def _say(args: argparse.Namespace, lines: list[str]) -> None:
    if not args.quiet:
        for line in lines:
            print(f"xl-lstm: {line}", file=sys.stderr)


def _forecast_one(args: argparse.Namespace, levels: tuple[float, ...], settings: dict, cells: Cells | None) -> int:
    from ..core.files import atomic_write
    from ..forecast.auto import fit_auto, forecast_auto
    from ..runs.forecast_frame import level_columns

    name, y = _read_column(args.data, args.column, args.quiet, cells)
    horizon = args.horizon or 12
    with epoch_bar(args.quiet) as bar:
        model = fit_auto({name: y}, horizon, on_epoch=bar, **settings)
    out = forecast_auto(model, horizon, levels)
    _say(args, [f"chose: {model.describe()}", *out.notes])
    fc = out.forecasts[name]
    head = ["step", "forecast", *level_columns(levels)]
    rows = [
        [str(k + 1), f"{fc.mean[k]:.6g}"] + [f"{d[q][k]:.6g}" for q in levels for d in (fc.lower, fc.upper)]
        for k in range(horizon)
    ]
    if args.output:
        text = "\n".join(",".join(r) for r in [head, *rows]) + "\n"
        path = Path(args.output)
        atomic_write(path, lambda fh: fh.write(text.encode()))
        print(f"wrote {path}: {horizon} steps of {name}")
    else:
        widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
        for r in [head, *rows]:
            print("  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)))
    return 0


def _forecast_table(args: argparse.Namespace, levels: tuple[float, ...], settings: dict) -> int:
    from ..runs.forecast_frame import forecast_panel
    from ..tables.panel import forecast_frame_shape, read_panel, write_panel_forecasts

    panel = read_panel(args.data)
    n_series = panel.long["unique_id"].nunique()
    _say(args, [f"read {panel.source}, {len(panel.long):,} values"])
    if args.output and Path(args.output).resolve() == Path(args.data).resolve():
        raise LSTMError(f"{args.output}: is the input table; write the forecasts to another file")
    with epoch_bar(args.quiet) as bar:
        result = forecast_panel(panel, args.horizon, levels, sample=args.fit_sample, on_epoch=bar, **settings)
    _say(args, result.notes)
    _refusals(result.refused)
    if args.output:
        path = write_panel_forecasts(result.table, panel, args.output)
        print(
            f"wrote {path}: {len(result.table):,} forecasts of {n_series - len(result.refused)} series{_refused_count(result.refused)}"
        )
    else:
        print(forecast_frame_shape(result.table, panel).to_string(index=False))
    return 1 if result.refused else 0


def _refusals(refused: dict[str, str]) -> None:
    """Each refused file or series: its one line on stderr (always, as refresh says each failed file)."""
    for line in refused.values():
        print(f"xl-lstm: {line}", file=sys.stderr)


def _refused_count(refused: dict[str, str]) -> str:
    return f"; {len(refused)} refused (said above)" if refused else ""


def _forecast_files(args: argparse.Namespace, levels: tuple[float, ...], settings: dict) -> int:
    """A folder of tables on this machine: one panel, written as one long table (or printed)."""
    from ..runs.panel_files import forecast_files
    from ..tables.panel import table_writer

    if args.output and Path(args.output).resolve().parent == Path(args.data).resolve():
        raise LSTMError(f"{args.output}: is inside the folder of tables read; write the forecasts elsewhere")
    with epoch_bar(args.quiet) as bar:
        result = forecast_files(args.data, args.horizon, levels, sample=args.fit_sample, on_epoch=bar, **settings)
    _say(args, result.notes)
    _refusals(result.refused)
    table = result.table.rename(columns={k: result.names[k] for k in ("unique_id", "ds")})
    if args.output:
        from ..core.files import atomic_write

        path = Path(args.output)
        atomic_write(path, table_writer(path, table))
        print(f"wrote {path}: {len(table):,} forecasts of {result.series} series{_refused_count(result.refused)}")
    else:
        print(table.to_string(index=False))
    return 1 if result.refused else 0


def _forecast_cluster(args: argparse.Namespace, levels: tuple[float, ...], settings: dict) -> int:
    """DATA on a dask.distributed cluster (xl_lstm.runs.cluster): the forecasts as parts in --output DIR."""
    from ..runs.cluster import PartDone, connect, forecast_on_cluster

    parts_bar: list[CountBar] = []  # made when the first part is done: the number of parts is known then

    def progress(done: PartDone, finished: int, total: int) -> None:
        if not parts_bar:
            bar.end()  # the model is fitted: its bars give way to the parts'
            parts_bar.append(CountBar(total, "parts", "forecast", quiet=args.quiet))
        parts_bar[0].step()

    with connect(args.scheduler, args.jobs or 2) as client, epoch_bar(args.quiet) as bar:
        result = forecast_on_cluster(
            client,
            args.data,
            args.output,
            args.horizon,
            levels,
            sample=args.fit_sample,
            csv=args.csv,
            partitions=args.partitions,
            on_epoch=bar,
            on_part=progress,
            **settings,
        )
    for done in parts_bar:
        done.end()
    _say(args, result.notes)
    _refusals(result.refused)
    parts = len([p for p in result.parts if p.suffix == ".parquet"])
    print(
        f"wrote {args.output}: {result.rows:,} forecasts of {result.series} series in {parts} parts"
        f"{_refused_count(result.refused)}"
    )
    return 1 if result.refused else 0


def refresh(args: argparse.Namespace) -> int:
    """Refresh every file; problems are one line each on stderr; exit 1 if any file failed."""
    from ..workbook.refresh import expand, refresh_many, summary_table

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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            print(demo(args.hidden, args.seed, args.output))
        elif args.command == "template":
            return template_command(args)
        elif args.command == "refresh":
            return refresh(args)
        elif args.command == "fit":
            return fit_command(args)
        elif args.command == "forecast":
            return forecast_command(args)
    except LSTMError as exc:
        print(f"xl-lstm: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
