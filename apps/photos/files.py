"""Photo files: what a batch's inputs contain, whether each is a usable image, and its derivatives.

Every check that can be made without decoding comes first: the byte size (before reading), the file's
signature (JPEG, PNG, TIFF only), the pixel count from the header (a decompression bomb is refused before
a single pixel is decoded). Only then is the image decoded, which is where corrupt or truncated files show.
Zip archives are read in place, never extracted: entries with absolute or ``..`` paths, links and entries
larger than the byte limit are refused by their directory record, and a member that decompresses to more
than it declared is cut off at the limit.
"""

import io
import stat
import warnings
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

__all__ = [
    "IMAGE_SUFFIXES",
    "DecodedImage",
    "ImportItem",
    "PhotoFileError",
    "SourceReader",
    "decode_image",
    "derivative_jpeg",
    "list_items",
]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
_FORMAT_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif"}
_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"II+\x00", "TIFF"), (b"MM\x00+", "TIFF"),
)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


class PhotoFileError(Exception):
    """A file that cannot become a photo; ``code`` is stable (for the report), the message is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ImportItem:
    """One candidate photo file: a local path, a stored upload, or a member of a zip (``member``)."""

    name: str  # shown in the report: the path as given, or "archive.zip!member"
    parts: tuple[str, ...]  # path components, for finding an ID in folder names
    source: int  # index into the batch's sources
    size: int
    member: str = ""
    csv_line: int | None = None  # the metadata row that named it (a file downloaded from a manifest)


@dataclass
class ItemListing:
    """The batch's inputs, expanded: candidate image files, refused entries, CSV files found in zips."""

    items: list[ImportItem] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    csv_members: list[tuple[int, str]] = field(default_factory=list)


def _signature(head: bytes) -> str | None:
    return next((fmt for magic, fmt in _SIGNATURES if head.startswith(magic)), None)


def _source_open(source: dict[str, str]):
    if "path" in source:
        return Path(source["path"]).open("rb")
    return default_storage.open(source["storage"], "rb")


def _source_size(source: dict[str, str]) -> int:
    if "path" in source:
        return Path(source["path"]).stat().st_size
    return default_storage.size(source["storage"])


def _source_name(source: dict[str, str]) -> str:
    return source.get("name") or source.get("path") or source["storage"]


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(name).parts:
        return "'..' in the path"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return None


def list_items(sources: list[dict[str, str]], *, max_bytes: int, max_entries: int) -> ItemListing:
    """Expand the sources (files and zips) into import items, refusing what is unsafe or too big."""
    listing = ItemListing()
    for index, source in enumerate(sources):
        name = _source_name(source)
        try:
            with _source_open(source) as fh:
                head = fh.read(8)
        except OSError as exc:
            listing.refused.append({"name": name, "code": "unreadable", "message": f"cannot be read: {exc}"})
            continue
        if not head.startswith(_ZIP_SIGNATURES):
            parts = tuple(PurePosixPath(source.get("path") or source.get("name") or source["storage"]).parts)
            listing.items.append(ImportItem(name=name, parts=parts, source=index, size=_source_size(source)))
            continue
        try:
            with _source_open(source) as fh, zipfile.ZipFile(fh) as archive:
                infos = archive.infolist()
        except (zipfile.BadZipFile, OSError) as exc:
            listing.refused.append({"name": name, "code": "corrupt_zip", "message": f"not a readable zip: {exc}"})
            continue
        if len(infos) > max_entries:
            listing.refused.append({"name": name, "code": "zip_too_many_entries",
                                    "message": f"{len(infos)} entries; at most {max_entries} per archive"})
            continue
        for info in infos:
            member_name = f"{name}!{info.filename}"
            if info.is_dir() or info.filename.startswith("__MACOSX/"):
                continue
            problem = _unsafe_member(info)
            if problem:
                listing.refused.append({"name": member_name, "code": "unsafe_zip_path",
                                        "message": f"zip entry refused ({problem}); nothing was extracted"})
                continue
            if info.filename.lower().endswith(".csv"):
                listing.csv_members.append((index, info.filename))
                continue
            listing.items.append(ImportItem(name=member_name, parts=tuple(PurePosixPath(info.filename).parts),
                                            source=index, size=info.file_size, member=info.filename))
    return listing


