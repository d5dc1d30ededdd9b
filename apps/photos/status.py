"""The photo status state machine: one table of the transitions every service that changes ``Photo.status``
goes through (``photo_status_change``), so no writer can put a photo where the others do not expect it.

``imported`` is where a photo starts and only aborted work (``photo_status_restore``) puts one back there: a
photo that got a final status (``localized``, ``needs_review``, ``failed``) never looks unprocessed again. Work
in progress (``labeling``, ``localizing``) may end in any status, and a photo found in progress may be taken
over (its worker died). Final statuses move freely among themselves (publish, review, reject) and to new work.
"""

from django.db import transaction

from apps.photos.constants import PhotoStatus
from apps.photos.models import Photo

__all__ = ["IN_PROGRESS", "PHOTO_TRANSITIONS", "PhotoStatusError", "photo_status_change", "photo_transition_check"]

IN_PROGRESS = frozenset({PhotoStatus.LABELING, PhotoStatus.LOCALIZING})
_FINAL = frozenset({PhotoStatus.LOCALIZED, PhotoStatus.NEEDS_REVIEW, PhotoStatus.FAILED})

# from -> the statuses it may move to
PHOTO_TRANSITIONS: dict[str, frozenset[str]] = {
    PhotoStatus.IMPORTED: IN_PROGRESS | _FINAL,
    PhotoStatus.LABELING: frozenset(PhotoStatus.values),
    PhotoStatus.LOCALIZING: frozenset(PhotoStatus.values),
    PhotoStatus.LOCALIZED: IN_PROGRESS | _FINAL,
    PhotoStatus.NEEDS_REVIEW: IN_PROGRESS | _FINAL,
    PhotoStatus.FAILED: IN_PROGRESS | _FINAL,
}


class PhotoStatusError(ValueError):
    """A status change the state machine does not allow; the message names both ends and the allowed ones."""


def photo_transition_check(current: str, status: str) -> None:
    """Raise ``PhotoStatusError`` unless a photo may go from ``current`` to ``status``."""
    allowed = PHOTO_TRANSITIONS.get(current)
    if allowed is None or status not in allowed:
        current, status = str(current), str(status)  # the values, not the enum members
        raise PhotoStatusError(f"a photo cannot go from {current!r} to {status!r}; from {current!r} it may go to "
                               f"{sorted(str(s) for s in allowed or ())}")


def photo_status_change(*, photo_pk: int, status: str, reason: str | None = None,
                        only_from: frozenset[str] | None = None) -> str | None:
    """Move the photo to ``status`` (and ``status_reason`` when given) if the table allows it; returns the status
    it had, or None when the photo is gone or (with ``only_from``) not in one of those statuses (then unchanged).
    """
    with transaction.atomic():
        current = Photo.objects.select_for_update().filter(pk=photo_pk).values_list("status", flat=True).first()
        if current is None or (only_from is not None and current not in only_from):
            return None
        photo_transition_check(current, status)
        fields = {"status": status} if reason is None else {"status": status, "status_reason": reason[:2000]}
        Photo.objects.filter(pk=photo_pk).update(**fields)
    return current
