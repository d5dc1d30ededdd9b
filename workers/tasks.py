"""Task registry imported by Celery's autodiscovery: one module per job kind."""

from workers import chunks, diagnostics, embed, ingest, label, localize, maintenance, photo_import, selftest, train

__all__ = [
    "chunks", "diagnostics", "embed", "ingest", "label", "localize", "maintenance", "photo_import", "selftest", "train",
]
