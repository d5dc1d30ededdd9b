"""Pure machine-learning core of AstroLoc: models, losses, data, training, retrieval, matching, geometry.

Imports no Django, DRF, Celery, apps or workers (enforced by import-linter): usable from a CLI alone.
"""
