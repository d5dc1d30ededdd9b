"""Task registry imported by Celery's autodiscovery: one module per job kind (+ chunks, GPU worker hooks)."""

from workers import chunks, diagnostics, embed, gpu, ingest, label, localize, maintenance, photo_import, selftest, train

__all__ = [
    "chunks", "diagnostics", "embed", "gpu", "ingest", "label", "localize", "maintenance", "photo_import",
    "selftest", "train",
]
