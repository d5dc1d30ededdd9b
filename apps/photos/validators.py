"""Validation of NASA photo identifiers (mission-roll-frame)."""

import re

from django.core.exceptions import ValidationError

__all__ = ["MISSION_ROLL_FRAME_RE", "validate_mission_roll_frame"]

# ISS064-E-513, STS088-724-38, ISS047-E-55412: mission letters + number (+ optional letter), roll, frame.
MISSION_ROLL_FRAME_RE = re.compile(r"^(?P<mission>[A-Z]{2,4}\d{2,3}[A-Z]?)-(?P<roll>[A-Z0-9]{1,4})-(?P<frame>\d{1,7})$")


def validate_mission_roll_frame(value: str) -> None:
    if not MISSION_ROLL_FRAME_RE.match(value or ""):
        raise ValidationError(
            "%(value)r is not a mission-roll-frame photo ID such as ISS064-E-513.",
            code="invalid_photo_id",
            params={"value": value},
        )
