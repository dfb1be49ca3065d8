"""The Forecast Sheet: the selected table forecast onto a new sheet, as Excel's Data → Forecast Sheet does.

    cells (a header row, then the rows under it)  ->  cells_table, panel_from_frame   (the one table reader: long or wide)
    panel  ->  fit, forecast                      (the automatic forecaster, the CLI's horizon)
    panel less its last values  ->  fit, forecast  ->  sMAPE, MASE vs seasonal naive   (held-out accuracy)
    ->  SheetContent: blocks of cells and charts at fixed places  ->  write_sheet(book) on a new sheet

``forecast_sheet`` is pure (cells in, ``SheetContent`` out); ``write_sheet`` only puts that content on a
new sheet through the xlwings object model, with what xlwings Lite's remote engine queues as actions
as well as classic xlwings: ``book.sheets.add``, ``Range.value`` and ``sheet.charts.add`` (a line chart of
the history, the forecast and the 95% interval's two bounds; a shaded band would need the chart's
series, which xlwings Lite reads only with ``await chart.get_series()``). Nothing here imports xlwings:
the book, its sheets and ranges are duck-typed, so the two entry points in ``xl_lstm.scripts`` (the
Lite ``@script`` and the classic RunPython caller) share every line.

The new sheet (rows and columns 1-based):

    A1            the title: Forecast Sheet: Sheet1!A1:B49
    A4:G...       series | date | forecast | lo-80 | hi-80 | lo-95 | hi-95, one row per series and step ahead
    I4:N...       the held-out accuracy: series | held out | sMAPE and MASE of the forecaster and of seasonal naive
    below it      series | values | log | season (the forecaster's choices per series), then one line per note
    P3 onwards    the chart data, 6 columns per charted series: its name, then date | actual | forecast |
                  lower 95% | upper 95% (the last actual repeated in the forecast columns, so the lines meet)
    charts        one per charted series (the first MAX_CHARTS), stacked under the notes in column I

Excel reads a string set through its object model as if it were typed ("=1+1" a formula, "007" the
number 7), so every cell of words that holds data (ids, the date column's name, the notes, the title)
is written with Excel's text prefix, an apostrophe, which Excel does not show nor keep in the value
(``core.sheet_cells.typed_text``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.checks import check_whole
from ..core.errors import LSTMError
from ..core.limits import MAX_HORIZON
from ..core.sheet_cells import typed_text
from ..core.version import __version__
from ..forecasting.auto import AutoConfig
from ..forecasting.metrics import mase, seasonal_naive, smape
from ..forecasting.panels import Fitted, Forecasts, fit, forecast, panel_horizon, panel_series
from ..tables.panel import Panel, panel_from_frame
from ..tables.series_file import hold_out
from ..tables.sources import cells_table

__all__ = [
    "CHART_COLUMNS",
    "LEVELS",
    "MAX_CHARTS",
    "SHEET_NAME",
    "Accuracy",
    "Block",
    "ChartSpec",
    "SheetContent",
    "SheetSettings",
    "forecast_sheet",
    "new_sheet_name",
    "run",
    "selected_cells",
    "selection_source",
    "write_sheet",
]

SHEET_NAME = "Forecast Sheet"  # the new sheet's name; "Forecast Sheet 2", ... when taken
LEVELS = (0.8, 0.95)  # the intervals written: lo-80, hi-80, lo-95, hi-95
MAX_CHARTS = 10  # series charted; the others have their rows in the forecast table only
CHART_COLUMNS = ("date", "actual", "forecast", "lower 95%", "upper 95%")
FORECAST_AT, ACCURACY_AT, CHART_DATA_AT = (4, 1), (4, 9), (3, 16)  # (row, column) of each block: A4, I4, P3
CHART_SIZE = (480.0, 240.0)  # points: width, height
CHART_ROWS = 18  # sheet rows from one chart's anchor to the next


@dataclass(frozen=True)
class SheetSettings:
    """What the user may choose: the steps to forecast, and the forecaster's settings."""

    horizon: int | None = None  # None: the data's frequency's (12 months, 8 quarters, ...; 12 without dates)
    config: AutoConfig = AutoConfig()  # e.g. AutoConfig(updates=50): fewer training updates, faster

    @classmethod
    def of(cls, horizon: int = 0, updates: int = 0, pretrained: bool = False) -> SheetSettings:
        """From a script's arguments, where 0 means the default (the frequency's horizon, AutoConfig's
        updates); ``pretrained``: the shipped members, nothing trained (``updates`` then unused)."""
        h = check_whole("horizon", horizon, 0, MAX_HORIZON, hint=" (0: from the dates' frequency)")
        u = check_whole("updates", updates, 0, hint=" (0: the forecaster's default)")
        if not isinstance(pretrained, (bool, np.bool_)):
            raise LSTMError(f"pretrained must be True or False, got {pretrained!r}")
        config = AutoConfig().changed(updates=u) if u else AutoConfig()
        return cls(h or None, config.changed(start="pretrained") if pretrained else config)


