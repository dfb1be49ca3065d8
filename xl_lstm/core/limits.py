"""The limits and fixed facts every layer shares, each written once.

A grid's size is Excel's; the horizon, the interval levels and the file suffixes are ours.
Budgets that belong to one reader (bytes of a zip part, cells of a table) stay beside that
reader; what two or more modules check lives here.
"""

from __future__ import annotations

SHEET_ROWS = 1_048_576  # rows of one worksheet (Excel's, and LibreOffice's since 7.4)
SHEET_COLUMNS = 16_384  # columns of one worksheet, A..XFD

MAX_HORIZON = 10_000  # steps ahead one forecast may compute: each is a step of Python (~10-100 µs)
DEFAULT_LEVELS = (0.8, 0.95)  # prediction interval levels when none are given: lo-80/hi-80, lo-95/hi-95
MAX_ROWS = 10_000_000  # rows of a table read at once, of the long frames made from it and of the forecasts written

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")  # workbooks we read (and refresh)
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")  # delimited text tables
READ_SUFFIXES = (*TEXT_SUFFIXES, ".parquet", *WORKBOOK_SUFFIXES)  # every table a reader takes
WRITE_SUFFIXES = (".csv", ".parquet", ".xlsx")  # every table a writer makes
