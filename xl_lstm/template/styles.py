"""How a template looks, and how its cells are filled: ``put`` for data and labels (text stays
text, through ``core.sheet_cells``), ``formula_at`` for our own formulas; one colour per
quantity, fonts, titles, headers, number formats, column widths (one rule, ``fit_columns``) and how every sheet prints
(one rule, ``print_setup``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from ..core.sheet_cells import put_formula, put_value

__all__ = [
    "ACTUAL_COLOUR",
    "BOLD",
    "FORECAST_COLOUR",
    "GATE_COLOURS",
    "TINTS",
    "fill",
    "fit_columns",
    "formula_at",
    "header",
    "number_format",
    "print_setup",
    "put",
    "sheet_title",
    "text_cell",
    "text_width",
    "tint",
]

MAX_WIDTH = 255.0  # characters: the widest column Excel has
NUMBER_WIDTH = 9.0  # characters: a number as the sheets show it, "-12.3456", with a margin
DEFAULT_WIDTH = 8.43  # characters: a column without a width of its own
# printable width of a page, 0.5 inch margins, in pixels at 96 per inch: the narrower of A4 and Letter
PAGE_PIXELS = {"portrait": 698.0, "landscape": 960.0}
MIN_SCALE = 70  # % : the smallest print scale, Calibri 11 at about 7.7 points

GATE_COLOURS = {  # one colour per quantity, used for headers, heat maps and chart lines
    "i": "1F77B4",  # input gate: blue
    "f": "FF7F0E",  # forget gate: orange
    "g": "2CA02C",  # candidate: green
    "C": "9467BD",  # cell state: purple
    "o": "D62728",  # output gate: red
    "h": "8C564B",  # hidden state: brown
}
ACTUAL_COLOUR, FORECAST_COLOUR = "000080", "17BECF"  # navy, teal
BOLD, TITLE = Font(bold=True), Font(bold=True, size=14)


def tint(hex_colour: str, amount: float) -> str:
    """Mix a colour with white: amount 0 is the colour, 1 is white."""
    rgb = [int(hex_colour[k : k + 2], 16) for k in (0, 2, 4)]
    return "".join(f"{round(c + (255 - c) * amount):02X}" for c in rgb)


TINTS = {k: tint(v, 0.55) for k, v in GATE_COLOURS.items()}  # light versions for headers and labels


def fill(hex_colour: str) -> PatternFill:
    return PatternFill("solid", start_color=hex_colour, end_color=hex_colour)


def put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Data or a label into a cell, which it returns: text stays text (a series name "=cmd|..." or a
    date label is never a formula), numbers numbers; text too long for a cell is refused naming it."""
    return put_value(
        ws.cell(row=row, column=col), value, lambda: f"sheet {ws.title!r}, cell {get_column_letter(col)}{row}"
    )


def formula_at(ws: Any, row: int, col: int, formula: Any) -> Any:
    """One of our own formulas (text starting with "=", or an ``ArrayFormula``) into a cell, which it returns."""
    return put_formula(ws.cell(row=row, column=col), formula)


def sheet_title(ws: Any, text: str, note: str = "") -> None:
    """The sheet's title in A1 and a note under it in A2 (text: they may hold the data's names)."""
    put(ws, 1, 1, text).font = TITLE
    if note:
        put(ws, 2, 1, note).font = Font(italic=True, color="595959")


def text_cell(ws: Any, row: int, col: int, text: str) -> None:
    """A text cell that stays text: a label such as "=cmd|..." from the user's data is never a formula."""
    put(ws, row, col, text)


def header(ws: Any, row: int, col: int, text: str, colour: str | None = None) -> None:
    """A bold centred header; text always, as a value column's name from the data may start with "="."""
    cell = put(ws, row, col, text)
    cell.font = BOLD
    cell.alignment = Alignment(horizontal="center")
    if colour:
        cell.fill = fill(colour)


def number_format(ws: Any, r0: int, c0: int, r1: int, c1: int, fmt: str) -> None:
    for row in ws.iter_rows(min_row=r0, max_row=r1, min_col=c0, max_col=c1):
        for cell in row:
            cell.number_format = fmt


def text_width(text: str) -> float:
    """A column's width (in characters) that shows ``text`` in full, bold or not (about 1.2
    characters a letter, plus a margin), at most Excel's widest column: the one rule for every column."""
    return min(MAX_WIDTH, 1.2 * len(text) + 2)


def fit_columns(ws: Any, rows: Iterable[int] = (), labels: Iterable[int] = ()) -> None:
    """Every used column at least a number's width (``NUMBER_WIDTH``), and wide enough for the text
    of its cells in the header ``rows`` and of every cell below the title (rows 1-2, which may run
    over) in the label columns ``labels``; a header merged over several columns is left to them."""
    merged = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges if r.max_col > r.min_col}
    texts: dict[int, list[str]] = {c: [] for c in range(1, ws.max_column + 1)}
    for row in rows:
        for cell in ws[row]:
            if isinstance(cell.value, str) and (cell.row, cell.column) not in merged:
                texts[cell.column].append(cell.value)
    for col in labels:
        for (cell,) in ws.iter_rows(min_row=3, min_col=col, max_col=col):
            if isinstance(cell.value, str):
                texts[col].append(cell.value)
    for col, found in texts.items():
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max([NUMBER_WIDTH, _width(ws, letter), *map(text_width, found)])


def _width(ws: Any, letter: str) -> float:
    """A column's width as set, or the default (asking openpyxl for a missing one would add one of 13)."""
    return float(ws.column_dimensions[letter].width) if letter in ws.column_dimensions else DEFAULT_WIDTH


def _sheet_pixels(ws: Any) -> float:
    """The printed width of the used columns at 100 %, in pixels at 96 per inch (Calibri 11:
    a width of w characters is about 7w + 5 pixels)."""
    return sum(7 * _width(ws, get_column_letter(c)) + 5 for c in range(1, ws.max_column + 1))


def print_setup(ws: Any, header_rows: tuple[int, int] | None = None, label_columns: int = 0) -> None:
    """How every sheet prints (and renders to PDF), one rule: portrait when the used columns fit a
    portrait page at 100 %, else landscape; one page wide when that keeps the scale at least
    ``MIN_SCALE`` %, else at ``MIN_SCALE`` % over as many pages across as needed. A table's header
    rows and its first ``label_columns`` columns are repeated on every page; a sheet of long tables
    (header rows repeated) prints its gridlines, one with charts or notes between its tables does not."""
    width = _sheet_pixels(ws)
    orientation = "portrait" if width <= PAGE_PIXELS["portrait"] else "landscape"
    ws.page_setup.orientation = orientation
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.5, bottom=0.5, header=0.3, footer=0.3)
    if width * MIN_SCALE / 100 <= PAGE_PIXELS[orientation]:
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        ws.page_setup.scale = MIN_SCALE
    if header_rows is not None:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    if label_columns:
        ws.print_title_cols = f"A:{get_column_letter(label_columns)}"
    ws.print_options.gridLines = header_rows is not None
