"""Task registry imported by Celery's autodiscovery: one module per job kind."""

from workers import diagnostics, maintenance, selftest

__all__ = ["diagnostics", "maintenance", "selftest"]
