"""Task registry imported by Celery's autodiscovery: one module per job kind."""

from workers import diagnostics, selftest

__all__ = ["diagnostics", "selftest"]
