"""The real command line in a subprocess, under a wall-time limit and memory and CPU limits."""

from __future__ import annotations

import os
import resource
import subprocess
from functools import partial
from pathlib import Path

from tests.conftest import ROOT, cli


def _limits(memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (120, 120))


def xl_lstm(
    *argv: str, stdin: str | None = None, cwd: Path | None = None, memory: int = 3 << 30
) -> subprocess.CompletedProcess[str]:
    """``python -m xl_lstm ARGV`` with ``memory`` bytes of address space (3 GiB), 120 s of CPU and 180 s of
    wall time at most."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    return cli(*argv, stdin=stdin, cwd=cwd, env=env, timeout=180, preexec_fn=partial(_limits, memory))