@dataclass(frozen=True)
class Block:
    """Cells to write: the top-left cell (1-based row, column) and the rows of values."""

    row: int
    column: int
    values: list[list[Any]]


@dataclass(frozen=True)
class ChartSpec:
    """A line chart: its value columns (a header row and the rows under it), its dates, where it goes."""

    title: str
    values: tuple[int, int, int, int]  # (row, column, rows, columns) of the value columns, header included
    dates: tuple[int, int, int]  # (row, column, rows) of the dates, no header
    anchor: tuple[int, int]  # the cell its top-left corner sits on


@dataclass(frozen=True)
class Accuracy:
    """One series' held-out accuracy: the forecaster's and seasonal naive's sMAPE (%) and MASE."""

    held_out: int
    smape: float
    mase: float
    naive_smape: float
    naive_mase: float


@dataclass(frozen=True)
class SheetContent:
    """Everything the new sheet gets, and the numbers behind it."""

    blocks: dict[str, Block]  # "title", "forecasts", "accuracy", "choices", "notes", "chart <id>"
    charts: list[ChartSpec]
    forecasts: Forecasts  # the forecast table (unique_id, ds, forecast, lo-80, hi-80, lo-95, hi-95)
    accuracy: dict[str, Accuracy]  # series id -> its held-out accuracy (series the held-out fit took)
    notes: list[str]  # what was read, chosen and left out, one line each


# ---- the numbers ------------------------------------------------------------------------------------
def forecast_sheet(
    source: str, rows: list[list[Any]], *, top: int = 1, left: int = 1, settings: SheetSettings | None = None
) -> SheetContent:
    """The Forecast Sheet of the cells ``rows`` (a header row, then the rows under it: dates in the first
    column and one or more value columns, or a long table ``unique_id, ds, y``), whose first cell is at
    sheet row ``top``, column ``left``; ``source`` (e.g. "Sheet1!A1:B49") starts every message."""
    settings = settings or SheetSettings()
    _check_header(source, rows, top)
    panel = panel_from_frame(cells_table(source, rows, top=top, left=left, what="the selection"))
    series = panel_series(panel)
    horizon = panel_horizon(panel, settings.horizon)
    season, held = hold_out(panel.frequency, min(y.size for y in series.values()))
    # a history too short for its frequency's season (months: 2 seasons and 8 more) is fitted without one
    override = 1 if season == 1 and panel.frequency.season > 1 else None
    fitted = fit(panel, horizon, settings.config, season=override)
    result = forecast(fitted, levels=LEVELS)
    accuracy, accuracy_notes = held_out_accuracy(panel, series, held, season, settings.config, override)
    notes = [
        f"read {panel.source}",
        f"forecast {horizon} steps ahead with intervals at 80% and 95%; {_settings_words(settings.config)}",
        *result.notes,
        *accuracy_notes,
        *(f"left out: {why}" for why in result.refused.values()),
    ]
    charted = [uid for uid in result][:MAX_CHARTS]
    if len(result) > MAX_CHARTS:
        notes.append(f"charts of the first {MAX_CHARTS} series; the forecast table holds all {len(result)}")
    notes.append(f"made by xl_lstm {__version__}")
    return _layout(source, panel, series, fitted, result, accuracy, notes, charted)


