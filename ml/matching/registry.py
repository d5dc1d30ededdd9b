"""Create matchers by name, so configs and jobs say ``matcher: sift`` instead of importing classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ml.matching.base import BaseMatcher

__all__ = ["MATCHERS", "create_matcher"]


def _opencv(detector: str) -> Callable[..., BaseMatcher]:
    def make(**kwargs: Any) -> BaseMatcher:
        from ml.matching.opencv import OpenCVMatcher

        return OpenCVMatcher(detector, **kwargs)

    return make


def _loftr(**kwargs: Any) -> BaseMatcher:
    from ml.matching.learned import KorniaLoFTRMatcher  # imports kornia only now

    return KorniaLoFTRMatcher(**kwargs)


MATCHERS: dict[str, Callable[..., BaseMatcher]] = {
    "sift": _opencv("sift"),
    "orb": _opencv("orb"),
    "kornia-loftr": _loftr,
}


def create_matcher(name: str = "sift", **kwargs: Any) -> BaseMatcher:
    """The matcher registered as ``name`` (sift, orb, kornia-loftr); kwargs go to its constructor."""
    try:
        factory = MATCHERS[name]
    except KeyError:
        raise ValueError(f"unknown matcher {name!r}; choose one of {sorted(MATCHERS)}") from None
    return factory(**kwargs)
