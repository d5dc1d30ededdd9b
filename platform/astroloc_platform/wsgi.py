"""WSGI entry point (gunicorn ``astroloc_platform.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "astroloc_platform.settings")
application = get_wsgi_application()
