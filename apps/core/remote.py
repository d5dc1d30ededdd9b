"""Bounded downloads from URLs: the one place the platform fetches anything from another host.

Why one module: photos by URL, tile services and COGs all fetch from addresses a user typed. Each fetch is
a way into the network the platform runs in (server-side request forgery) and a way to fill its disk, so
every one obeys the same :class:`FetchPolicy`: only configured hosts, http(s) only, no private, loopback,
link-local or reserved address unless configured (checked on every redirect hop, and the connection goes to
the address that was checked, so a DNS answer cannot change between check and connect), a byte limit
enforced while reading, a timeout per connect and read, a bounded number of redirects.

Policy refusals raise :class:`FetchRefused` (final: retrying cannot help, the message says what to
configure); network trouble raises :class:`FetchFailed` (transient: retry with :func:`fetch_with_retries`).
"""

from __future__ import annotations

import fnmatch
import http.client
import ipaddress
import os
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

__all__ = [
    "FetchFailed",
    "FetchNotFound",
    "FetchPolicy",
    "FetchRefused",
    "FetchResult",
    "check_url",
    "fetch_bytes",
    "fetch_range",
    "fetch_to_file",
    "fetch_with_retries",
    "policy_from_settings",
]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024


class FetchRefused(ValueError):
    """The policy forbids this fetch (host, address, scheme, size). Final: do not retry."""


class FetchNotFound(FetchRefused):
    """The server says the resource does not exist (404, 410): e.g. a tile outside a service's coverage."""


