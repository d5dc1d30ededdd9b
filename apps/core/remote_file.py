"""A remote file read in byte ranges through ``apps.core.remote``: how GDAL reads a COG over HTTP here.

Why not GDAL's own ``/vsicurl/``: its curl follows redirects wherever they lead (GDAL has no setting to
stop it) and resolves the host itself after our check, so a redirect or a changed DNS answer could point it
at an internal address. Handing rasterio a Python file object instead (``rasterio.open(url, opener=...)``)
puts every byte GDAL reads through the one bounded fetch: host allowlist and private-address refusal on
every request and every redirect hop, the checked address connected to, timeouts, retries, a User-Agent,
and a budget on the total bytes read from the file, not only per request.

Reads are served from aligned blocks (``block_bytes``) kept in a small LRU cache, so GDAL's many small
reads of TIFF headers and tiles become a few range requests.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable

from apps.core.remote import FetchFailed, FetchPolicy, FetchRefused, fetch_range, fetch_with_retries

__all__ = ["RemoteBlocks", "RemoteFile", "remote_opener"]

DEFAULT_BLOCK_BYTES = 512 * 1024
DEFAULT_CACHE_BLOCKS = 64  # 32 MiB at the default block size


class RemoteBlocks:
    """The blocks of ``url`` fetched so far (LRU), its size, and the bytes spent of ``budget_bytes``."""

    def __init__(self, url: str, policy: FetchPolicy, *, budget_bytes: int,
                 block_bytes: int = DEFAULT_BLOCK_BYTES, cache_blocks: int = DEFAULT_CACHE_BLOCKS):
        self.url, self.policy = url, policy
        self.budget_bytes, self.block_bytes, self.cache_blocks = budget_bytes, block_bytes, cache_blocks
        self.bytes_read = 0
        self.requests = 0
        #: The last refusal or failure: GDAL turns an exception in a read into its own I/O error, so the
        #: caller looks here for the reason.
        self.error: FetchRefused | FetchFailed | None = None
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._size: int | None = None
        self.block(0)  # learns the size, and fails now if the URL is refused or not on a ranged server

    @property
    def size(self) -> int:
        assert self._size is not None
        return self._size

    def block(self, index: int) -> bytes:
        if index in self._blocks:
            self._blocks.move_to_end(index)
            return self._blocks[index]
        start = index * self.block_bytes
        length = self.block_bytes if self._size is None else min(self.block_bytes, self._size - start)
        if length <= 0:
            return b""
        try:
            if self.bytes_read + length > self.budget_bytes:
                raise FetchRefused(f"{self.url}: reading it needs more than {self.budget_bytes:,} bytes "
                                   "(ASTROLOC_COG_MAX_BYTES); ingest a smaller bbox or fewer zooms.")
            content, total = fetch_with_retries(lambda: fetch_range(self.url, start, length, self.policy))
        except (FetchRefused, FetchFailed) as exc:
            self.error = exc
            raise
        self.requests += 1
        self.bytes_read += len(content)
        self._size = total
        self._blocks[index] = content
        while len(self._blocks) > self.cache_blocks:
            self._blocks.popitem(last=False)
        return content


class RemoteFile(io.RawIOBase):
    """A seekable, read-only handle on shared :class:`RemoteBlocks` (each open gets its own position)."""

    def __init__(self, blocks: RemoteBlocks):
        super().__init__()
        self.blocks = blocks
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.blocks.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        end = self.blocks.size if size is None or size < 0 else min(self.blocks.size, self._pos + size)
        parts = []
        while self._pos < end:
            index, offset = divmod(self._pos, self.blocks.block_bytes)
            block = self.blocks.block(index)[offset:offset + end - self._pos]
            if not block:
                break
            parts.append(block)
            self._pos += len(block)
        return b"".join(parts)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def remote_opener(url: str, blocks: RemoteBlocks) -> Callable[..., RemoteFile]:
    """An ``opener`` for ``rasterio.open(url, opener=...)`` that serves ``url`` and nothing else.

    GDAL probes side-car files (``.aux.xml``, ``.msk``, ``.ovr``); they are answered "not found" without a
    request. Every handle shares ``blocks``, so one cache and one byte budget cover the whole ingest.
    """

    def opener(path: str, mode: str = "rb") -> RemoteFile:
        if path != url or any(flag in mode for flag in "wa+"):
            raise FileNotFoundError(path)
        return RemoteFile(blocks)

    return opener
