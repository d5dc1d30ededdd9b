"""Tile service URL templates: XYZ (``{z}/{x}/{y}``), TMS (``{-y}``: rows counted from the south) and WMTS
REST (``{TileMatrix}/{TileRow}/{TileCol}`` of the GoogleMapsCompatible matrix set, where the matrix id is
the zoom). A template is validated once, when the ingest is asked for, so a typo fails at the command line.
"""

import re
from dataclasses import dataclass

__all__ = ["TileTemplate", "TileTemplateError"]

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ROLES = {
    "z": "z", "TileMatrix": "z",
    "x": "x", "TileCol": "x",
    "y": "y", "TileRow": "y", "-y": "tms_y",
}


class TileTemplateError(ValueError):
    """The URL template cannot address tiles; the message says what is missing or unknown."""


@dataclass(frozen=True)
class TileTemplate:
    """A validated URL template; :meth:`url` fills in one tile's address (XYZ numbering in, any scheme out)."""

    template: str

    def __post_init__(self) -> None:
        names = _PLACEHOLDER.findall(self.template)
        unknown = sorted({n for n in names if n not in _ROLES})
        if unknown:
            raise TileTemplateError(
                f"{self.template!r}: unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; use "
                "{z} {x} {y} (XYZ), {-y} (TMS rows) or {TileMatrix} {TileCol} {TileRow} (WMTS REST)."
            )
        roles = [_ROLES[n] for n in names]
        if "z" not in roles or "x" not in roles or not ({"y", "tms_y"} & set(roles)):
            raise TileTemplateError(
                f"{self.template!r} must contain a zoom, a column and a row: {{z}}/{{x}}/{{y}}, {{z}}/{{x}}/{{-y}} "
                "or {TileMatrix}/{TileRow}/{TileCol}."
            )
        if not self.template.lower().startswith(("http://", "https://")):
            raise TileTemplateError(f"{self.template!r}: a tile service URL starts with http:// or https://.")

    def url(self, z: int, x: int, y: int) -> str:
        """The URL of XYZ tile (z, x, y) (row 0 at the north)."""
        values = {"z": z, "x": x, "y": y, "tms_y": (1 << z) - 1 - y}
        return _PLACEHOLDER.sub(lambda m: str(values[_ROLES[m.group(1)]]), self.template)

    @property
    def extension(self) -> str:
        """The file extension the template ends with (for the on-disk cache), or ``bin``."""
        tail = self.template.rsplit("/", 1)[-1].split("?", 1)[0]
        ext = tail.rsplit(".", 1)[-1].lower() if "." in tail else ""
        return ext if ext.isalnum() and len(ext) <= 5 else "bin"
