"""Django project wiring of the AstroLoc platform (settings, urls, wsgi/asgi, the Celery app).

The folder on disk is ``platform/astroloc_platform``: the package is deliberately not called ``platform``,
which would shadow the standard-library module that torch, rasterio and uuid call (docs/design.md s. 5).
"""

from astroloc_platform.celery import app as celery_app

__all__ = ["celery_app"]
