"""Writes of the API app: issuing and revoking script tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from apps.api.models import ApiToken

__all__ = ["IssuedToken", "token_create", "token_hash", "token_revoke"]

TOKEN_SCHEME = "al"


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the only time the secret exists in clear


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user: AbstractBaseUser, name: str, expires_at: datetime | None = None) -> IssuedToken:
    """Issue a key ``al_<prefix>_<secret>``; store its prefix and hash, return the clear key once."""
    prefix = secrets.token_hex(4)
    key = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, key_hash=token_hash(key), expires_at=expires_at
    )
    return IssuedToken(token=token, key=key)


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
