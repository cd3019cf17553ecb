"""The terminal stage log of a run: each stage prints when it starts and ends, with rows and seconds;
a long ingest adds one line (or a bar) per delivery.

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


class DeliveryProgress:
    """Progress of a long ingest, one step per delivery: a tqdm bar when stderr is a terminal,
    otherwise (Airflow task logs, CI, pipes) one plain line per delivery — never a bar's
    carriage-return spam. Use as ``ingest_inbox(..., progress=DeliveryProgress(log, total))``;
    call ``close()`` at the end."""

    def __init__(self, stage_log: StageLog, total: int | None = None, *, stream=None):
        self._log = stage_log
        self._stream = stream if stream is not None else sys.stderr
        self._bar = None
        self._done = 0
        self.total = total
        if not stage_log.quiet and hasattr(self._stream, "isatty") and self._stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="file", file=self._stream, dynamic_ncols=True,
                             leave=False, desc="deliveries")

    @property
    def is_bar(self) -> bool:
        return self._bar is not None

    def __call__(self, outcome) -> None:
        self._done += 1
        of = f"/{self.total}" if self.total else ""
        secs = sum(getattr(outcome, "seconds", {}).values())
        text = (f"  · [{self._done}{of}] {outcome.source}/{outcome.file}: {outcome.status}, "
                f"{outcome.rows:,} rows, {secs:.1f} s")
        if self._bar is not None:
            self._bar.set_postfix_str(f"{outcome.source}/{outcome.file} {outcome.rows:,} rows", refresh=False)
            self._bar.update(1)
            self._bar.refresh()  # deliveries are seconds apart: draw each one
            log.info(text)
        else:
            self._log._say(text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