class SourceReader:
    """Reads items' bytes, keeping each zip open while its members are read (a context manager)."""

    def __init__(self, sources: list[dict[str, str]], *, max_bytes: int):
        self.sources = sources
        self.max_bytes = max_bytes
        self._stack = ExitStack()
        self._zips: dict[int, zipfile.ZipFile] = {}

    def __enter__(self) -> "SourceReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _zip(self, index: int) -> zipfile.ZipFile:
        if index not in self._zips:
            fh = self._stack.enter_context(_source_open(self.sources[index]))
            self._zips[index] = self._stack.enter_context(zipfile.ZipFile(fh))
        return self._zips[index]

    def read(self, item: ImportItem) -> bytes:
        """The item's bytes; PhotoFileError when it is over the byte limit or unreadable."""
        if item.size > self.max_bytes:
            raise PhotoFileError("oversize", f"{item.size:,} bytes; the limit is {self.max_bytes:,} bytes")
        try:
            if item.member:
                with self._zip(item.source).open(item.member) as fh:
                    content = fh.read(self.max_bytes + 1)
            else:
                with _source_open(self.sources[item.source]) as fh:
                    content = fh.read(self.max_bytes + 1)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise PhotoFileError("unreadable", f"cannot be read: {exc}") from exc
        if len(content) > self.max_bytes:
            raise PhotoFileError("oversize", f"more than the limit of {self.max_bytes:,} bytes")
        return content

    def read_member(self, index: int, member: str) -> bytes:
        with self._zip(index).open(member) as fh:
            return fh.read(self.max_bytes + 1)


@dataclass
class DecodedImage:
    """A validated, decoded image: its format, size, suffix for the original, and the PIL image."""

    format: str
    width: int
    height: int
    suffix: str
    image: Image.Image


def decode_image(content: bytes, *, max_pixels: int) -> DecodedImage:
    """Validate and decode a JPEG, PNG or TIFF; PhotoFileError with a code when it cannot be a photo."""
    if not content:
        raise PhotoFileError("empty", "empty file (0 bytes)")
    fmt = _signature(content[:8])
    if fmt is None:
        raise PhotoFileError("not_an_image", f"not a JPEG, PNG or TIFF image (starts with {content[:8]!r})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content), formats=[fmt])  # parses the header only
        except Image.DecompressionBombError as exc:
            raise PhotoFileError("too_many_pixels", f"refused without decoding: {exc}") from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise PhotoFileError("corrupt", f"{fmt} header cannot be read: {exc}") from exc
        width, height = image.size
        if width <= 0 or height <= 0:
            raise PhotoFileError("corrupt", f"{fmt} header says {width} x {height} pixels")
        if width * height > max_pixels:
            raise PhotoFileError(
                "too_many_pixels",
                f"{width} x {height} = {width * height:,} pixels, above the limit of {max_pixels:,}; "
                "refused without decoding (a decompression bomb, or a photo to downsample first)",
            )
        try:
            image.load()
        except Image.DecompressionBombError as exc:
            raise PhotoFileError("too_many_pixels", str(exc)) from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise PhotoFileError("corrupt", f"{fmt} data is corrupt or truncated: {exc}") from exc
    return DecodedImage(fmt, width, height, _FORMAT_SUFFIX[fmt], image)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit / float TIFF: stretch to 8 bits
        array = np.asarray(image, dtype=np.float64)
        top = float(array.max()) or 1.0
        image = Image.fromarray(np.clip(array / top * 255.0, 0, 255).astype(np.uint8))
    return image.convert("RGB")


def derivative_jpeg(image: Image.Image, *, max_side: int, quality: int = 85) -> bytes:
    """A JPEG no larger than ``max_side`` on its long side, upright (EXIF orientation applied)."""
    derived = _to_rgb(ImageOps.exif_transpose(image))
    derived.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    derived.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
