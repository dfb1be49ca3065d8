"""The template's charts: the gates, C and h over time, and the forecast against the actuals.

``style_chart``, ``axis_range`` and ``chart_anchor`` are shared with the forecaster's band chart.
Charts sit in slots of ``CHART_ROWS`` rows, ``CHARTS_PER_PAGE`` to a printed page with a page
break between pages, so no chart is cut by a page's edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference, ScatterChart, Series
from openpyxl.chart.data_source import StrRef
from openpyxl.chart.series import SeriesLabel
from openpyxl.worksheet.pagebreak import Break

from ..core.sheet_cells import display_text
from ..lstm.recursive import recursive_forecast
from .layout import Layout, quantity_col, ref
from .model import TemplateModel
from .styles import ACTUAL_COLOUR, FORECAST_COLOUR, GATE_COLOURS, print_setup, sheet_title

__all__ = ["CHART_ROWS", "StateRows", "add_gate_charts", "axis_range", "chart_anchor", "charts_sheet", "style_chart"]

CHART_HEIGHT, CHART_WIDTH = 6.8, 17.0  # cm: three to a portrait page, inside its width (A4 or Letter)
ROW_POINTS = 15.0  # the height of every row of a sheet of charts, so a slot's height is known
CHART_ROWS = 14  # rows per chart: 14 rows of 15 points are 7.4 cm, the chart and a gap
CHARTS_PER_PAGE = 3  # 3 title rows and 3 slots are 45 rows, 675 points: inside a page less 0.5 inch margins

DASHES = ("solid", "dash", "sysDot", "dashDot", "lgDash", "sysDash", "lgDashDot", "sysDashDot")


def _line_chart(title: str, y_title: str, y_range: tuple[float, float] | None = None) -> LineChart:
    """A line chart over a few labelled categories (the forecast's dates)."""
    chart = LineChart()
    style_chart(chart, title, y_title, y_range)
    chart.x_axis.tickLblSkip = chart.x_axis.tickMarkSkip = 1
    return chart


def _time_chart(title: str, y_title: str, y_range: tuple[float, float] | None, steps: int) -> ScatterChart:
    """Lines over t = 1..T on a numeric axis: spreadsheet programs space its labels themselves
    (a category axis over hundreds of steps printed them run together)."""
    chart = ScatterChart(scatterStyle="line")
    style_chart(chart, title, y_title, y_range)
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0, steps
    chart.x_axis.majorUnit = _nice_step(steps / 8)
    chart.x_axis.numFmt = "0"
    chart.x_axis.axPos = "b"
    return chart


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10.0 ** np.floor(np.log10(max(raw, 1.0)))
    return float(next(k * power for k in (1, 2, 5, 10) if k * power >= raw))


def style_chart(chart: Any, title: str, y_title: str, y_range: tuple[float, float] | None) -> None:
    """Titles, size, legend on the right, visible axes with labels under the plot, and the value axis's range."""
    chart.title, chart.y_axis.title, chart.x_axis.title = (
        display_text(title),
        display_text(y_title),
        "t",
    )  # data's names
    chart.width, chart.height = CHART_WIDTH, CHART_HEIGHT
    chart.legend.position = "r"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.y_axis.numFmt = "0.0"
    chart.x_axis.tickLblPos = "low"  # labels under the plot, not on the zero line
    if y_range is not None:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = y_range


def _value_range(m: TemplateModel) -> tuple[float, float]:
    """The forecast chart's value axis: the held-out actuals and the forecast, padded; not from 0."""
    T_h = m.history_steps
    fc = recursive_forecast(m.params, m.raw[:T_h], m.horizon, m.center, m.scale)[:, 0]
    return axis_range(np.concatenate([m.raw[T_h:, 0], fc]))


def axis_range(values: np.ndarray, pad: float = 0.1) -> tuple[float, float]:
    """A value axis showing ``values``, padded by ``pad`` of their spread, rounded outwards to a readable number."""
    lo, hi = float(values.min()), float(values.max())
    margin = pad * (hi - lo) or pad * abs(hi) or 1.0
    step = 10.0 ** np.floor(np.log10(margin))
    return float(np.floor((lo - margin) / step) * step), float(np.ceil((hi + margin) / step) * step)


def chart_anchor(ws: Any, index: int, first_row: int = 4) -> str:
    """The cell where chart ``index`` (0, 1, ...) of a column of charts from ``first_row`` goes:
    ``CHART_ROWS`` rows each, ``CHARTS_PER_PAGE`` to a printed page, a page break before each page's first."""
    row = first_row + CHART_ROWS * index
    if index and index % CHARTS_PER_PAGE == 0:
        ws.row_breaks.append(Break(id=row - 1))  # the break comes after row id
    for r in range(row, row + CHART_ROWS):
        ws.row_dimensions[r].height = ROW_POINTS
    return f"A{row}"


@dataclass(frozen=True)
class StateRows:
    """Where a sheet holds one row per step, rows r0..r1: the step in column A, i | f | g | C | o | h
    (H columns each) from ``first_col``, each column's header in ``header_row`` (the series' names)."""

    ws: Any
    first_col: int
    H: int
    header_row: int
    r0: int
    r1: int

    def col(self, q: str) -> int:
        return quantity_col(self.first_col, self.H, q)

    @property
    def steps(self) -> int:
        return self.r1 - self.r0 + 1


GATE_TITLES = {"i": "Input gate i", "f": "Forget gate f", "g": "Candidate g", "o": "Output gate o"}


def add_gate_charts(ws: Any, src: StateRows, first: int, title: str = "", legend: bool = True) -> int:
    """The four gates and the memory of ``src`` over its steps, as charts ``first``..``first`` + 4 of
    sheet ``ws`` (``chart_anchor``), their titles after ``title``; the index of the next chart.
    Without ``legend`` (many units: 32 names of C and h squeezed the plot to a sliver) the sheet
    says what the lines are."""
    charts = []
    for q, name in GATE_TITLES.items():
        charts.append(_time_chart(title + name, q, (-1.0, 1.0) if q == "g" else (0.0, 1.0), src.steps))
        _add_units(charts[-1], src, q)
    charts.append(_memory_chart(src, title))
    for k, chart in enumerate(charts):
        if not legend:
            chart.legend = None
        ws.add_chart(chart, chart_anchor(ws, first + k))
    return first + len(charts)


def charts_sheet(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    """The sheet Charts: each gate, C and h from States (formulas), and the forecast from Forecast."""
    ws = wb.create_sheet("Charts")
    sheet_title(
        ws, "Charts: the gates, the memory and the forecast over time", "Data: sheets States (formulas) and Forecast."
    )
    src = StateRows(wb["States (formulas)"], lay.gate_col, lay.H, 3, lay.state_row(1), lay.state_row(lay.T))
    after = add_gate_charts(ws, src, 0)

    fc = wb["Forecast"]
    s, f0, f1 = lay.fc_side_col, lay.fc_row0, lay.fc_row0 + lay.horizon - 1
    chart = _line_chart("Forecast against the actuals", m.about.unit, _value_range(m))
    chart.x_axis.title = m.about.period
    chart.y_axis.numFmt = "General"
    for col, colour in ((s + 1, ACTUAL_COLOUR), (lay.fc_value_col, FORECAST_COLOUR)):
        _add_line(chart, fc, col, f0 - 1, f0, f1, colour, "solid", 28575)
    chart.set_categories(Reference(fc, min_col=s, min_row=f0, max_row=f1))
    ws.add_chart(chart, chart_anchor(ws, after))
    print_setup(ws)


CHARTS_ON_SHEET = 7  # the four gates, C and h, the forecast, and the forecaster's (``forecaster_sheets``)


def _memory_chart(src: StateRows, title: str = "") -> ScatterChart:
    """C on the left axis and h, between -1 and 1, on its own axis on the right (C reaches 15 or
    more, which drew h as a flat line on a shared axis)."""
    chart = _time_chart(title + "Cell state C, hidden h (right)", "C", None, src.steps)
    _add_units(chart, src, "C")
    right = _time_chart("", "h", (-1.0, 1.0), src.steps)
    _add_units(right, src, "h")
    # h's own pair of axes, as spreadsheet programs write a secondary axis: a hidden time axis
    # and a value axis on the right
    right.x_axis.axId, right.y_axis.axId = 300, 200
    right.x_axis.crossAx, right.y_axis.crossAx = 200, 300
    right.x_axis.delete, right.x_axis.title = True, None
    right.y_axis.crosses, right.y_axis.axPos = "max", "r"
    right.y_axis.majorGridlines = None
    chart += right  # one plot area, two value axes
    return chart


def _add_units(chart: ScatterChart, src: StateRows, q: str) -> None:
    """One line per unit of quantity q over the steps (column A), in q's colour, told apart by dash style."""
    t = Reference(src.ws, min_col=1, min_row=src.r0, max_row=src.r1)
    for j in range(src.H):
        colour, dash = GATE_COLOURS[q], DASHES[j % len(DASHES)]
        _add_line(chart, src.ws, src.col(q) + j, src.header_row, src.r0, src.r1, colour, dash, x=t)


def _add_line(
    chart: Any,
    ws: Any,
    col: int,
    title_row: int,
    r0: int,
    r1: int,
    colour: str,
    dash: str,
    width: int = 19050,
    x: Reference | None = None,
) -> None:
    """A series of rows r0..r1 of column col (over x, for a scatter chart), named by the header cell at title_row."""
    series = Series(Reference(ws, min_col=col, min_row=r0, max_row=r1), x)
    series.tx = SeriesLabel(strRef=StrRef(ref(ws.title, title_row, col)))
    series.graphicalProperties.line.solidFill = colour
    series.graphicalProperties.line.dashStyle = dash
    series.graphicalProperties.line.width = width
    series.smooth = False
    series.marker.symbol = "none"
    chart.series.append(series)
