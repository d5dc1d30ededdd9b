"""Reads of photos and batches, always through visibility: a private photo exists only for its owner, its
group and staff. Every list, search, STAC result and file URL starts from ``photo_visible_q``."""

from collections.abc import Sequence

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from apps.footprints.models import Footprint
from apps.photos.constants import Visibility
from apps.photos.models import Batch, Photo

__all__ = ["batch_list", "has_own_footprint", "photo_get", "photo_visible_q", "photos_awaiting_footprint",
           "photos_to_label", "photos_visible"]


def photo_visible_q(user, *, prefix: str = "") -> Q:
    """Q over Photo (or a model reaching it through ``prefix``, e.g. ``"photo__"``) for what ``user`` sees."""
    public = Q(**{f"{prefix}visibility": Visibility.PUBLIC})
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return public
    if user.is_staff or user.is_superuser:
        return Q()
    return (
        public
        | Q(**{f"{prefix}owner_id": user.pk})
        | Q(**{f"{prefix}group_id__in": user.groups.values("pk")})
    )


def photos_visible(*, user) -> QuerySet[Photo]:
    return Photo.objects.filter(photo_visible_q(user))


def photo_get(*, user, photo_id: str) -> Photo | None:
    """The photo by mission-roll-frame ID, or None when it does not exist *or* the user may not see it."""
    return photos_visible(user=user).filter(photo_id=photo_id).first()


def batch_list(*, user) -> QuerySet[Batch]:
    """Batches a user uploaded (staff: all), with how many photos each holds."""
    qs = Batch.objects.all()
    if not user.is_staff:
        qs = qs.filter(created_by=user)
    return qs.annotate(photo_count=Count("photos"))


def has_own_footprint() -> Exists:
    """Over Photo: it has a current footprint of ours. NASA's ``nasa_ml`` footprint alone does not count: such a
    photo still needs labeling or localization (``THIRD_PARTY_SOURCES``)."""
    return Exists(Footprint.objects.current().own().filter(photo=OuterRef("pk")))


def photos_awaiting_footprint() -> QuerySet[Photo]:
    """Photos a job sweep (no photo ids given) should give a footprint: none of ours current, none rejected.

    A photo whose footprint a reviewer rejected is left to the review queue: a sweep would only recreate the
    polygon a human turned down; naming the photo explicitly still redoes it.
    """
    return Photo.objects.exclude(has_own_footprint()).exclude(footprints__rejected_at__isnull=False)


def photos_to_label(*, photo_ids: Sequence[int] | None = None, batch_id: int | None = None) -> QuerySet[Photo]:
    """Photos automated labeling can work on: a weak center point and no current footprint of ours.

    ``photo_ids`` (primary keys) or ``batch_id`` narrow the set; neither means every such photo. A photo that
    already has a footprint (imported, manual, or labeled by an earlier run) is never relabeled. Without
    ``photo_ids`` it is a sweep (``photos_awaiting_footprint``: rejected photos stay in review). For jobs,
    not users: no visibility filter.
    """
    if photo_ids is not None:
        qs = Photo.objects.exclude(has_own_footprint()).filter(pk__in=list(photo_ids))
    else:
        qs = photos_awaiting_footprint()
    qs = qs.filter(center_point__isnull=False)
    if batch_id is not None:
        qs = qs.filter(batch_id=batch_id)
    return qs.order_by("pk")
