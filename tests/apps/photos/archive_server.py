"""A stand-in for NASA's image archive: a real HTTP server on loopback that serves photo files (with Range
requests, so downloads can resume), counts every request, and can stall one download half-way (to kill the
worker during it)."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image


def jpeg(width: int = 64, height: int = 48, *, seed: int = 0, noise: bool = False) -> bytes:
    """A JPEG; with ``noise`` it barely compresses (a few hundred kB at 512 px: big enough to interrupt)."""
    rng = np.random.default_rng(seed)
    if noise:
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        pixels = np.full((height, width, 3), rng.integers(0, 256, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


@dataclass
class Archive:
    """What the server serves and what it saw. ``stall`` paths send half their bytes to a request without a
    Range header, then wait for ``release`` (the test kills the client meanwhile)."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    stall: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Range header or "")
    release: threading.Event = field(default_factory=threading.Event)

    def gets(self, path: str) -> list[str]:
        """The Range headers of every request for ``path`` ("" for a plain GET)."""
        return [rng for p, rng in self.requests if p == path]


def _handler(archive: Archive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            rng = self.headers.get("Range", "")
            archive.requests.append((self.path, rng))
            body = archive.files.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = int(rng.removeprefix("bytes=").split("-")[0]) if rng else 0
            part = body[start:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(part)))
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            if self.path in archive.stall and not rng:
                half = len(part) // 2
                self.wfile.write(part[:half])
                self.wfile.flush()
                archive.release.wait(120)
                part = part[half:]
            with contextlib.suppress(OSError):  # the client died (the test killed it)
                self.wfile.write(part)

    return Handler


@contextmanager
def archive_server() -> Iterator[Archive]:
    archive = Archive()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(archive))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    archive.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield archive
    finally:
        archive.release.set()
        httpd.shutdown()
        httpd.server_close()
