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
                                           transforms, season and damping itself (xl_lstm.forecasting.auto)
    xl-lstm forecast DATA --scheduler ADDRESS|local --output DIR [--csv] [--fit-sample N] [--partitions N] ...
                                           the same on a dask.distributed cluster (xl_lstm.runs.cluster):
                                           DATA a table or a folder of them, the forecasts as parts

Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from ..core.errors import LSTMError
from ..workbook.contract import MIN_WORKBOOK_EPOCHS, WORKBOOK_FIT, WORKBOOK_STEPS
from .demo import demo
from .forecast import forecast_command
from .progress import close_bars
from .text import say, say_lines
from .workbooks import fit_command, refresh, template_command

THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+")  # 37,037: how our own messages print a count


def whole_number(text: str) -> int:
    """A whole number as typed: 37037, 37_037, or 37,037 with commas between groups of three
    (the way every message prints counts, so a number a message suggests is taken as shown)."""
    if THOUSANDS.fullmatch(text.strip()):
        text = text.replace(",", "")
    return int(text)


def _whole(text: str) -> int:
    try:
        return whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


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
    p_demo.add_argument("--seed", type=_whole, default=0, help="seed of the deterministic initialisation (default 0)")
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
        help=f"passes over the history (default: the workbook recipe, {WORKBOOK_FIT.epochs} up to "
        f"{WORKBOOK_STEPS // WORKBOOK_FIT.epochs} steps, fewer over a longer history, at least {MIN_WORKBOOK_EPOCHS})",
    )
    p_fit.add_argument("--seed", type=_whole, default=0, help="seed of the initial weights (default 0)")
    p_fit.add_argument("--quiet", action="store_true", help="no progress bar")
    p_fc = sub.add_parser(
        "forecast",
        help="forecast every series of a table (CSV, Parquet or .xlsx: long unique_id,ds,y or one column per series)",
    )
    p_fc.add_argument(
        "data",
        metavar="DATA",
        help="a table (.csv, .tsv, .txt, .parquet, .xlsx: long unique_id,ds,y, one column per series, or one column "
        "of numbers), a folder of them, or - for stdin (numbers one per line, or a CSV with its header)",
    )
    p_fc.add_argument("--column", help="forecast only this column of a wide table (default: every series)")
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
    p_fc.add_argument(
        "--updates", type=_positive, default=None, help="training steps per LSTM (default 400; not with --pretrained)"
    )
    p_fc.add_argument("--seed", type=_whole, default=0, help="seed of the first LSTM (default 0)")
    p_fc.add_argument(
        "--pretrained",
        action="store_true",
        help="use the shipped pretrained LSTMs, trained on 1,549 competition series, instead of training here: "
        "seconds instead of minutes on few series (docs/forecasting.md says what it costs)",
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            say_lines(demo(args.hidden, args.seed, args.output))
        elif args.command == "template":
            return template_command(args)
        elif args.command == "refresh":
            return refresh(args)
        elif args.command == "fit":
            return fit_command(args)
        elif args.command == "forecast":
            return forecast_command(args)
    except LSTMError as exc:
        close_bars()  # the error's line starts a line of its own, not after a bar
        say(f"xl-lstm: {exc}", sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