def _check_header(source: str, rows: list[list[Any]], top: int) -> None:
    """Refuse a selection whose first row holds numbers or dates and no text: its header was left out,
    and the reader would take the first values for names (and lose them)."""
    first = [v for v in (rows[0] if rows else []) if v is not None and v != ""]
    if first and not any(isinstance(v, str) for v in first):
        raise LSTMError(
            f"{source}: row {top}, the first selected, holds no column names, only numbers or dates; "
            "select the header row (e.g. month | sales) with the table"
        )


def held_out_accuracy(
    panel: Panel,
    series: dict[str, np.ndarray],
    held: int,
    season: int,
    config: AutoConfig,
    override: int | None,
) -> tuple[dict[str, Accuracy], list[str]]:
    """Each series less its last ``held`` values: the forecaster fitted and forecast on that (the same
    settings as the forecast), and seasonal naive at ``season``, both scored on the values held out.
    (series id -> Accuracy, notes): a series the held-out fit refuses is said, not scored."""
    head = panel.long.groupby("unique_id", sort=False).cumcount(ascending=False) >= held
    cut = dataclasses.replace(panel, long=panel.long[head.to_numpy()].reset_index(drop=True))
    said = f"held out the last {held} values of each series; seasonal naive and MASE at season {season}"
    try:
        result = forecast(fit(cut, held, config, season=override), levels=())
    except LSTMError as exc:
        return {}, [f"accuracy not measured: {exc}"]
    out = {}
    for uid in result:
        y = series[uid]
        train, actual, predicted = y[:-held], y[-held:], result[uid].mean
        naive = seasonal_naive(train, season, held)
        out[uid] = Accuracy(
            held,
            smape(actual, predicted),
            mase(actual, predicted, season, train),
            smape(actual, naive),
            mase(actual, naive, season, train),
        )
    refused = [f"accuracy of {uid!r} not measured: {why}" for uid, why in result.refused.items()]
    return out, [said, *refused]


def _settings_words(config: AutoConfig) -> str:
    return (
        f"{config.members} LSTMs of {config.hidden} units, {config.updates} training updates each, seed {config.seed}"
    )


