"""Polite fetching of tiles from a tile service: bounded concurrency, a rate limit, retries with backoff,
an on-disk cache, and every request through ``apps.core.remote`` (host rules, size and time limits,
the platform's User-Agent).

The cache is what makes an interrupted ingest cheap to resume and a re-ingest (other tiling, another
zoom) free for the server: a tile fetched once is read from disk afterwards, and a tile the service does
not have (404, 410, 204 or an empty body) is remembered as missing.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from apps.core.remote import FetchNotFound, FetchPolicy, fetch_bytes, fetch_with_retries
from apps.imagery.tile_templates import TileTemplate

__all__ = ["FetchStats", "TileFetcher"]

TileKey = tuple[int, int, int]


class _RateLimiter:
    """At most ``rate`` request starts per second across threads (evenly spaced); 0 or less: no limit."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


@dataclass
class FetchStats:
    requests: int = 0
    cache_hits: int = 0
    missing: int = 0
    bytes: int = 0


class TileFetcher:
    """Fetches tiles of one template; ``None`` stands for a tile the service does not have."""

    def __init__(self, template: TileTemplate, *, policy: FetchPolicy, cache_dir: Path, concurrency: int = 4,
                 rate_per_s: float = 10.0, attempts: int = 3, backoff_s: float = 1.0):
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}.")
        self.template, self.policy = template, policy
        self.cache_dir = Path(cache_dir) / hashlib.sha256(template.template.encode()).hexdigest()[:16]
        self.concurrency, self.attempts, self.backoff_s = concurrency, attempts, backoff_s
        self.stats = FetchStats()
        self._limiter = _RateLimiter(rate_per_s)
        self._stats_lock = threading.Lock()

    def _paths(self, key: TileKey) -> tuple[Path, Path]:
        z, x, y = key
        folder = self.cache_dir / str(z) / str(x)
        return folder / f"{y}.{self.template.extension}", folder / f"{y}.missing"

    def _count(self, **deltas: int) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + delta)

    def fetch(self, key: TileKey) -> bytes | None:
        """One tile's bytes, from the cache or the service (and then cached)."""
        path, missing = self._paths(key)
        if path.exists():
            self._count(cache_hits=1)
            return path.read_bytes()
        if missing.exists():
            self._count(cache_hits=1, missing=1)
            return None
        url = self.template.url(*key)

        def attempt():
            self._limiter.wait()
            self._count(requests=1)
            return fetch_bytes(url, self.policy)

        try:
            result = fetch_with_retries(attempt, attempts=self.attempts, backoff_s=self.backoff_s)
            content = result.content if result.status != 204 else b""
        except FetchNotFound:
            content = b""
        path.parent.mkdir(parents=True, exist_ok=True)
        target = path if content else missing
        partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
        partial.write_bytes(content or b"")
        os.replace(partial, target)
        if not content:
            self._count(missing=1)
            return None
        self._count(bytes=len(content))
        return content

    def fetch_many(self, keys: Iterable[TileKey]) -> dict[TileKey, bytes | None]:
        """Several tiles, ``concurrency`` requests at a time; the first refusal or failure is raised."""
        keys = list(dict.fromkeys(keys))
        if self.concurrency == 1 or len(keys) <= 1:
            return {key: self.fetch(key) for key in keys}
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="tile-fetch") as pool:
            return dict(zip(keys, pool.map(self.fetch, keys), strict=True))
