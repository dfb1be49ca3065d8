"""One panel kept in many files and forecast in parts: what the single-machine and the
cluster forecasts (``xl_lstm.runs.cluster``) share, so that they give the same numbers.

DATA is a table file or a folder of them (its own ``.csv``/``.parquet`` files, not its
subfolders'). Each file is read strictly by ``read_panel`` (``read_file``): a file it
refuses is one line and the other files go on. The files are one table: one frequency
(``table_frequency``), and a series may lie in several files (e.g. one file per year).
Once a series' rows are together, ``check_long`` checks the series again (two rows for one
date across files, a gap between files): a series that fails is one line, the others go on.

Forecasts are written as parts (``write_part``): ``DIR/part-00000.parquet`` (and ``.csv``
on request), each written whole or not at all (temporary file, then rename), so a part
killed half-way is never seen, and writing it again replaces it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..core.errors import LSTMError
from ..core.files import atomic_write, clean_stale
from ..core.limits import DEFAULT_LEVELS
from ..forecasting.auto import AutoConfig, AutoModel
from ..forecasting.panels import Forecasts, fit_panel, fit_sample, forecast_panel, level_columns
from ..forecasting.train import Epoch
from ..tables.cells import when
from ..tables.frequency import frequency_words
from ..tables.magnitude import check_finite_forecasts
from ..tables.panel import Panel, panel_from_frame, read_panel
from ..tables.writers import table_writer

__all__ = [
    "Clock",
    "FileRead",
    "ManyForecast",
    "Plan",
    "check_long",
    "combined_order",
    "fit_on",
    "forecast_files",
    "forecast_part",
    "output_folder",
    "part_name",
    "plan_files",
    "read_file",
    "table_files",
    "table_frequency",
    "with_file",
    "write_part",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")
LONG = ("unique_id", "ds", "y")
PART = "part-{:05d}"


def table_files(data: str | Path) -> list[Path]:
    """DATA as its files: the file itself, or a folder's table files (sorted; hidden and ``_`` files left out)."""
    path = Path(data)
    if not path.is_dir():
        return [path]
    files = sorted(
        f
        for f in path.iterdir()
        if f.suffix.lower() in TABLE_SUFFIXES and not f.name.startswith((".", "_")) and f.is_file()
    )
    if not files:
        raise LSTMError(f"{path}: holds no {', '.join(TABLE_SUFFIXES)} files to forecast")
    return files


@dataclass(frozen=True)
class FileRead:
    """One file of the panel: its long rows (unique_id, ds, y), or the one line refusing it."""

    path: str
    long: pd.DataFrame  # empty when refused, and in summary()
    id_order: list[str]  # series in the file's order
    freq_code: str | None  # pandas offset code, None for step numbers
    names: dict[str, str]  # the file's names of unique_id, ds, y
    rows: int
    error: str | None = None

    @classmethod
    def refused_with(cls, path: str | Path, line: str) -> FileRead:
        """A file that could not be read, and the one line saying why."""
        return cls(str(path), pd.DataFrame(columns=list(LONG)), [], None, {}, 0, line)

    def summary(self) -> FileRead:
        """Without its rows: what the client of a cluster needs to plan."""
        return dataclasses.replace(self, long=self.long.iloc[:0])


def read_file(path: str | Path, every: Sequence[str] = ()) -> FileRead:
    """``read_panel`` of one file; a refusal is kept as its line, never raised. Each row keeps
    its file (a ``file`` column, categorical over ``every`` file of the run: a byte or two a
    row, and the same categories in every file, so that concatenating them keeps the codes),
    so that two rows of one series and date from two files are said by their files' names."""
    try:
        p = read_panel(path)
    except LSTMError as exc:
        return FileRead.refused_with(path, str(exc))
    return FileRead(str(path), with_file(p.long, str(path), every), p.id_order, p.freq_code, p.names, len(p.long))


def with_file(long: pd.DataFrame, path: str, every: Sequence[str] = ()) -> pd.DataFrame:
    """``long`` with the column ``file``: ``path``, one of the categories ``every`` (default: itself)."""
    files = list(every) or [path]
    codes = np.full(len(long), files.index(path), dtype=np.int32)
    return long.assign(file=pd.Categorical.from_codes(codes, categories=files))


