"""Timing helpers shared by the benchmark scripts (run as `python benchmarks/<script>.py`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(
    fn: Callable[[], object], repeats: int, *, before: Callable[[], None] | None = None, warm_up: bool = False
) -> float:
    """Median seconds of fn() over `repeats` calls; `before` (not timed) runs ahead of each call."""
    if warm_up:
        fn()  # caches, lazy imports, the allocator
    times = []
    for _ in range(repeats):
        if before:
            before()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
