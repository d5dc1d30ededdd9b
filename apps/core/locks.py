"""PostgreSQL advisory locks: mutual exclusion that dies with the holder's connection.

Used to make sure one job runs in one worker at a time. If that worker is killed, its connection closes and
the lock is released at once, so a redelivered task can resume the job without waiting for any timeout.
"""

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

__all__ = ["advisory_lock_shared", "try_advisory_lock"]

_INT4_MAX = 2**31 - 1


def _namespace_key(namespace: str) -> int:
    return zlib.crc32(namespace.encode()) & _INT4_MAX


@contextmanager
def try_advisory_lock(namespace: str, key: int) -> Iterator[bool]:
    """Try to take the session lock (namespace, key); yield whether it was taken, release it on exit."""
    if not 0 <= key <= _INT4_MAX:
        raise ValueError(f"advisory lock key {key} is outside the int4 range")
    ns = _namespace_key(namespace)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [ns, key])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ns, key])


@contextmanager
def advisory_lock_shared(namespace: str, key: int) -> Iterator[None]:
    """Hold the lock (namespace, key) in shared mode, waiting for an exclusive holder to release it.

    Job chunks hold their job's lock shared: many chunks run at once on many workers, while anyone testing
    the lock exclusively (stale-job recovery, the job's finishing step) sees that the job is alive.
    """
    if not 0 <= key <= _INT4_MAX:
        raise ValueError(f"advisory lock key {key} is outside the int4 range")
    ns = _namespace_key(namespace)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s, %s)", [ns, key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s, %s)", [ns, key])
