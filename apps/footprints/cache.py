"""A change stamp for caches of footprint aggregates (the web map's grid, histogram and materialized views).

Every footprint write goes through ``apps.footprints.services``, which calls ``footprints_changed`` after
commit; the stamp also carries the highest footprint id, so rows loaded behind the services' back (a
benchmark's COPY) still change it, and the latest photo edit (``Photo.updated_at``, indexed), so a photo
made private leaves every count keyed by the stamp at once. Edits by ``QuerySet.update`` (which skip
``updated_at``) rely on the caches' short lifetime.
"""

import logging

from django.core.cache import cache
from django.db import connection
from redis.exceptions import RedisError

from apps.footprints.models import Footprint
from apps.photos.models import Photo

__all__ = ["footprints_changed", "footprints_stamp"]

VERSION_KEY = "footprints:version"
logger = logging.getLogger(__name__)


def footprints_changed() -> None:
    """Bump the version; a cache outage must not fail the write that triggered it (the TTL covers it)."""
    try:
        cache.add(VERSION_KEY, 0, timeout=None)
        cache.incr(VERSION_KEY)
    except (RedisError, ValueError) as exc:
        logger.warning("could not bump the footprint cache version: %s", exc)


def footprints_stamp() -> str:
    """``<version>-<max footprint id>-<last photo edit>``: changes whenever a footprint is added or rejected
    or a photo is saved."""
    with connection.cursor() as cursor:  # one round trip, two index lookups
        cursor.execute(f"SELECT (SELECT max(id) FROM {Footprint._meta.db_table}),"
                       f" (SELECT max(updated_at) FROM {Photo._meta.db_table})")
        top, edited = cursor.fetchone()
    return f"{cache.get(VERSION_KEY, 0)}-{top or 0}-{edited.timestamp() if edited else 0:.6f}"
