"""Check an installed xl_lstm as a user gets it: from the wheel (or a git URL), not the source tree.

    python .ci/wheel_check.py WORKDIR

Run it with the Python of a venv where xl_lstm was installed with pip, not in editable mode.
It refuses to run on the source tree, then, in WORKDIR: `xl-lstm --version`; `xl-lstm demo`
(the main job on the shipped data); `xl-lstm template` and `xl-lstm forecast` on the shipped
example series; and the five worksheet functions called through xlwings' own server code
(`xlwings.server.custom_functions_call`, as xlwings Lite and xlwings Server call them),
compared with the engine. Prints one line per check; the first failure is one line and exit 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

# In the child (XLWINGS_ON_SERVER=true set before xlwings is imported) each payload goes
# through xlwings' converters to the installed xl_lstm.udfs, as Office.js posts it.
CALLS = r"""
import asyncio, json, sys
import xlwings.server as server
import xl_lstm.udfs as udfs

async def main(payloads):
    out = []
    for p in payloads:
        out.append(await server.custom_functions_call(p, udfs))
    return out

print(json.dumps(asyncio.run(main(json.load(sys.stdin)))))
"""


class CheckFailed(Exception):
    pass


def sh(args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CheckFailed(f"{' '.join(args[:3])} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return proc.stdout


def installed_package() -> Path:
    import xl_lstm

    where = Path(xl_lstm.__file__).resolve().parent
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if site not in where.parents:
        raise CheckFailed(f"xl_lstm is imported from {where}, not from this venv's {site}: not an installed wheel")
    print(f"ok  xl_lstm {xl_lstm.__version__} from {where}")
    return where


def payload(name: str, *args: object) -> dict[str, object]:
    return {"func_name": name, "args": list(args), "version": "dev", "client": "Office.js", "runtime": "1.4"}


def check_functions(work: Path) -> None:
    import numpy as np

    import xl_lstm as xl

    p = xl.init_params(1, 3, output_size=1, seed=2)
    W, b = p.W.tolist(), [[v] for v in p.b]
    history = [[v] for v in np.sin(np.arange(30) / 3)]
    calls = [
        payload("lstm_step", [[0.5]], None, None, W, b),
        payload("lstm_sequence", history, W, b, None, None, [["h"]]),
        payload("lstm_forecast", history, W, b, p.W_y.tolist(), [[float(p.b_y[0])]], [[4]], None),
        payload("lstm_metrics", [[1.0], [2.0], [3.0]], [[1.5], [2.0], [2.0]], None, None),
        payload("lstm_init", [[1]], [[3]], [[2]]),
        payload("lstm_step", [[0.5]], None, None, W[:-1], b),  # a wrong shape: one line, no traceback
    ]
    env = dict(os.environ, XLWINGS_ON_SERVER="true", XLWINGS_LICENSE_KEY="noncommercial")
    got = json.loads(sh([sys.executable, "-c", CALLS], work, env, json.dumps(calls)))
    step = xl.step(p, [0.5])
    want = np.concatenate([step.i, step.f, step.g, step.c, step.o, step.h])
    if not np.allclose(np.array(got[0], float).ravel(), want, rtol=1e-12, atol=0):
        raise CheckFailed(f"LSTM_STEP through xlwings gave {got[0]}, the engine {want.tolist()}")
    seq = xl.run(p, np.array(history)).h
    if not np.allclose(np.array(got[1], float), seq, rtol=1e-12, atol=0):
        raise CheckFailed("LSTM_SEQUENCE(outputs='h') through xlwings differs from the engine's h")
    fc = xl.recursive_forecast(p, np.array(history), 4)
    if not np.allclose(np.array(got[2], float), fc, rtol=1e-12, atol=0):
        raise CheckFailed(f"LSTM_FORECAST through xlwings gave {got[2]}, the engine {fc.tolist()}")
    if [row[0] for row in got[3]] != ["MAE", "RMSE", "MAPE", "sMAPE", "MASE"]:
        raise CheckFailed(f"LSTM_METRICS gave the rows {got[3]}")
    if np.array(got[4], float).shape != (12, 5):
        raise CheckFailed(f"LSTM_INIT(1, 3) gave a block of shape {np.array(got[4]).shape}, not 12×5")
    message = got[5][0][0]
    if not (isinstance(message, str) and message.startswith("LSTM_STEP: W must be") and "\n" not in message):
        raise CheckFailed(f"a wrong W gave {got[5]!r}, not one line naming W")
    print("ok  LSTM_STEP, LSTM_SEQUENCE, LSTM_FORECAST, LSTM_METRICS, LSTM_INIT through xlwings' server code")


def check_commands(work: Path) -> None:
    import xl_lstm

    exe = Path(sys.executable).with_name("xl-lstm")
    version = sh([str(exe), "--version"], work).strip()
    if version != f"xl-lstm {xl_lstm.__version__}":
        raise CheckFailed(f"xl-lstm --version printed {version!r}")
    print(f"ok  {version}")
    out = sh([str(exe), "demo"], work)
    if not (work / "lstm_demo.xlsx").is_file() or "forecast" not in out or "sMAPE" not in out:
        raise CheckFailed(f"xl-lstm demo wrote no lstm_demo.xlsx or printed no forecast:\n{out}")
    print("ok  xl-lstm demo: " + next(line for line in out.splitlines() if line.startswith("errors")))
    sh([str(exe), "template", "book.xlsx"], work)
    sh([str(exe), "refresh", "book.xlsx", "--quiet"], work)
    print("ok  xl-lstm template book.xlsx, then xl-lstm refresh book.xlsx")
    series = Path(xl_lstm.__file__).parent / "data" / "airpassengers.csv"
    table = sh([str(exe), "forecast", str(series), "--horizon", "3", "--quiet"], work)
    if len(table.strip().splitlines()) != 4:
        raise CheckFailed(f"xl-lstm forecast of the shipped series printed:\n{table}")
    print(f"ok  xl-lstm forecast {series.name} --horizon 3")


def main() -> int:
    work = Path(sys.argv[1]).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        installed_package()
        check_commands(work)
        check_functions(work)
    except CheckFailed as exc:
        print(f"wheel check: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
