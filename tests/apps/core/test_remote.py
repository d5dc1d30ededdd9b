"""Bounded fetches against a real HTTP server the test starts on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apps.core.remote import (
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    check_url,
    fetch_bytes,
    fetch_to_file,
    fetch_with_retries,
    policy_from_settings,
)

BODY = bytes(range(256)) * 40  # 10,240 bytes


class _Handler(BaseHTTPRequestHandler):
    flaky_left = 0

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/file":
            start = 0
            if rng := self.headers.get("Range"):
                start = int(rng.removeprefix("bytes=").split("-")[0])
            body = BODY[start:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/chunked-big":  # no Content-Length: the limit must hold while reading
            self.send_response(200)
            self.end_headers()
            for _ in range(20):
                self.wfile.write(BODY)
            self.close_connection = True
        elif self.path == "/to-localhost":
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{port}/file")
            self.end_headers()
        elif self.path == "/relative":
            self.send_response(301)
            self.send_header("Location", "/file")
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path == "/flaky":
            if type(self).flaky_left > 0:
                type(self).flaky_left -= 1
                self.send_response(503)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        elif self.path == "/ua":
            body = self.headers.get("User-Agent", "").encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


LOOPBACK = FetchPolicy(allowed_hosts=("127.0.0.1",), allow_private=True, timeout_s=5)


def test_allowed_host_is_fetched(server: str) -> None:
    result = fetch_bytes(f"{server}/file", LOOPBACK)
    assert result.content == BODY
    assert result.size == len(BODY)


def test_fetching_is_off_without_configured_hosts(server: str) -> None:
    with pytest.raises(FetchRefused, match="fetching is off"):
        fetch_bytes(f"{server}/file", FetchPolicy(allow_private=True))


def test_host_not_in_the_list_is_refused(server: str) -> None:
    with pytest.raises(FetchRefused, match="ASTROLOC_FETCH_ALLOWED_HOSTS"):
        fetch_bytes(f"{server}/file", FetchPolicy(allowed_hosts=("*.example.org",), allow_private=True))


def test_private_address_is_refused_unless_configured(server: str) -> None:
    with pytest.raises(FetchRefused, match="ASTROLOC_FETCH_ALLOW_PRIVATE"):
        fetch_bytes(f"{server}/file", FetchPolicy(allowed_hosts=("127.0.0.1",)))


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://192.168.0.1/"]
)
def test_private_ranges_are_refused_before_connecting(url: str) -> None:
    with pytest.raises(FetchRefused, match="private"):
        check_url(url, FetchPolicy(allowed_hosts=("*",)))


def test_redirect_to_a_host_not_allowed_is_refused(server: str) -> None:
    with pytest.raises(FetchRefused, match="'localhost' is not allowed"):
        fetch_bytes(f"{server}/to-localhost", LOOPBACK)


def test_relative_redirect_is_followed_and_reported(server: str) -> None:
    result = fetch_bytes(f"{server}/relative", LOOPBACK)
    assert result.content == BODY
    assert result.url == f"{server}/file"


def test_redirect_loop_is_bounded(server: str) -> None:
    with pytest.raises(FetchRefused, match="redirects"):
        fetch_bytes(f"{server}/loop", LOOPBACK)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x"])
def test_other_schemes_and_credentials_are_refused(url: str) -> None:
    with pytest.raises(FetchRefused):
        check_url(url, LOOPBACK)


def test_declared_size_over_the_limit_is_refused(server: str) -> None:
    small = FetchPolicy(allowed_hosts=("127.0.0.1",), allow_private=True, max_bytes=1000)
    with pytest.raises(FetchRefused, match="limit"):
        fetch_bytes(f"{server}/file", small)


def test_undeclared_size_is_cut_while_reading(server: str, tmp_path: Path) -> None:
    small = FetchPolicy(allowed_hosts=("127.0.0.1",), allow_private=True, max_bytes=50_000)
    with pytest.raises(FetchRefused, match="limit"):
        fetch_to_file(f"{server}/chunked-big", tmp_path / "big.bin", small)
    assert not (tmp_path / "big.bin").exists()


def test_download_resumes_from_a_part_file(server: str, tmp_path: Path) -> None:
    target = tmp_path / "photo.jpg"
    target.with_name("photo.jpg.part").write_bytes(BODY[:4000])
    result = fetch_to_file(f"{server}/file", target, LOOPBACK)
    assert target.read_bytes() == BODY
    assert result.size == len(BODY)
    assert not target.with_name("photo.jpg.part").exists()


def test_transient_errors_are_retried_and_policy_errors_are_not(server: str) -> None:
    _Handler.flaky_left = 2
    slept: list[float] = []
    result = fetch_with_retries(lambda: fetch_bytes(f"{server}/flaky", LOOPBACK), attempts=3, sleep=slept.append)
    assert result.content == b"ok"
    assert slept == [1.0, 2.0]

    _Handler.flaky_left = 5
    with pytest.raises(FetchFailed, match="503"):
        fetch_with_retries(lambda: fetch_bytes(f"{server}/flaky", LOOPBACK), attempts=2, sleep=slept.append)

    calls: list[int] = []

    def refused():
        calls.append(1)
        return fetch_bytes(f"{server}/file", FetchPolicy())

    with pytest.raises(FetchRefused):
        fetch_with_retries(refused, attempts=3, sleep=slept.append)
    assert len(calls) == 1


def test_missing_file_is_a_final_error(server: str) -> None:
    with pytest.raises(FetchRefused, match="404"):
        fetch_bytes(f"{server}/nothing", LOOPBACK)


def test_timeout_is_a_transient_error(tmp_path: Path) -> None:
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    try:
        policy = FetchPolicy(allowed_hosts=("127.0.0.1",), allow_private=True, timeout_s=0.5)
        with pytest.raises(FetchFailed):
            fetch_bytes(f"http://127.0.0.1:{silent.getsockname()[1]}/x", policy)
    finally:
        silent.close()


def test_user_agent_is_sent(server: str) -> None:
    policy = FetchPolicy(allowed_hosts=("127.0.0.1",), allow_private=True, user_agent="AstroLoc-test/1")
    assert fetch_bytes(f"{server}/ua", policy).content == b"AstroLoc-test/1"


def test_settings_policy_is_off_by_default(settings) -> None:
    policy = policy_from_settings()
    assert policy.allowed_hosts == ()
    assert not policy.allow_private
    settings.ASTROLOC_FETCH_ALLOWED_HOSTS = ["tiles.example.org"]
    assert policy_from_settings(max_bytes=10).host_allowed("TILES.example.org")
    assert policy_from_settings(max_bytes=10).max_bytes == 10
