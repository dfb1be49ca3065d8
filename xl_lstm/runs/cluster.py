"""Many series and many workbooks on a dask.distributed cluster (``--scheduler ADDRESS``).

    dask scheduler                                   # on one machine: prints tcp://HOST:8786
    dask worker tcp://HOST:8786 --nthreads 1         # on each machine, one per core
    xl-lstm forecast DATA --scheduler tcp://HOST:8786 --output DIR
    xl-lstm refresh PATHS... --scheduler tcp://HOST:8786

dask does the scheduling, the moving of data, and the retrying; nothing here schedules.

forecast: each file of DATA is read by a worker (``panel_files.read_file``); the client
gathers the rows it fits on (all series, or ``sample`` of them), fits the one global model
(``xl_lstm.forecasting.panels.fit_panel``: it needs those series together, so it runs here), and sends
``model.shared()`` to every worker. dask.dataframe's shuffle puts each series' rows in one
partition (a series may span files); each partition is forecast with the model
(``panel_files.forecast_part``, the function the single machine calls on the whole panel)
and written as ``DIR/part-NNNNN.parquet`` (``.csv`` too on request), whole or not at all.

refresh: each workbook is one task (``batch.refresh_outcome``), run by a worker that sees
the same paths (a shared file system), atomically as on one machine.

Paths: every path (a workbook, a table, the --output folder) is made absolute and resolved
here, on the client (``on_client``), before it goes to a worker. A worker started in another
folder would otherwise read and write its own ``book.xlsx`` or ``data/``, and report success.
A worker that cannot see a path the client sees (another machine, no shared file system)
says so in one line naming the path and the worker (``unseen``), never "does not exist".

Failures: a worker that dies (killed, out of memory, its machine gone) loses nothing: the
scheduler runs its tasks again on other workers, and rebuilds the partitions it held from
the files. A task is safe to run twice: a part or a workbook is written to a temporary file
and renamed, so a second run replaces the first's file with the same bytes and removes the
temporary file a killed run left. A refused file or series is a result (one line), not an
error, so it is not retried. An error of any other kind is retried ``RETRIES`` times.

dask is imported only here, and this module only for ``--scheduler``: xl_lstm works without it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from ..core.errors import LSTMError
from ..core.limits import DEFAULT_LEVELS
from ..forecasting.auto import AutoConfig, AutoModel
from ..forecasting.panels import fit_sample
from ..forecasting.train import Epoch
from .batch import Outcome, Runner, refresh_outcome
from .panel_files import (
    Clock,
    FileRead,
    ManyForecast,
    Plan,
    fit_on,
    forecast_part,
    output_folder,
    plan_files,
    read_file,
    table_files,
    write_part,
)

__all__ = ["NEEDS", "PartDone", "connect", "forecast_on_cluster", "on_cluster"]

NEEDS = "--scheduler needs dask.distributed: pip install 'xl_lstm[dask]'"
RETRIES = 2  # an error that is not a refusal (a full disk, a lost connection) is tried this many times more
SERIES_PER_PART = 1000  # partitions of about this many series, at least two per worker
CONNECT_SECONDS = 10


def _distributed() -> Any:
    try:
        import dask.dataframe  # noqa: F401  the shuffle by series
        import distributed
    except ImportError:
        raise LSTMError(NEEDS) from None
    return distributed


@contextmanager
def connect(address: str, workers: int = 2) -> Iterator[Any]:
    """A dask Client of the scheduler at ``address``, or of a LocalCluster of ``workers``
    processes (one thread each) for ``local``; closed on leaving."""
    distributed = _distributed()
    if address == "local":
        with (
            distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(address, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise LSTMError(f"cannot reach the dask scheduler at {address} ({' '.join(str(exc).split())[:160]})") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=CONNECT_SECONDS)
        except TimeoutError:
            raise LSTMError(
                f"the dask scheduler at {address} has no workers; start some: dask worker {address} --nthreads 1"
            ) from None
        yield client


# ---- paths -----------------------------------------------------------------------------------------
def on_client(path: str | Path) -> str:
    """``path`` as the client means it, absolute and resolved here: what every worker is sent,
    since a relative path would be resolved against the worker's own folder."""
    return str(Path(path).resolve())