def _twice(rows: pd.DataFrame, uid: object, source: str) -> str | None:
    """The line for a series with two rows for one date, naming the two files they came from
    (read_panel already refuses two in one file): None if that is not what is wrong with it."""
    if "file" not in rows:
        return None
    twice = rows[rows.duplicated("ds", keep=False)].sort_values("ds", kind="stable")
    if twice.empty:
        return None
    first = twice[twice["ds"] == twice["ds"].iloc[0]]
    files = list(dict.fromkeys(str(f) for f in first["file"]))
    in_files = f"in both {files[0]} and {files[1]}" if len(files) > 1 else f"twice in {files[0]}"
    return (
        f"{source}: series {uid!r} has two rows for {when(twice['ds'].to_numpy(), 0)}, {in_files}; "
        "keep one (a series may span files, but each date once)"
    )


def table_frequency(reads: Sequence[FileRead]) -> tuple[str | None, dict[str, str]]:
    """The panel's frequency code (the first readable file's), and path -> why each file off it is refused."""
    good = [r for r in reads if r.error is None]
    if not good:
        raise LSTMError(f"no file could be read: {reads[0].error}" if reads else "no files to read")
    code = good[0].freq_code
    refused = {
        r.path: (
            f"{r.path}: is {frequency_words(r.freq_code)} but {good[0].path} is {frequency_words(code)}; "
            "one run forecasts one frequency"
        )
        for r in good
        if r.freq_code != code
    }
    return code, refused


def combined_order(reads: Iterable[FileRead]) -> list[str]:
    """Every series once, in the order the files give them (file by file)."""
    order: dict[str, None] = {}
    for r in reads:
        order.update(dict.fromkeys(r.id_order))
    return list(order)


def _as_panel(long: pd.DataFrame, source: str) -> Panel:
    return panel_from_frame(long[list(LONG)], id_col="unique_id", ds_col="ds", y_col="y", source=source)


def check_long(
    long: pd.DataFrame, id_order: Sequence[str], code: str | None, source: str
) -> tuple[Panel | None, dict[str, str]]:
    """The rows of whole series (from one file or several) as a Panel in ``id_order``, and id ->
    why each series that fails the panel's checks, or is off the frequency ``code``, is left out."""
    if long.empty:
        return None, {}
    try:
        panel = _as_panel(long, source)
        if panel.freq_code == code:
            present = set(panel.id_order)
            return dataclasses.replace(panel, id_order=[k for k in id_order if k in present]), {}
    except LSTMError:
        pass  # find the series at fault, one by one
    refused: dict[str, str] = {}
    for uid, rows in long.groupby("unique_id", sort=False):
        try:
            own = _as_panel(rows, source).freq_code
        except LSTMError as exc:
            refused[str(uid)] = _twice(rows, uid, source) or str(exc)
            continue
        if own != code:
            refused[str(uid)] = (
                f"{source}: series {uid!r} is {frequency_words(own)} but the table is {frequency_words(code)}; "
                "leave it out"
            )
    kept = long[~long["unique_id"].isin(set(refused))]
    if kept.empty:
        return None, refused
    panel = _as_panel(kept, source)
    present = set(panel.id_order)
    return dataclasses.replace(panel, id_order=[k for k in id_order if k in present]), refused