class FetchFailed(OSError):
    """The fetch broke for a reason that may pass (connection, timeout, 5xx). Retrying may help."""


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. An empty ``allowed_hosts`` allows nothing: fetching is off until configured.

    ``allowed_hosts`` holds host names or shell patterns (``*.example.org``), compared case-insensitively
    with the URL's host; ``allow_private`` admits loopback, private, link-local and reserved addresses
    (tests and intranet deployments set it).
    """

    allowed_hosts: tuple[str, ...] = ()
    allow_private: bool = False
    max_bytes: int = 200 * 1024 * 1024
    timeout_s: float = 30.0
    max_redirects: int = 5
    user_agent: str = "AstroLoc-Platform/0.1"
    extra_headers: dict[str, str] = field(default_factory=dict)

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in self.allowed_hosts)


@dataclass(frozen=True)
class FetchResult:
    """What came back: the bytes (or the file they were written to), the final URL after redirects."""

    url: str
    status: int
    content_type: str
    size: int
    content: bytes | None = None
    path: Path | None = None


def policy_from_settings(**overrides: object) -> FetchPolicy:
    """The deployment's policy (``ASTROLOC_FETCH_*`` settings), with per-call overrides (e.g. a lower
    ``max_bytes`` for one kind of download)."""
    from django.conf import settings

    values: dict[str, object] = {
        "allowed_hosts": tuple(settings.ASTROLOC_FETCH_ALLOWED_HOSTS),
        "allow_private": settings.ASTROLOC_FETCH_ALLOW_PRIVATE,
        "max_bytes": settings.ASTROLOC_FETCH_MAX_BYTES,
        "timeout_s": settings.ASTROLOC_FETCH_TIMEOUT_SECONDS,
        "max_redirects": settings.ASTROLOC_FETCH_MAX_REDIRECTS,
        "user_agent": settings.ASTROLOC_FETCH_USER_AGENT,
    }
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


def _address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, policy: FetchPolicy) -> tuple[str, int, str]:
    """Validate ``url`` against ``policy``; return (host, port, the address to connect to).

    Raises :class:`FetchRefused` naming the rule that was broken and the setting that changes it.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise FetchRefused(f"{url!r}: only http and https URLs can be fetched, not {parts.scheme or 'none'!r}.")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused(f"{url!r} names no host.")
    if parts.username or parts.password:
        raise FetchRefused(f"{url!r}: credentials in URLs are not accepted.")
    if not policy.host_allowed(host):
        allowed = ", ".join(policy.allowed_hosts) or "none (fetching is off)"
        raise FetchRefused(
            f"host {host!r} is not allowed (allowed: {allowed}); add it to ASTROLOC_FETCH_ALLOWED_HOSTS."
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchRefused(f"{url!r}: {exc}") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchFailed(f"{host!r} could not be resolved: {exc}") from exc
    addresses = [info[4][0] for info in infos]
    if not policy.allow_private:
        private = [address for address in addresses if not _address_is_public(address)]
        if private:
            raise FetchRefused(
                f"host {host!r} resolves to a private, loopback, link-local or reserved address ({private[0]}); "
                "set ASTROLOC_FETCH_ALLOW_PRIVATE=1 to allow it."
            )
    return host, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address while sending the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, verifying the certificate against the URL's host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _open(url: str, policy: FetchPolicy, headers: dict[str, str]) -> tuple[str, http.client.HTTPResponse]:
    """GET ``url`` following redirects, each hop checked; returns the final URL and its open response."""
    for _ in range(policy.max_redirects + 1):
        host, port, address = check_url(url, policy)
        parts = urlsplit(url)
        connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = connection_class(host, port, address, policy.timeout_s)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(
                "GET", target, headers={"User-Agent": policy.user_agent, **policy.extra_headers, **headers}
            )
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise FetchFailed(f"{url}: {exc}") from exc
        if response.status in _REDIRECT_STATUSES:
            location = response.getheader("Location")
            connection.close()
            if not location:
                raise FetchFailed(f"{url}: redirect {response.status} without a Location")
            url = urljoin(url, location)
            continue
        return url, response
    raise FetchRefused(f"{url}: more than {policy.max_redirects} redirects.")


def _raise_for_status(url: str, response: http.client.HTTPResponse) -> None:
    if response.status >= 500 or response.status == 429:
        raise FetchFailed(f"{url}: HTTP {response.status} {response.reason}")
    if response.status in (404, 410):
        raise FetchNotFound(f"{url}: HTTP {response.status} {response.reason}")
    if response.status >= 400:
        raise FetchRefused(f"{url}: HTTP {response.status} {response.reason}")


def _declared_length(response: http.client.HTTPResponse) -> int | None:
    value = response.getheader("Content-Length")
    return int(value) if value and value.isdigit() else None


def _chunks(url: str, response: http.client.HTTPResponse, limit: int, already: int) -> Iterator[bytes]:
    """The body in chunks, refusing once more than ``limit`` bytes (counting ``already`` ones) arrive."""
    total = already
    try:
        while chunk := response.read(_CHUNK_BYTES):
            total += len(chunk)
            if total > limit:
                raise FetchRefused(f"{url}: larger than the limit of {limit:,} bytes (ASTROLOC_FETCH_MAX_BYTES).")
            yield chunk
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(f"{url}: {exc}") from exc


def fetch_bytes(url: str, policy: FetchPolicy) -> FetchResult:
    """GET ``url`` into memory under ``policy``."""
    final_url, response = _open(url, policy, {})
    try:
        _raise_for_status(final_url, response)
        declared = _declared_length(response)
        if declared is not None and declared > policy.max_bytes:
            raise FetchRefused(
                f"{final_url}: {declared:,} bytes exceed the limit of {policy.max_bytes:,} (ASTROLOC_FETCH_MAX_BYTES)."
            )
        content = b"".join(_chunks(final_url, response, policy.max_bytes, 0))
    finally:
        response.close()
    return FetchResult(
        url=final_url, status=response.status, content_type=response.getheader("Content-Type", ""),
        size=len(content), content=content,
    )


def fetch_range(url: str, start: int, length: int, policy: FetchPolicy) -> tuple[bytes, int]:
    """GET bytes ``start`` .. ``start + length - 1`` of ``url``; returns them and the resource's total size.

    For reading a large remote file (a COG) in windows: the server must honour ``Range`` (206 with a
    ``Content-Range`` total); one that answers 200 is refused rather than read whole. A range is at most
    ``policy.max_bytes``.
    """
    if length <= 0 or length > policy.max_bytes:
        raise FetchRefused(f"{url}: a range of {length:,} bytes is outside 1 .. {policy.max_bytes:,}.")
    final_url, response = _open(url, policy, {"Range": f"bytes={start}-{start + length - 1}"})
    try:
        total = (response.getheader("Content-Range") or "").rpartition("/")[2]
        if response.status == 416:  # starts at or past the end: "bytes */<size>"
            return b"", int(total) if total.isdigit() else start
        _raise_for_status(final_url, response)
        if response.status != 206 or not total.isdigit():
            raise FetchRefused(f"{final_url}: the server does not serve byte ranges (HTTP {response.status}); "
                               "a remote raster must be on a server with Range support.")
        content = b"".join(_chunks(final_url, response, length, 0))
    finally:
        response.close()
    return content, int(total)


def fetch_to_file(url: str, path: Path, policy: FetchPolicy) -> FetchResult:
    """GET ``url`` into ``path``, resuming a partial ``path + '.part'`` left by an interrupted run.

    The file appears under ``path`` only when complete (rename of the part file), so a crash never leaves a
    truncated file that looks finished. A server that ignores ``Range`` restarts the download from zero.
    """
    part = path.with_name(path.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    final_url, response = _open(url, policy, headers)
    try:
        if response.status == 416 and have:  # the part file already holds everything
            response.close()
            os.replace(part, path)
            return FetchResult(url=final_url, status=200, content_type="", size=have, path=path)
        _raise_for_status(final_url, response)
        resumed = response.status == 206 and have > 0
        start = have if resumed else 0
        declared = _declared_length(response)
        if declared is not None and start + declared > policy.max_bytes:
            raise FetchRefused(
                f"{final_url}: {start + declared:,} bytes exceed the limit of {policy.max_bytes:,} "
                "(ASTROLOC_FETCH_MAX_BYTES)."
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        with part.open("ab" if resumed else "wb") as out:
            for chunk in _chunks(final_url, response, policy.max_bytes, start):
                out.write(chunk)
    finally:
        response.close()
    size = part.stat().st_size
    os.replace(part, path)
    return FetchResult(
        url=final_url, status=200, content_type=response.getheader("Content-Type", ""), size=size, path=path
    )


def fetch_with_retries(
    fetch: Callable[[], FetchResult],
    *,
    attempts: int = 3,
    backoff_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Call ``fetch`` until it succeeds, retrying :class:`FetchFailed` with exponential backoff.

    :class:`FetchRefused` passes through at once: a policy answer does not change on retry.
    """
    for attempt in range(attempts):
        try:
            return fetch()
        except FetchFailed:
            if attempt == attempts - 1:
                raise
            sleep(backoff_s * 2**attempt)
    raise AssertionError("unreachable")
