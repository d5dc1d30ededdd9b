"""Photos by URL: the files a manifest names, fetched by the import job under the deployment's fetch policy.

Why a module of its own: a manifest (EOL JSON, or a CSV with a URL column or EOL's directory + filename) makes
the platform download what a user typed, so every rule of ``apps.core.remote`` applies (configured hosts only,
no private addresses unless configured, byte and time limits, bounded redirects), plus the photo limits: a
file above ``ASTROLOC_PHOTO_MAX_BYTES`` is cut off while downloading, and one whose declared size
(``images.width`` x ``images.height``) is above ``ASTROLOC_PHOTO_MAX_PIXELS`` is not downloaded at all.

Crash safety: a file is downloaded to ``<name>.part`` and renamed when complete, so a finished file on disk
is never fetched again and a partial one resumes with a Range request (``fetch_to_file``).
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage

from apps.core.remote import FetchFailed, FetchRefused, fetch_to_file, fetch_with_retries, policy_from_settings

__all__ = ["DOWNLOAD_ATTEMPTS", "PhotoDownload", "photo_download", "photo_download_plan"]

#: Tries per file: network trouble (connection, timeout, 5xx) is retried with backoff; a refusal is final.
DOWNLOAD_ATTEMPTS = 3


@dataclass(frozen=True)
class PhotoDownload:
    """One file a manifest row names: where from, where to on disk, and the size the manifest declares."""

    url: str
    path: str  # local file the job downloads to (under the batch's storage folder)
    line: int  # manifest line (CSV) or record number (JSON)
    photo_id: str
    declared_pixels: int | None = None

    @property
    def filename(self) -> str:
        return Path(self.path).name.split("-", 1)[1]


def _safe_name(url: str) -> str:
    """The URL's last path segment, reduced to characters safe in a file name (never a path)."""
    base = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "photo"
    return re.sub(r"[^A-Za-z0-9._-]", "_", base)[:120].lstrip(".") or "photo"


def photo_download_plan(*, batch_id: int, line: int, url: str, photo_id: str,
                        declared_pixels: int | None) -> PhotoDownload:
    """Where the batch's file for manifest row ``line`` goes: ``batches/<id>/downloads/<line>-<name>``."""
    path = default_storage.path(f"batches/{batch_id}/downloads/{line}-{_safe_name(url)}")
    return PhotoDownload(url=url, path=path, line=line, photo_id=photo_id, declared_pixels=declared_pixels)


def photo_download(download: PhotoDownload) -> dict[str, Any]:
    """Fetch one file unless it is already on disk; never raises for a refused or failed fetch.

    Returns ``{"status": "downloaded", "size", "fetched"}`` or ``{"status": "refused" | "failed", "code",
    "message"}`` (the message says what to configure or fix).
    """
    path = Path(download.path)
    if path.is_file():  # finished by an earlier attempt of this job (the worker died before recording it)
        return {"status": "downloaded", "size": path.stat().st_size, "fetched": False}
    max_pixels = settings.ASTROLOC_PHOTO_MAX_PIXELS
    if download.declared_pixels is not None and download.declared_pixels > max_pixels:
        return {"status": "refused", "code": "too_many_pixels",
                "message": f"the manifest declares {download.declared_pixels:,} pixels, above the limit of "
                           f"{max_pixels:,} (ASTROLOC_PHOTO_MAX_PIXELS); not downloaded"}
    policy = policy_from_settings(max_bytes=min(settings.ASTROLOC_FETCH_MAX_BYTES, settings.ASTROLOC_PHOTO_MAX_BYTES))
    try:
        result = fetch_with_retries(lambda: fetch_to_file(download.url, path, policy), attempts=DOWNLOAD_ATTEMPTS)
    except FetchRefused as exc:
        return {"status": "refused", "code": "download_refused", "message": f"not downloaded: {exc}"}
    except FetchFailed as exc:
        return {"status": "failed", "code": "download_failed",
                "message": f"download failed after {DOWNLOAD_ATTEMPTS} tries: {exc}"}
    return {"status": "downloaded", "size": result.size, "fetched": True}
