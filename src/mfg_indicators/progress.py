"""Stage reporting for long runs: each stage prints when it starts and ends, with rows and seconds.

Used by the CLI and the benchmark; inside Airflow the same lines go to the task log.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger("mfg_indicators")


@dataclass
class StageTiming:
    name: str
    seconds: float = 0.0
    rows: int | None = None
    detail: str = ""


@dataclass
class StageLog:
    """Collects stage timings; prints to stderr (the CLI) unless quiet."""

    quiet: bool = False
    stages: list[StageTiming] = field(default_factory=list)

    def _say(self, text: str) -> None:
        log.info(text)
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    @contextmanager
    def stage(self, name: str):
        timing = StageTiming(name)
        self._say(f"▶ {name} …")
        start = time.perf_counter()
        try:
            yield timing
        except BaseException:
            timing.seconds = time.perf_counter() - start
            self._say(f"✗ {name} failed after {timing.seconds:.1f} s")
            raise
        timing.seconds = time.perf_counter() - start
        self.stages.append(timing)
        rows = f", {timing.rows:,} rows" if timing.rows is not None else ""
        rate = (f", {timing.rows / timing.seconds:,.0f} rows/s"
                if timing.rows and timing.seconds > 0 else "")
        extra = f" — {timing.detail}" if timing.detail else ""
        self._say(f"✓ {name}: {timing.seconds:.1f} s{rows}{rate}{extra}")
