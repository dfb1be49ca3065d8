"""xl_lstm inside Pyodide, as xlwings Lite runs it (tests/excel/test_pyodide.py, benchmarks/bench_pyodide.py)."""
