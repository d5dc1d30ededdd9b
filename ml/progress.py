"""Progress lines people can read: a counter, a rate and an ETA, the same in every job and on the console.

A long job that only says "37 %" cannot be told from a hung one; one that says "37/120 photos, 0.4 photos/s,
ETA 3m25s" can. `RateMeter` measures the rate from the items done since it started (items a resumed job had
already done do not count as speed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["RateMeter", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """`45s`, `3m05s`, `1h02m`: durations as people read them in a progress line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


@dataclass
class RateMeter:
    """Counts items from `start_count` on; `line()` gives `done/total unit, rate unit/s, ETA`."""

    start_count: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self, done: int) -> float:
        elapsed = time.monotonic() - self.started
        return (done - self.start_count) / elapsed if elapsed > 0 and done > self.start_count else 0.0

    def line(self, done: int, total: int, unit: str) -> str:
        rate = self.rate(done)
        if rate <= 0:
            return f"{done}/{total} {unit}"
        shown = f"{rate:.1f}" if rate >= 1 else f"{rate:.2f}"
        return f"{done}/{total} {unit}, {shown} {unit}/s, ETA {format_seconds((total - done) / rate)}"
