"""``xl-lstm forecast``: every series of a table (or one column, or stdin) through the automatic
forecaster, on this machine or a dask.distributed cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import LSTMError
from .progress import CountBar, training_bars

if TYPE_CHECKING:
    from ..tables.csv_column import Cells


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
    with training_bars(args.quiet) as bar:
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
    from ..tables.panel import read_panel
    from ..tables.writers import forecast_frame_shape, write_panel_forecasts

    panel = read_panel(args.data)
    n_series = panel.long["unique_id"].nunique()
    _say(args, [f"read {panel.source}, {len(panel.long):,} values"])
    if args.output and Path(args.output).resolve() == Path(args.data).resolve():
        raise LSTMError(f"{args.output}: is the input table; write the forecasts to another file")
    with training_bars(args.quiet) as bar:
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
    from ..tables.writers import table_writer

    if args.output and Path(args.output).resolve().parent == Path(args.data).resolve():
        raise LSTMError(f"{args.output}: is inside the folder of tables read; write the forecasts elsewhere")
    with training_bars(args.quiet) as bar:
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

    with connect(args.scheduler, args.jobs or 2) as client, training_bars(args.quiet) as bar:
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
