"""The ``xl-lstm`` command.

    xl-lstm demo [--hidden H] [--seed S] [--out PATH]
                                           the main job: a template workbook for the shipped
                                           airline series, refreshed, and its forecast
    xl-lstm template OUT.xlsx [--hidden H] [--inputs D] [--steps T] [--force]
                                           write a fresh template workbook
    xl-lstm refresh PATH... [--values] [--output DIR] [--jobs N] [--quiet]
                                           recompute the LSTM blocks of workbooks, without Excel

Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence

from .engine import run
from .errors import LSTMError
from .forecast import recursive_forecast
from .metrics import error_metrics


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
    """The main job end to end: a template workbook for the shipped airline series,
    refreshed by the engine without Excel; reports where it wrote and the forecast."""
    from .refresh import refresh_file  # openpyxl (for the template) is only needed here
    from .template import template_model, write_template

    path = write_template(out, hidden, force=True, seed=seed).resolve()
    result = refresh_file(path)
    m = template_model(hidden, seed=seed)
    T_h, n = m.history_steps, m.horizon
    fc = recursive_forecast(m.params, m.raw[:T_h], n, m.center, m.scale)[:, 0]  # (n,)
    actual = m.raw[T_h:, 0]
    metrics = error_metrics(actual, fc, m.season, m.raw[:T_h, 0])
    last = run(m.params, m.scaled, outputs="last")
    return "\n".join(
        [
            f"wrote    {path}",
            f"model    {m.params!r}: deterministic init (seed {seed}), least-squares head; not trained yet",
            f"series   airline passengers, {m.months[0]}..{m.months[-1]}, {len(m.months)} months",
            f"refresh  {result.cells} cells recomputed in {result.seconds:.2f} s, without Excel",
            f"months   {' '.join(f'{mo:>7}' for mo in m.months[T_h:])}",
            f"forecast {_numbers(fc, '7.1f')}",
            f"actual   {_numbers(actual, '7.1f')}",
            f"errors   sMAPE {metrics['sMAPE']:.1f}%  MASE {metrics['MASE']:.2f}  (season {m.season})",
            f"h_T      {_numbers(last.h_n[-1])}",
            f"C_T      {_numbers(last.c_n[-1])}",
        ]
    )


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog.split()[0]} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xl-lstm", description="LSTMs for people who live in spreadsheets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser(
        "demo", help="the main job: write a template workbook for the shipped airline series, refresh it, print the forecast"
    )
    p_demo.add_argument("--hidden", type=_positive, default=4, help="hidden units H (default 4)")
    p_demo.add_argument("--seed", type=int, default=0, help="seed of the deterministic initialisation (default 0)")
    p_demo.add_argument("--out", default="lstm_demo.xlsx", help="the workbook it writes (default lstm_demo.xlsx, replaced)")
    p_tpl = sub.add_parser("template", help="write a fresh template workbook (weights, inputs, states, forecast, charts)")
    p_tpl.add_argument("out", metavar="OUT.xlsx", help="the workbook to write")
    p_tpl.add_argument("--hidden", type=_positive, default=4, help="hidden units H (default 4)")
    p_tpl.add_argument("--inputs", type=_positive, default=1, help="inputs per step D: the series and D-1 lags (default 1)")
    p_tpl.add_argument("--steps", type=_positive, default=None, help="time steps T (default: the whole series)")
    p_tpl.add_argument("--force", action="store_true", help="replace OUT.xlsx if it exists")
    p_ref = sub.add_parser("refresh", help="recompute the LSTM blocks of workbooks made from the template, without Excel")
    p_ref.add_argument("paths", nargs="+", metavar="PATH", help="workbooks, folders of workbooks, or globs")
    p_ref.add_argument("--values", action="store_true", help="store plain numbers instead of formulas (for readers without the add-in)")
    p_ref.add_argument("--output", metavar="DIR", help="write refreshed copies into DIR instead of replacing the files")
    p_ref.add_argument("--jobs", type=_positive, default=1, help="worker processes (default 1)")
    p_ref.add_argument("--quiet", action="store_true", help="no progress lines and no summary table")
    return parser


def refresh(args: argparse.Namespace) -> int:
    """Refresh every file; problems are one line each on stderr; exit 1 if any file failed."""
    from .refresh import expand, refresh_many, summary_table

    sources = expand(args.paths)
    if not sources:
        print("xl-lstm: refresh: no workbooks found in " + " ".join(args.paths), file=sys.stderr)
        return 2

    def progress(outcome, done: int, total: int) -> None:  # type: ignore[no-untyped-def]
        if outcome.error:
            print(f"xl-lstm: {outcome.error}", file=sys.stderr)
        if not args.quiet:
            bar = "#" * round(20 * done / total)
            status = "ok" if outcome.result else "failed"
            print(f"[{bar:<20}] {done}/{total} {outcome.source} {status}", file=sys.stderr, flush=True)

    outcomes = refresh_many(sources, values_only=args.values, output=args.output, jobs=args.jobs, on_done=progress)
    if not args.quiet:
        print(summary_table(outcomes))
    return 0 if all(o.result for o in outcomes) else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            print(demo(args.hidden, args.seed, args.out))
        elif args.command == "template":
            from .template import write_template  # openpyxl is only needed here

            path = write_template(args.out, args.hidden, args.inputs, args.steps, force=args.force)
            print(f"wrote {path}")
        elif args.command == "refresh":
            return refresh(args)
    except LSTMError as exc:
        print(f"xl-lstm: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
