"""The ``xl-lstm`` command.

    xl-lstm demo [--hidden H] [--seed S]   run the engine on the shipped airline series
    xl-lstm template OUT.xlsx [--hidden H] [--inputs D] [--steps T] [--force]
                                           write a fresh template workbook
    xl-lstm refresh PATH... [--values] [--output DIR] [--jobs N] [--quiet]
                                           recompute the LSTM blocks of workbooks, without Excel

Every failure is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .datasets import load_airpassengers
from .engine import run
from .errors import LSTMError
from .params import init_params


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _numbers(v: Sequence[float]) -> str:
    return " ".join(f"{a:+.6f}" for a in v)


def demo(hidden: int, seed: int) -> str:
    """Run a freshly initialised LSTM over the standardised airline series; report the last states."""
    series = load_airpassengers()
    x = series.to_numpy()
    scaled = (x - x.mean()) / x.std()  # (T,)
    params = init_params(1, hidden, seed=seed)
    result = run(params, scaled[:, None], outputs="last")
    h, c = result.h_n[-1], result.c_n[-1]  # (H,)
    return "\n".join(
        [
            f"series   airline passengers, {len(x)} months {series.index[0]}..{series.index[-1]}, standardised",
            f"model    {params!r}, deterministic init (seed {seed})",
            f"h_T      {_numbers(h)}",
            f"C_T      {_numbers(c)}",
        ]
    )


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (and exit code 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog.split()[0]} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xl-lstm", description="LSTMs for people who live in spreadsheets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="run the engine on the shipped airline series and print the last states")
    p_demo.add_argument("--hidden", type=_positive, default=4, help="hidden units H (default 4)")
    p_demo.add_argument("--seed", type=int, default=0, help="seed of the deterministic initialisation (default 0)")
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
            print(demo(args.hidden, args.seed))
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