def worker_name() -> str:
    """The worker running this task (its name and address), or this machine's name outside dask."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return socket.gethostname()
    return f"{worker.name} ({worker.address})" if str(worker.name) != worker.address else worker.address


def unseen(*paths: str | None) -> str | None:
    """The one line saying that this worker cannot see a path the client sent, or None if it sees them all."""
    for path in paths:
        if path is not None and not os.path.exists(path):
            return (
                f"{path}: the worker {worker_name()} cannot see this path of the client's; "
                "the workers must see the client's files at the same paths (a shared file system)"
            )
    return None


# ---- refresh ---------------------------------------------------------------------------------------
def refresh_seen(source: str, values_only: bool, output: str | None) -> Outcome:
    """``batch.refresh_outcome`` on a worker, if the worker sees the workbook (and the --output folder)."""
    line = unseen(source, output)
    if line is not None:
        return Outcome(source, None, line, 0.0)
    return refresh_outcome(source, values_only, output)


def on_cluster(client: Any) -> Runner:
    """A ``refresh_many`` runner: one task per workbook (its path resolved here), yielding each Outcome as it finishes."""
    from distributed import as_completed

    def run(todo: list[str], values_only: bool, output: str | None) -> Iterator[Outcome]:
        paths = [on_client(s) for s in todo]
        out = None if output is None else on_client(output)
        futures = client.map(refresh_seen, paths, values_only=values_only, output=out, retries=RETRIES, pure=False)
        source_of = {f.key: s for f, s in zip(futures, todo, strict=True)}
        for fut in as_completed(futures):
            yield dataclasses.replace(_outcome(fut, source_of[fut.key]), source=source_of[fut.key])  # as typed

    return run


def _outcome(fut: Any, source: str) -> Outcome:
    try:
        return fut.result()  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001  lost for good (e.g. it killed worker after worker): one line
        return Outcome(source, None, f"{source}: lost on the cluster ({_said(exc)})", 0.0)


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


# ---- forecast --------------------------------------------------------------------------------------
class PartDone(NamedTuple):
    """What a part's task returns (its forecasts are in its files)."""

    part: int  # its number: part-NNNNN
    series: int  # series forecast
    rows: int
    refused: dict[str, str]
    notes: list[str]
    paths: list[str]


