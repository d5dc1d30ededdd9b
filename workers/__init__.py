"""Celery tasks: thin glue between the apps' services/selectors and the pure ``ml`` package."""
