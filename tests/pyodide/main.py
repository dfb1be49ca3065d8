"""xlwings Lite's main.py for xl_lstm: the five worksheet functions and the two scripts."""

from xl_lstm.scripts import lstm_fit, lstm_forecast_sheet
from xl_lstm.udfs import lstm_forecast, lstm_init, lstm_metrics, lstm_sequence, lstm_step

__all__ = [
    "lstm_fit",
    "lstm_forecast",
    "lstm_forecast_sheet",
    "lstm_init",
    "lstm_metrics",
    "lstm_sequence",
    "lstm_step",
]
