"""Refreshing many workbooks: which files, one task each, in turn or in worker processes
(or on a cluster, ``runs.cluster``), and the summary table.

One file's failure is its Outcome's one line and never stops the others; every path
check of every file runs before any work, so those refusals come first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import LSTMError
from ..core.files import file_key, refuse_input, same_file
from ..core.limits import WORKBOOK_SUFFIXES
from ..workbook.paths import write_path
from ..workbook.refresh import RefreshResult, refresh_file

__all__ = [
    "Outcome",
    "Runner",
    "check_outputs",
    "expand",
    "in_processes",
    "in_turn",
    "refresh_many",
    "refresh_outcome",
    "summary_table",
]


@dataclass(frozen=True)
class Outcome:
    """One file's result: a RefreshResult, or the one-line reason it was refused."""

    source: str
    result: RefreshResult | None
    error: str | None
    seconds: float


def _folder_workbooks(folder: Path) -> list[str]:
    """A folder's .xlsx/.xlsm files (not its subfolders'), without Excel's ~$ lock files and hidden files."""
    return sorted(
        str(f)
        for f in folder.iterdir()
        if f.suffix.lower() in WORKBOOK_SUFFIXES and not f.name.startswith(("~$", ".")) and f.is_file()
    )


def expand(paths: list[str], patterns: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The files to refresh, in order, each once.

    ``paths`` are taken literally (a name such as ``a[1].xlsx`` is that file, never a
    pattern; the shell has already expanded what it was asked to): a file as itself, a
    folder as its .xlsx/.xlsm files, not recursing. ``patterns`` are globs expanded here
    (``**`` recurses), for ``--glob``. A file reached twice (by two spellings or a symbolic
    link) is refreshed once, under its first name. A missing path stays in the list, so its
    refresh says it does not exist.
    """
    import glob

    found: list[str] = []
    for text in paths:
        p = Path(text)
        found += _folder_workbooks(p) if p.is_dir() else [text]
    for pattern in patterns:
        found += sorted(f for f in glob.glob(pattern, recursive=True) if Path(f).suffix.lower() in WORKBOOK_SUFFIXES)
    out: dict[str, str] = {}
    for f in found:
        out.setdefault(os.path.realpath(f) if os.path.exists(f) else f, f)
    return list(out.values())


def check_outputs(sources: list[str], output: str | None) -> None:
    """Refuse, before any work, two sources that would be written to the same file of --output DIR,
    or a source's refreshed copy that would replace another file this run refreshes.

    Files are compared by ``core.files.file_key`` (resolved, without case: one file on the
    disks of Windows and macOS), so two names that differ only in case are one output.
    """
    if output is None:
        return
    read = {file_key(s): s for s in sources}
    seen: dict[str, str] = {}
    for s in sources:
        target = Path(output) / Path(s).name
        key = file_key(target)
        if key in seen:
            raise LSTMError(
                f"{target}: both {seen[key]} and {s} would be written to it; "
                "refresh them into different --output folders"
            )
        seen[key] = s
        other = read.get(key)
        if other is not None and other != s and not same_file(target, s):  # its own file: write_path says so
            refuse_input(target, [other], f"refreshed copy of {s}")


def refresh_outcome(source: str, values_only: bool, output: str | None) -> Outcome:
    """Refresh one file, as a task: every failure is its Outcome's one line, never an exception."""
    start = time.perf_counter()
    try:
        result = refresh_file(source, values_only=values_only, output=output)
        return Outcome(source, result, None, time.perf_counter() - start)
    except LSTMError as exc:
        return Outcome(source, None, str(exc), time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001  a bug of ours: still one line, and the other files go on
        detail = " ".join(str(exc).split())[:200]
        return Outcome(
            source,
            None,
            f"{source}: unexpected {type(exc).__name__}: {detail} (please report this)",
            time.perf_counter() - start,
        )


def _refused_paths(sources: list[str], output: str | None) -> dict[str, Outcome]:
    """Every file whose path checks fail (missing, locked, read-only, ...), found before any work."""
    refused = {}
    for s in sources:
        try:
            write_path(s, output)
        except LSTMError as exc:
            refused[s] = Outcome(s, None, str(exc), 0.0)
    return refused


Runner = Callable[[list[str], bool, "str | None"], Iterable[Outcome]]


def in_turn(todo: list[str], values_only: bool, output: str | None) -> Iterator[Outcome]:
    """Refresh the files one after another, here."""
    for s in todo:
        yield refresh_outcome(s, values_only, output)


def in_processes(jobs: int) -> Runner:
    """Refresh the files ``jobs`` at a time in worker processes of this machine, yielding each as it finishes."""

    def run(todo: list[str], values_only: bool, output: str | None) -> Iterator[Outcome]:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(refresh_outcome, s, values_only, output) for s in todo]
            for fut in as_completed(futures):
                yield fut.result()

    return run


def refresh_many(
    sources: list[str],
    *,
    values_only: bool = False,
    output: str | None = None,
    jobs: int = 1,
    on_done: Any = None,
    runner: Runner | None = None,
) -> list[Outcome]:
    """Refresh every file, ``jobs`` at a time in worker processes; one file's failure does not stop the rest.

    ``on_done(outcome, done, total)`` is called as each file finishes (a progress bar).
    Outcomes come back in the order of ``sources``. Before any work: two sources that would
    be written to the same ``output`` file refuse the whole run (an LSTMError), and every
    file's path checks run, so those refusals come first. ``runner`` refreshes the files that
    pass them elsewhere (``xl_lstm.runs.cluster.on_cluster``), yielding each Outcome as it finishes.
    """
    check_outputs(sources, output)
    outcomes = _refused_paths(sources, output)
    total, done = len(sources), 0
    for o in outcomes.values():
        done += 1
        if on_done:
            on_done(o, done, total)
    todo = [s for s in sources if s not in outcomes]
    if runner is None:
        runner = in_processes(jobs) if jobs > 1 and len(todo) > 1 else in_turn
    for o in runner(todo, values_only, output):
        outcomes[o.source] = o
        done += 1
        if on_done:
            on_done(o, done, total)
    return [outcomes[s] for s in sources]


def summary_table(outcomes: list[Outcome]) -> str:
    """file | steps | time | status, one row per file."""
    rows = [("file", "steps", "time", "status")]
    for o in outcomes:
        steps = str(o.result.steps) if o.result else "-"
        status = "ok" if o.result else "failed"
        rows.append((o.source, steps, f"{o.seconds:.2f}s", status))
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    lines = [
        "  ".join(
            cell.ljust(w) if k in (0, 3) else cell.rjust(w) for k, (cell, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()
        for r in rows
    ]
    ok = sum(1 for o in outcomes if o.result)
    lines.append(f"{ok} of {len(outcomes)} refreshed")
    return "\n".join(lines)
