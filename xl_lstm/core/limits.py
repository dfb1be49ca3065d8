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

# Budgets of a table read at once, set so that reading any table (or refusing one over them)
# stays under 1 GB of memory: peak resident size, pandas' import included, measured by
# benchmarks/bench_budgets.py. A cell read from text costs ~60 bytes as a Python string (a cell
# seen before, such as an id or a date, is kept once) and a value ~150 more while the long frame
# is built. Measured at these limits: a long CSV of 833,000 rows (three columns) 334 MiB; a wide
# CSV of 2,500,000 cells (read, then refused by its values) 853 MiB, where 3,000,000 took 1,003;
# 128 MiB of CSV text with an emoji in every id 692 MiB. The limits were 10,000,000 rows and
# 30,000,000 cells: a long CSV of 3,000,000 rows took 1.7 GB, and a line of 150 M commas past a
# 3-column header over 2 GB.
MAX_ROWS = 1_000_000  # rows of a table read at once (about a worksheet's), of its long frame, of the forecasts written
MAX_CELLS = 2_500_000  # rows x columns under the header, counted on a CSV's text line by line before it is split

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")  # workbooks we read (and refresh)
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")  # delimited text tables
READ_SUFFIXES = (*TEXT_SUFFIXES, ".parquet", *WORKBOOK_SUFFIXES)  # every table a reader takes
WRITE_SUFFIXES = (".csv", ".parquet", ".xlsx")  # every table a writer makes
