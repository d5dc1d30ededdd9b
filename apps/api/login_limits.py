"""Login brute-force limits, counted in the shared (Redis) cache, for every login path (API, admin, web).

Failures are counted per username and per client address; past ``LOGIN_FAILURE_LIMIT`` within
``LOGIN_LOCKOUT_SECONDS`` the lockout backend refuses further attempts (even with the right password)
until the window passes. A successful login clears the username's counter.
"""

import hashlib

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

__all__ = ["LoginLockoutBackend", "client_address", "login_locked"]


def client_address(request) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "") or ""


def _keys(username: str, address: str) -> list[str]:
    keys = [f"login-fail:user:{hashlib.sha256(username.lower().encode()).hexdigest()[:32]}"]
    if address:
        keys.append(f"login-fail:addr:{address}")
    return keys


def login_locked(*, username: str, address: str) -> bool:
    counts = cache.get_many(_keys(username or "", address))
    return any(int(v) >= settings.LOGIN_FAILURE_LIMIT for v in counts.values())


def _record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS)


class LoginLockoutBackend(ModelBackend):
    """The model backend, refusing ``authenticate()`` while the username or address is locked out.

    One backend rather than a guard in front of ModelBackend: sessions record the backend that logged the
    user in, and Django's ``login()`` / ``force_login()`` default to the first one, which must load users.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if login_locked(username=username or "", address=client_address(request)):
            raise PermissionDenied("Too many failed logins; try again later.")
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    _record_failure(str(credentials.get("username", "")), client_address(request))


@receiver(user_logged_in)
def _on_logged_in(sender, request, user, **kwargs) -> None:
    cache.delete(_keys(user.get_username(), "")[0])
