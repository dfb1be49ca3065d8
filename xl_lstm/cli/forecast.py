"""``xl-lstm forecast``: every series of a table (or one column of it, or stdin) through the
automatic forecaster, on this machine or a dask.distributed cluster.

Every input goes through the one table reader (``xl_lstm.tables.panel``): a one-column CSV, a
headerless column of numbers, stdin and ``--column`` are tables of one series, so dates,
frequency, season, order, duplicates and gaps are checked once, and the forecasts keep the
input's shape and dates. The writer follows the output's suffix. An output that is an input
of the run is refused before any work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import LSTMError
from ..core.files import seen
from ..core.limits import WRITE_SUFFIXES
from .outputs import check_output_place
from .progress import CountBar, training_bars
from .text import say, say_lines

if TYPE_CHECKING:
    from ..tables.panel import Panel


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
    settings = {"hidden": args.hidden, "members": args.members, "seed": args.seed}
    if args.season is not None:
        settings["season"] = args.season
    if args.pretrained and args.updates is not None:
        raise LSTMError("--updates sets the training, and --pretrained trains nothing: give one of them")
    if args.updates is not None:
        settings["updates"] = args.updates
    if args.pretrained:
        settings["start"] = "pretrained"
    _check_cluster_options(args)
    _check_output(args)
    if args.output and args.scheduler is None:
        check_output_place(args.output)  # a missing or read-only folder: said before the fit, not after
    if args.scheduler is not None:
        return _forecast_cluster(args, levels, settings)
    if args.data != "-" and args.column is None and Path(args.data).is_dir():
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
    if not Path(args.data).exists():  # here, before connecting: the workers are sent this machine's paths
        raise LSTMError(f"{args.data}: no such file or folder (here, at {Path(args.data).resolve()})")


def _check_output(args: argparse.Namespace) -> None:
    """Before any work: the output is no input of the run (the table, a table of the folder, the
    folder), and a file output has a suffix a writer takes (.csv, .parquet, .xlsx). Files are
    compared as every writer compares them (``core.files.same_file``)."""
    from ..core.files import same_file

    if not args.output:
        return
    out = Path(args.output)
    if args.scheduler is None and out.suffix.lower() not in WRITE_SUFFIXES:
        raise LSTMError(
            f"{out}: forecasts are written as {', '.join(WRITE_SUFFIXES)} (got {out.suffix.lower() or 'no extension'})"
        )
    if args.data == "-":
        return
    data = Path(args.data)
    if same_file(out, data):
        raise LSTMError(f"{out}: is the input table; write the forecasts to another file")
    if data.is_dir() and same_file(out.parent, data):
        raise LSTMError(f"{out}: is inside the folder of tables read; write the forecasts elsewhere")
    if args.scheduler is not None and data.exists() and same_file(data.parent, out):
        raise LSTMError(f"{out}: holds the table read; write the parts into another folder")


def _read(args: argparse.Namespace) -> Panel:
    """DATA (a table file, or - for stdin) as a panel, by the one table reader; --column: one series of it."""
    from ..tables.csv_column import read_stdin
    from ..tables.panel import read_panel, read_panel_text

    if args.data == "-":
        return read_panel_text(read_stdin(sys.stdin.buffer), source="stdin", column=args.column)
    return read_panel(args.data, column=args.column, source=args.data)


def _say(args: argparse.Namespace, lines: list[str]) -> None:
    if not args.quiet:
        for line in lines:
            say(f"xl-lstm: {line}", sys.stderr)


def _read_notes(args: argparse.Namespace, panel: Panel) -> list[str]:
    """What was read: the table in words; for one series of a wide table, the column used and what was detected."""
    lines = [f"read {panel.source}, {len(panel.long):,} values"]
    if panel.shape == "wide" and len(panel.id_order) == 1:
        detected = f"; {', '.join(panel.detected)}" if panel.detected else ""
        where = "stdin" if args.data == "-" else args.data
        lines.append(f"using column {panel.id_order[0]!r} of {where} ({len(panel.long)} values{detected})")
    return lines


def _forecast_table(args: argparse.Namespace, levels: tuple[float, ...], settings: dict) -> int:
    from ..forecasting.panels import fit, forecast
    from ..tables.writers import forecast_frame_shape, write_panel_forecasts

    before = None if args.output is None else seen(args.output)  # replaced only if still this when written
    panel = _read(args)
    _say(args, _read_notes(args, panel))
    with training_bars(args.quiet) as bar:
        fitted = fit(panel, args.horizon, sample=args.fit_sample, on_epoch=bar, **settings)
    result = forecast(fitted, levels=levels)
    _say(args, result.notes)
    _refusals(result.refused)
    if args.output:
        path = write_panel_forecasts(result.table, panel, args.output, expect=before)
        say(f"wrote {path}: {len(result.table):,} forecasts of {len(result)} series{_refused_count(result.refused)}")
    else:
        say_lines(forecast_frame_shape(result.table, panel).to_string(index=False))
    return 1 if result.refused else 0


def _refusals(refused: dict[str, str]) -> None:
    """Each refused file or series: its one line on stderr (always, as refresh says each failed file)."""
    for line in refused.values():
        say(f"xl-lstm: {line}", sys.stderr)


def _refused_count(refused: dict[str, str]) -> str:
    return f"; {len(refused)} refused (said above)" if refused else ""


def _forecast_files(args: argparse.Namespace, levels: tuple[float, ...], settings: dict) -> int:
    """A folder of tables on this machine: one panel, written as one long table (or printed)."""
    from ..runs.panel_files import forecast_files
    from ..tables.magnitude import check_finite_forecasts
    from ..tables.writers import table_writer

    before = None if args.output is None else seen(args.output)  # replaced only if still this when written
    with training_bars(args.quiet) as bar:
        result = forecast_files(args.data, args.horizon, levels, sample=args.fit_sample, on_epoch=bar, **settings)
    _say(args, result.notes)
    _refusals(result.refused)
    table = result.table.rename(columns={k: result.names[k] for k in ("unique_id", "ds")})
    if args.output:
        from ..core.files import atomic_write

        path = Path(args.output)
        check_finite_forecasts(table, path.name)
        atomic_write(path, table_writer(path, table), expect=before, what="forecast")
        say(f"wrote {path}: {len(table):,} forecasts of {result.series} series{_refused_count(result.refused)}")
    else:
        say_lines(table.to_string(index=False))
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
    say(
        f"wrote {args.output}: {result.rows:,} forecasts of {result.series} series in {parts} parts"
        f"{_refused_count(result.refused)}"
    )
    return 1 if result.refused else 0