def output_folder(path: str | Path) -> Path:
    """The folder the parts go to: made if missing; an existing one must be empty (no stale parts mixed in)."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise LSTMError(f"{folder}: is a file; the forecasts of a cluster are written as parts into a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise LSTMError(f"{folder}: is not empty; give a new or empty folder for the parts")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LSTMError(f"{folder}: cannot make the folder ({exc.strerror or exc})") from None
    return folder


def part_name(index: int) -> str:
    return PART.format(index)


def write_part(table: pd.DataFrame, folder: str | Path, index: int, names: dict[str, str], csv: bool) -> list[Path]:
    """Part ``index`` of the forecasts (columns renamed to the data's names of unique_id and ds)
    as .parquet (and .csv), each replaced whole; temporary files of a killed earlier write go first."""
    check_finite_forecasts(table, f"part {index}")
    frame = table.rename(columns={k: v for k, v in names.items() if k in ("unique_id", "ds")})
    written = []
    for suffix in (".parquet", ".csv") if csv else (".parquet",):
        path = Path(folder) / f"{part_name(index)}{suffix}"
        clean_stale(path)
        atomic_write(path, table_writer(path, frame))
        written.append(path)
    return written


# ---- the forecast, in the steps both the single machine and the cluster take ----------------------------
class Plan(NamedTuple):
    """What is decided from the files' summaries, before any series is fitted."""

    source: str  # DATA as given: the start of every line about a series
    code: str | None  # the panel's frequency code
    ids: list[str]  # every series of the readable files, in their order
    refused: dict[str, str]  # a refused file's path -> its line
    names: dict[str, str]  # the first readable file's names of unique_id, ds, y
    good: list[int]  # positions of the files to use


def plan_files(summaries: Sequence[FileRead], source: str) -> Plan:
    code, off = table_frequency(summaries)
    refused = {r.path: r.error for r in summaries if r.error is not None} | off
    good = [k for k, r in enumerate(summaries) if r.path not in refused]
    used = [summaries[k] for k in good]
    return Plan(source, code, combined_order(used), refused, used[0].names, good)


def fit_on(
    rows: pd.DataFrame,
    plan: Plan,
    fit_ids: list[str],
    horizon: int | None,
    config: AutoConfig,
    on_epoch: Callable[[Epoch], None] | None,
) -> tuple[AutoModel, int]:
    """The global model fitted on ``rows`` (those of the series ``fit_ids``), and the horizon."""
    panel, _ = check_long(rows, fit_ids, plan.code, plan.source)  # its refusals are said by the forecast
    if panel is None:
        raise LSTMError(f"{plan.source}: no series to fit on: every one was refused")
    fit = fit_panel(panel, horizon, config, on_epoch=on_epoch)
    return fit.model, fit.horizon


def forecast_part(
    rows: pd.DataFrame,
    model: AutoModel,
    horizon: int,
    levels: tuple[float, ...],
    plan: Plan,
    id_order: Sequence[str] | None = None,
) -> Forecasts:
    """Forecast the whole series in ``rows`` (checked again now they are together) with the model."""
    order = list(id_order) if id_order is not None else sorted(map(str, pd.unique(rows["unique_id"])))
    panel, refused = check_long(rows, order, plan.code, plan.source)
    if panel is None:
        columns = ["unique_id", "ds", "forecast", *level_columns(levels)]
        return Forecasts(pd.DataFrame({c: [] for c in columns}), [], refused, levels)
    out = forecast_panel(model, panel, horizon, levels)
    return dataclasses.replace(out, refused=refused | out.refused)


class ManyForecast(NamedTuple):
    model: AutoModel
    notes: list[str]  # "chose: ...", and what a reader of the intervals should know
    refused: dict[str, str]  # a file's path or a series' id -> its one line; the rest went on
    series: int  # series forecast
    rows: int  # forecasts (series x horizon)
    table: pd.DataFrame  # the forecasts (single machine); empty on a cluster, whose parts hold them
    parts: list[Path]  # the part files written (cluster)
    names: dict[str, str]  # the data's names of unique_id, ds, y
    seconds: dict[str, float] = {}  # wall time of each step: read, fit, forecast


def forecast_files(
    data: str | Path,
    horizon: int | None = None,
    levels: tuple[float, ...] = DEFAULT_LEVELS,
    config: AutoConfig | None = None,
    *,
    sample: int | None = None,
    on_epoch: Callable[[Epoch], None] | None = None,
    **settings: Any,
) -> ManyForecast:
    """Every series of DATA (a table file or a folder of them) on this machine: the steps of
    ``xl_lstm.runs.cluster.forecast_on_cluster``, with the whole panel as one part."""
    cfg = (config or AutoConfig()).changed(**settings)
    clock = Clock()
    files = [str(f) for f in table_files(data)]
    reads = [read_file(f, files) for f in files]
    plan = plan_files([r.summary() for r in reads], str(data))
    every = pd.concat([reads[k].long for k in plan.good], ignore_index=True)
    fit_ids = fit_sample(plan.ids, sample, cfg.seed)
    fit_rows = every if sample is None else every[every["unique_id"].isin(set(fit_ids))]
    clock.lap("read")
    model, h = fit_on(fit_rows, plan, fit_ids, horizon, cfg, on_epoch)
    clock.lap("fit")
    out = forecast_part(every, model, h, levels, plan, plan.ids)
    clock.lap("forecast")
    notes = [f"chose: {model.describe()}", *out.notes]
    series = len(out.table) // h
    refused = plan.refused | out.refused
    return ManyForecast(model, notes, refused, series, len(out.table), out.table, [], plan.names, clock.seconds)


class Clock:
    """Wall time of consecutive steps, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._last
        self._last = now