# ---- the cells ----------------------------------------------------------------------------------------
def _cell(v: Any) -> Any:
    """A value as a sheet cell: a date as a datetime, a step number as an int, a number as a float."""
    if isinstance(v, pd.Timestamp | np.datetime64):
        return pd.Timestamp(v).to_pydatetime()
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _layout(
    source: str,
    panel: Panel,
    series: dict[str, np.ndarray],
    fitted: Fitted,
    result: Forecasts,
    accuracy: dict[str, Accuracy],
    notes: list[str],
    charted: list[str],
) -> SheetContent:
    table = result.table
    columns = ["unique_id", "ds", "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    date_name = _text(panel.names.get("ds", "date") or "date", "the date column's name")
    header = ["series", date_name, "forecast", "lo-80", "hi-80", "lo-95", "hi-95"]
    body = [[_id(uid), *(_cell(v) for v in rest)] for uid, *rest in table[columns].itertuples(index=False)]
    blocks = {
        "title": Block(1, 1, [[_text(f"{SHEET_NAME}: {source}", "the title")]]),
        "forecasts": Block(*FORECAST_AT, [header, *body]),
    }
    r, c = ACCURACY_AT
    acc_rows = [[_id(uid), a.held_out, a.smape, a.mase, a.naive_smape, a.naive_mase] for uid, a in accuracy.items()]
    blocks["accuracy"] = Block(
        r,
        c,
        [
            ["series", "held out", "sMAPE %", "MASE", "seasonal naive sMAPE %", "seasonal naive MASE"],
            *acc_rows,
        ],
    )
    r += len(acc_rows) + 2
    preps = fitted.model.preps
    choice_rows = [[_id(uid), int(series[uid].size), "yes" if p.log else "no", p.season] for uid, p in preps.items()]
    blocks["choices"] = Block(r, c, [["series", "values", "log", "season"], *choice_rows])
    r += len(choice_rows) + 2
    blocks["notes"] = Block(r, c, [[_text(line, "a note")] for line in notes])
    r += len(notes) + 1
    charts = []
    dates = _dates_by_series(panel)
    for k, uid in enumerate(charted):
        top, left = CHART_DATA_AT[0], CHART_DATA_AT[1] + 6 * k
        rows = _chart_rows(dates[uid], series[uid], result, uid)
        blocks[f"chart {uid}"] = Block(top, left, [[_id(uid), None, None, None, None], list(CHART_COLUMNS), *rows])
        n = len(rows)
        charts.append(ChartSpec(uid, (top + 1, left + 1, n + 1, 4), (top + 2, left, n), (r + CHART_ROWS * k, c)))
    return SheetContent(blocks, charts, result, accuracy, notes)


def _text(text: str, what: str) -> str:
    """Text for a cell that holds words: from the data (ids, names) or ours with data in them (notes, the
    title), always with Excel's text prefix, so that nothing becomes a formula, an error, a number or a date."""
    return typed_text(str(text), f"{SHEET_NAME}: {what}")


def _id(uid: Any) -> str:
    return _text(uid, f"series {uid!r:.40}")


def _dates_by_series(panel: Panel) -> dict[str, list[Any]]:
    return {str(k): [_cell(d) for d in g["ds"].to_numpy()] for k, g in panel.long.groupby("unique_id", sort=False)}


def _chart_rows(dates: list[Any], y: np.ndarray, result: Forecasts, uid: str) -> list[list[Any]]:
    """date | actual | forecast | lower 95% | upper 95%: the history, then the steps ahead (None: an empty
    cell, a gap in the line); the last actual is repeated in the three forecast columns so that the lines join."""
    r = result[uid]
    future = [_cell(d) for d in result.table.loc[result.table["unique_id"] == uid, "ds"].to_numpy()]
    rows: list[list[Any]] = [[d, float(v), None, None, None] for d, v in zip(dates, y, strict=True)]
    last = float(y[-1])
    rows[-1][2:] = [last, last, last]
    for k, d in enumerate(future):
        rows.append([d, None, float(r.mean[k]), float(r.lower[0.95][k]), float(r.upper[0.95][k])])
    return rows


# ---- the workbook ------------------------------------------------------------------------------------------
def selection_source(selection: Any) -> str:
    """Where the selection is, as messages name it: Sheet1!A1:B49."""
    if selection is None:
        raise LSTMError("nothing is selected: select the table (a header row and the rows under it), then run it")
    return f"{selection.sheet.name}!{str(selection.address).replace('$', '')}"


def new_sheet_name(taken: list[str]) -> str:
    """SHEET_NAME, or SHEET_NAME 2, 3, ... when a sheet has that name (Excel compares names ignoring case)."""
    used = {t.casefold() for t in taken}
    return next(
        n for k in range(1, len(used) + 2) if (n := SHEET_NAME + (f" {k}" if k > 1 else "")).casefold() not in used
    )


def write_sheet(book: Any, content: SheetContent) -> str:
    """Add a sheet after the last one, write ``content`` on it and add its charts; its name."""
    sheets = book.sheets
    name = new_sheet_name([s.name for s in sheets])
    sheet = sheets.add(name=name, after=sheets[len(sheets) - 1])
    for block in content.blocks.values():
        sheet.range((block.row, block.column)).value = block.values
    for spec in content.charts:
        r, c, n, m = spec.values
        chart = sheet.charts.add(
            source=sheet.range((r, c), (r + n - 1, c + m - 1)),
            chart_type="line",
            plot_by="columns",
            anchor=sheet.range(spec.anchor),
            width=CHART_SIZE[0],
            height=CHART_SIZE[1],
        )
        dr, dc, dn = spec.dates
        chart.set_x_axis_values(sheet.range((dr, dc), (dr + dn - 1, dc)))
        chart.title = spec.title
    return name


def selected_cells(selection: Any) -> list[list[Any]]:
    """The selection's cells as rows (a 2-D list, blanks as None), whatever its shape."""
    return [list(r) for r in selection.options(ndim=2).value]


def run(book: Any, selection: Any, settings: SheetSettings | None = None) -> str:
    """The Forecast Sheet of ``selection`` (an xlwings Range) on a new sheet of ``book``; the sheet's name."""
    source = selection_source(selection)
    content = forecast_sheet(
        source, selected_cells(selection), top=selection.row, left=selection.column, settings=settings
    )
    return write_sheet(book, content)
