"""xlwings Lite's main.py for xl_lstm: the five worksheet functions and the training script."""

from xl_lstm.scripts import lstm_fit
from xl_lstm.udfs import lstm_forecast, lstm_init, lstm_metrics, lstm_sequence, lstm_step

__all__ = ["lstm_fit", "lstm_forecast", "lstm_init", "lstm_metrics", "lstm_sequence", "lstm_step"]
