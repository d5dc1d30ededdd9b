"""Who may do what: reads follow photo visibility (in the selectors); writes need a login; operator jobs staff."""

from rest_framework import permissions

from apps.core.constants import JobKind

__all__ = ["OPERATOR_JOB_KINDS", "IsStaffOrReadOnly", "JobPermission"]

# Job kinds only operators start: they load GPUs and change the tile database or the models.
OPERATOR_JOB_KINDS = frozenset({JobKind.INGEST, JobKind.LABEL, JobKind.TRAIN, JobKind.EMBED})


class IsStaffOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


class JobPermission(permissions.BasePermission):
    """Jobs are read by their creator and staff (enforced by the selector); created by logged-in users."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)
