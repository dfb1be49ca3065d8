"""The real command line in a subprocess, under a wall-time limit and memory and CPU limits."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

from tests.conftest import ROOT, cli


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def xl_lstm(*argv: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m xl_lstm ARGV`` with 3 GiB of memory, 120 s of CPU and 180 s of wall time at most."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    return cli(*argv, stdin=stdin, cwd=cwd, env=env, timeout=180, preexec_fn=_limits)
