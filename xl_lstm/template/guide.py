"""The sheet Guide: what the workbook shows, the experiments to try, the model in the file,
how to turn on the functions, and every defined name; lines broken here, one per row."""

from __future__ import annotations

import textwrap

from openpyxl import Workbook

from .layout import Layout
from .model import TemplateModel
from .styles import BOLD, print_setup, sheet_title, text_cell

__all__ = ["guide_sheet"]

GUIDE = """\
# What this workbook shows
An LSTM reads a series one step at a time and keeps two running vectors: a cell state C (its long-term memory) and a hidden state h (what it shows the next step and the output head). Each row of the States sheets is one time step; each column is one unit of one quantity.
# z = W · [h(t-1), x(t)] + b
Every gate starts from the same mix: the previous hidden state and this step's input, weighted by one block of rows of W (sheet Weights) plus a bias.
# i, the input gate = σ(z_i), between 0 and 1
How much of this step's new information is let into the memory. Near 0 the step is ignored; near 1 it is written in.
# f, the forget gate = σ(z_f), between 0 and 1
How much of the old memory is kept. Near 1 the cell carries its value forward unchanged; near 0 it is wiped.
# g, the candidate = tanh(z_g), between -1 and 1
The new information itself: what would be written into the memory if the input gate let it all in.
# C, the cell state = f × C(t-1) + i × g
Keep part of the old memory, add part of the new. Because this is a sum and not a product of squashed values, information (and, in training, the gradient) can travel across many steps.
# o, the output gate = σ(z_o), between 0 and 1
How much of the memory is shown outside the cell at this step.
# h, the hidden state = o × tanh(C)
The squashed memory, filtered by the output gate: it feeds the next step and the forecast head y = W_y · h + b_y.
# Experiments to try (sheet Weights, then watch States (formulas) and Charts)
Push the forget-gate biases (rows f1, f2, ... in column b) up to 5: f goes to 1 and C holds its value across the whole series. Push them to -5: C forgets at once and follows g.
Set the input-gate biases to -5: i goes to 0 and nothing new is written; C decays towards 0 at the pace of f.
Set the output-gate biases to -5: o goes to 0 and h goes flat even while C keeps changing.
Scale the x column of W up or down and watch the gates saturate at 0 or 1.
# The sheets
Weights: W split into the gate blocks i, f, g, o (rows) and the h and x columns, the bias b, the output head W_y, b_y, and the scaler that turns the series into the inputs x.
Inputs: {series} ({source}), one {period} per row, and the scaled inputs x = (value - center) / scale.
States: one row per step computed by =LSTM_STEP(x, h above, C above, lstm_W, lstm_b), an xlwings function. Row t = 0 holds the starting state (zeros).
States (formulas): the same numbers from native formulas only (SUMPRODUCT, EXP, TANH), so the workbook works and teaches without Python.
Forecast: the model warms up on the history, then each forecast is fed back as the next input. Native formulas and =LSTM_FORECAST side by side, the actuals of the held-out months, and the error metrics (native and =LSTM_METRICS).
Charts: the four gates, C and h, and the forecast against the actuals. One colour per quantity throughout: i blue, f orange, g green, C purple, o red, h brown.
{forecaster}# The model in this file
W, b, W_y and b_y were trained on the history (the months before the held-out ones) by xl_lstm's NumPy training (backpropagation through time and Adam, seed 0, 800 passes over up to 132 steps and fewer over a longer history, the settings of xl-lstm fit) and are stored with xl_lstm, so this file holds the same numbers on every computer, never random ones. Training is repeatable for a seed on one computer; on another processor or maths library the same settings give weights that differ in the later digits and forecast about as well, so compare retrained models by their errors, not digit by digit. To retrain after changing the series, run xl-lstm fit BOOK.xlsx, or the lstm_fit script in xlwings Lite (a button in the task pane), or in classic xlwings a macro button with RunPython "import xl_lstm.scripts as s; s.lstm_fit_caller()".
# Turning on the functions (States, and the LSTM_ columns of Forecast)
Without Python those cells show #NAME?; everything else works. xl_lstm is not on PyPI: it installs from its wheel file (xl_lstm-VERSION-py3-none-any.whl), its folder or a git URL, as README's Installing xl_lstm says. Windows Excel with classic xlwings: python -m pip install the wheel file, then xlwings addin install; the sheet xlwings.conf already names the module (UDF Modules = xl_lstm.udfs); click Import Functions in the xlwings tab.
xlwings Lite (Windows, macOS, Excel on the web): in the Lite editor's requirements.txt add the web address of the wheel (a server that allows CORS), then in main.py import the functions: from xl_lstm.udfs import lstm_forecast, lstm_init, lstm_metrics, lstm_sequence, lstm_step (and from xl_lstm.scripts import lstm_fit, lstm_forecast_sheet for the buttons: training, and the Forecast Sheet).
# A Forecast Sheet of your own data
Select a table (a header row, then dates and one or more value columns, or unique_id, ds, y) and run the script lstm_forecast_sheet (xlwings Lite), or in classic xlwings a macro button with RunPython "import xl_lstm.scripts as s; s.lstm_forecast_sheet_caller()": a new sheet gets the forecaster's forecasts with 80% and 95% intervals, its accuracy on the last values held out next to seasonal naive's, what it chose, and a chart per series.
# Defined names (Formulas > Name Manager)
{names}"""


