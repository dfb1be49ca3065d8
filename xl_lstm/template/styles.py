"""How a template looks, and how its cells are filled: ``put`` for data and labels (text stays
text, through ``core.sheet_cells``), ``formula_at`` for our own formulas; one colour per
quantity, fonts, titles, headers, number formats, column widths and printing one page wide."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

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
    "label_width",
    "number_format",
    "print_wide",
    "put",
    "sheet_title",
    "text_cell",
    "tint",
]

MAX_WIDTH = 255.0  # characters: the widest column Excel has

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


def fit_columns(ws: Any, header_row: int, minimum: float = 8.0) -> None:
    """Widen each column to show its header in full (bold text is about 1.2 characters a letter)."""
    for cell in ws[header_row]:
        if cell.data_type == "s" and cell.value:
            letter = get_column_letter(cell.column)
            width = max(minimum, 1.2 * len(cell.value) + 2, ws.column_dimensions[letter].width or 0)
            ws.column_dimensions[letter].width = min(width, MAX_WIDTH)


def label_width(labels: list[str]) -> float:
    """A column's width to show its labels in full, at most Excel's widest column."""
    return min(MAX_WIDTH, max(10.0, 1.1 * max(len(t) for t in labels) + 2))


def print_wide(ws: Any, landscape: bool = True) -> None:
    """Print (and render to PDF) one page wide, as many pages down as needed."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
