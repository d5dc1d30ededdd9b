"""Task registry imported by Celery's autodiscovery: one module per job kind."""

from workers import diagnostics, embed, ingest, localize, maintenance, photo_import, selftest

__all__ = ["diagnostics", "embed", "ingest", "localize", "maintenance", "photo_import", "selftest"]
