"""The ``xl-lstm`` command.

    xl-lstm demo [--hidden H] [--seed S]   run the engine on the shipped airline series
    xl-lstm template OUT.xlsx [--hidden H] [--inputs D] [--steps T] [--force]
                                           write a fresh template workbook

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            print(demo(args.hidden, args.seed))
        elif args.command == "template":
            from .template import write_template  # openpyxl is only needed here

            path = write_template(args.out, args.hidden, args.inputs, args.steps, force=args.force)
            print(f"wrote {path}")
    except LSTMError as exc:
        print(f"xl-lstm: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