def forecast_and_write(
    rows: pd.DataFrame,
    model_bytes: bytes,
    index: int,
    horizon: int,
    levels: tuple[float, ...],
    plan: Plan,
    folder: str,
    csv: bool,
) -> PartDone:
    """One partition's task: forecast its series and write them as part ``index``.

    The model comes pickled: dask's own serialization may hand its arrays over as views of
    its network buffers, not even 8-byte aligned, and NumPy's matrix product takes another
    path on such arrays whose sums differ in the last bit (seen: one value in 480). Unpickled,
    they are NumPy's own aligned arrays, and the numbers are the single machine's, exactly."""
    line = unseen(folder)
    if line is not None:  # said once per part, not retried: another worker would not see it either
        return PartDone(index, 0, 0, {f"part {index}": line}, [], [])
    model: AutoModel = pickle.loads(model_bytes)  # noqa: S301  our own model, sent by our own client
    out = forecast_part(rows, model, horizon, levels, plan)
    paths = write_part(out.table, folder, index, plan.names, csv) if len(out.table) else []
    return PartDone(index, len(out.table) // horizon, len(out.table), out.refused, out.notes, [str(p) for p in paths])


def read_seen(path: str, every: list[str] | None = None) -> FileRead:
    """``panel_files.read_file`` on a worker, if the worker sees the file: else the file is refused in one line."""
    line = unseen(path)
    if line is not None:
        return FileRead.refused_with(path, line)
    return read_file(path, every or ())


def _summary(read: FileRead) -> FileRead:
    return read.summary()


def _rows(read: FileRead, ids: frozenset[str] | None = None) -> pd.DataFrame:
    long = read.long
    return long if ids is None else long[long["unique_id"].isin(ids)]


def part_count(series: int, workers: int) -> int:
    """Partitions of about SERIES_PER_PART series, and at least two per worker."""
    return max(2 * max(1, workers), math.ceil(series / SERIES_PER_PART))


def forecast_on_cluster(
    client: Any,
    data: str | Path,
    output: str | Path,
    horizon: int | None = None,
    levels: tuple[float, ...] = DEFAULT_LEVELS,
    config: AutoConfig | None = None,
    *,
    sample: int | None = None,
    csv: bool = False,
    partitions: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    on_part: Callable[[PartDone, int, int], None] | None = None,
    **settings: Any,
) -> ManyForecast:
    """Every series of DATA (a table file or a folder of them) forecast on the cluster and written
    as parts into the folder ``output``: the numbers of ``panel_files.forecast_files``.
    ``on_part(done, finished, total)`` is called as each part is written (a progress bar)."""
    import dask
    import dask.dataframe as dd
    from distributed import as_completed

    cfg = (config or AutoConfig()).changed(**settings)
    files = [on_client(f) for f in table_files(on_client(data))]
    for f in files:  # the client's own view first: a path typed wrong is said as such, here
        if not os.path.exists(f):
            raise LSTMError(f"{f}: no such file")
    folder = output_folder(on_client(output))
    clock = Clock()
    reads = client.map(read_seen, files, every=files, retries=RETRIES, pure=False)
    summaries: list[FileRead] = client.gather(client.map(_summary, reads, pure=False))
    plan = plan_files(summaries, str(data))
    good = [reads[k] for k in plan.good]
    fit_ids = fit_sample(plan.ids, sample, cfg.seed)
    chosen = None if sample is None else frozenset(fit_ids)
    fit_rows = pd.concat(client.gather(client.map(_rows, good, ids=chosen, pure=False)), ignore_index=True)
    clock.lap("read")
    model, h = fit_on(fit_rows, plan, fit_ids, horizon, cfg, on_epoch)
    clock.lap("fit")
    del fit_rows
    shared = client.scatter(pickle.dumps(model.shared()), broadcast=True, hash=False)
    task_plan = plan._replace(ids=[], refused={})  # what a part needs of the plan: small
    longs = client.map(_rows, good, pure=False)
    frame = dd.from_delayed(longs, meta=summaries[plan.good[0]].long, verify_meta=False)
    n_parts = partitions or part_count(len(plan.ids), len(client.scheduler_info()["workers"]))
    by_series = frame.shuffle(on="unique_id", npartitions=n_parts, shuffle_method="tasks")
    tasks = [
        dask.delayed(forecast_and_write)(part, shared, k, h, levels, task_plan, str(folder), csv)
        for k, part in enumerate(by_series.to_delayed())
    ]
    futures = client.compute(tasks, retries=RETRIES)
    index_of = {f.key: k for k, f in enumerate(futures)}
    refused, notes, parts, series, rows = dict(plan.refused), [f"chose: {model.describe()}"], [], 0, 0
    for finished, fut in enumerate(as_completed(futures), 1):
        done = _part_done(fut, index_of[fut.key], str(data))
        refused |= done.refused
        notes += [n for n in done.notes if n not in notes]
        parts += [Path(p) for p in done.paths]
        series, rows = series + done.series, rows + done.rows
        if on_part is not None:
            on_part(done, finished, len(futures))
    clock.lap("forecast")
    return ManyForecast(model, notes, refused, series, rows, pd.DataFrame(), sorted(parts), plan.names, clock.seconds)


def _part_done(fut: Any, index: int, data: str) -> PartDone:
    try:
        return fut.result()  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001  a part lost for good: one line, the other parts go on
        line = f"{data}: part {index} was lost on the cluster, its series are not forecast ({_said(exc)})"
        return PartDone(index, 0, 0, {f"part {index}": line}, [], [])
