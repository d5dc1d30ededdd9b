"""A static HTTP server on loopback for remote-imagery tests: tiles under XYZ, TMS or WMTS REST paths, and
files with HTTP Range support (a COG). It counts requests, the most in flight at once and User-Agents."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_WMTS = re.compile(r"^/wmts/(\d+)/(\d+)/(\d+)\.(\w+)$")


@dataclass
class ServerLog:
    paths: list[str] = field(default_factory=list)
    user_agents: set[str] = field(default_factory=set)
    full_gets: int = 0  # GETs of a whole file (no Range): a windowed reader must not make any
    in_flight: int = 0
    max_in_flight: int = 0
    fail: set[str] = field(default_factory=set)  # paths answered 503
    no_ranges: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.paths.clear()
            self.user_agents.clear()
            self.full_gets = self.max_in_flight = 0


class _Handler(BaseHTTPRequestHandler):
    root: Path
    log: ServerLog
    delay_s = 0.02  # makes overlapping requests observable

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        log = self.log
        with log.lock:
            log.paths.append(self.path)
            log.user_agents.add(self.headers.get("User-Agent", ""))
            log.in_flight += 1
            log.max_in_flight = max(log.max_in_flight, log.in_flight)
        time.sleep(self.delay_s)  # counted as in flight: the client is waiting for this answer
        with log.lock:
            log.in_flight -= 1
        self._serve()

    def _serve(self) -> None:
        if self.path in self.log.fail:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path = self.path.split("?", 1)[0]
        if match := _WMTS.match(path):  # {TileMatrix}/{TileRow}/{TileCol} -> xyz/z/x/y
            z, row, col, ext = match.groups()
            path = f"/xyz/{z}/{col}/{row}.{ext}"
        file = (self.root / path.lstrip("/")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = file.read_bytes()
        rng = self.headers.get("Range")
        if rng and not self.log.no_ranges:
            start_text, _, end_text = rng.removeprefix("bytes=").partition("-")
            start, end = int(start_text), min(int(end_text or len(body) - 1), len(body) - 1)
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
            body = body[start:end + 1]
        else:
            with self.log.lock:
                self.log.full_gets += 1
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class TileServer:
    def __init__(self, root: Path):
        self.log = ServerLog()
        handler = type("Handler", (_Handler,), {"root": root.resolve(), "log": self.log})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
