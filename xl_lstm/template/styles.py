"""How a template looks: one colour per quantity, fonts, titles, headers, text cells, number
formats, column widths and printing one page wide."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

__all__ = [
    "ACTUAL_COLOUR",
    "BOLD",
    "FORECAST_COLOUR",
    "GATE_COLOURS",
    "TINTS",
    "fill",
    "fit_columns",
    "header",
    "number_format",
    "print_wide",
    "sheet_title",
    "text_cell",
    "tint",
]

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


def sheet_title(ws: Any, text: str, note: str = "") -> None:
    """The sheet's title in A1 and a note under it in A2."""
    ws["A1"] = text
    ws["A1"].font = TITLE
    if note:
        ws["A2"] = note
        ws["A2"].font = Font(italic=True, color="595959")


def text_cell(ws: Any, row: int, col: int, text: str) -> None:
    """A text cell that stays text: a label such as "=cmd|..." from the user's data is never a formula."""
    cell = ws.cell(row=row, column=col)
    cell.value = text
    cell.data_type = "s"


def header(ws: Any, row: int, col: int, text: str, colour: str | None = None) -> None:
    cell = ws.cell(row=row, column=col, value=text)
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
        if isinstance(cell.value, str) and not cell.value.startswith("="):
            letter = get_column_letter(cell.column)
            width = max(minimum, 1.2 * len(cell.value) + 2, ws.column_dimensions[letter].width or 0)
            ws.column_dimensions[letter].width = width


def print_wide(ws: Any, landscape: bool = True) -> None:
    """Print (and render to PDF) one page wide, as many pages down as needed."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
