"""Task registry imported by Celery's autodiscovery: one module per job kind."""

from workers import diagnostics, embed, ingest, label, localize, maintenance, photo_import, selftest, train

__all__ = ["diagnostics", "embed", "ingest", "label", "localize", "maintenance", "photo_import", "selftest", "train"]
