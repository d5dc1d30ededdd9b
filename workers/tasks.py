"""Task registry imported by Celery's autodiscovery: one module per job kind."""

from workers import diagnostics, ingest, label, maintenance, photo_import, selftest, train

__all__ = ["diagnostics", "ingest", "label", "maintenance", "photo_import", "selftest", "train"]
