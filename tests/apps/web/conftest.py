"""Web tests start from a fresh footprint cache version, so no cached map grid of an earlier test or run
(same primary keys in a recreated test database) can answer for this one."""

import pytest

from apps.footprints.cache import footprints_changed


@pytest.fixture(autouse=True)
def _fresh_map_cache() -> None:
    footprints_changed()