FORECASTER_GUIDE = """\
# The forecaster: the forecast to use (sheets Forecaster model, Transforms, LSTM 1.., Forecaster)
The LSTM above is a toy for watching: four units, trained on one series, and its forecast is much worse than the forecaster's (compare their errors on sheets Forecast and Forecaster), so do not use it to forecast. The forecaster is what xl_lstm forecasts with: from the history alone it chose logs (when every value is positive), seasonal indices (when the series is seasonal), how much to damp the predicted changes (φ), and how much of Theta's line to mix in (the weight w), both by validation on the history's last months. Transforms turns the series into u, the scaled changes of the deseasonalised (log) series, and ℓ, its smoothed level. Each LSTM k sheet runs one of the LSTMs over u, its i, f, g, C, o and h per step in cells of their own as on sheet States (formulas), and then feeds its own forecast back; sheet LSTM charts draws each LSTM's gates and memory. Forecaster turns each LSTM's forecast back into values, mixed with Theta's line θ (the smoothed level, going on at half the slope of the history's trend: the classic Theta method), takes their median, adds the 80% and 95% intervals (from errors on data the LSTMs had not seen), and compares the forecast and seasonal naive with the held-out actuals. Every cell is a native formula; under them a second table computes the same with the worksheet function LSTM_FORECAST (Python). Right of each LSTM k sheet's rows, one =LSTM_SEQUENCE array formula computes the history's gates again (Python).
# Experiments on the forecaster's LSTMs (sheet Forecaster model, then watch LSTM 1, LSTM charts and Forecaster)
Set LSTM 1's forget-gate biases (rows LSTM 1 f1 to f{H}, column b) to -10: f goes to 0 on sheet LSTM 1, C forgets at every step and is close to i × g, and LSTM 1's û and ŷ on sheet Forecaster move (the forecast, their median, moves when LSTM 1's is the middle one).
Set LSTM 1's output-gate biases (rows LSTM 1 o1 to o{H}) to -10: o goes to 0 and h goes flat while C keeps changing, so y is close to the head's bias b_y and LSTM 1 predicts about the same change at every step.
"""
GUIDE_LINE = 84  # characters per row of the Guide: lines are broken here, never by the spreadsheet's wrap


def guide_sheet(wb: Workbook, lay: Layout, m: TemplateModel) -> None:
    """One paragraph of the guide over as many rows as it needs, each row one line of text.

    Wrapped cells are laid out by each program with its own fonts (and LibreOffice cut them
    off at the page's edge in PDF), so the lines are broken here and the column is wide enough
    for any of them; the sheet prints one page wide.
    """
    ws = wb.active
    ws.title = "Guide"
    ws.column_dimensions["A"].width = GUIDE_LINE + 12
    sheet_title(ws, "xl_lstm: an LSTM you can watch, gate by gate")
    names = "\n".join(f"{n}: {ref}" for n, ref in lay.names.items())
    text = GUIDE.format(
        forecaster=FORECASTER_GUIDE.format(H=m.forecaster.members[0].hidden_size) if m.forecaster is not None else "",
        names=names,
        series=m.about.title.removeprefix("Inputs: "),
        source=m.about.note.removesuffix("."),
        period=m.about.period,
    )
    row = 3
    for paragraph in text.splitlines():
        heading = paragraph.startswith("# ")
        if heading and row > 3:
            row += 1  # a blank row before each heading
        for line in textwrap.wrap(paragraph[2:] if heading else paragraph, GUIDE_LINE, break_on_hyphens=False) or [""]:
            text_cell(ws, row, 1, line)  # text, even when a wrapped line starts with "="
            cell = ws.cell(row=row, column=1)
            if heading:
                cell.font = BOLD
            row += 1
    print_setup(ws)
