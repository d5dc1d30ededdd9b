from django.apps import AppConfig


class ImageryConfig(AppConfig):
    name = "apps.imagery"
    label = "imagery"
    verbose_name = "Satellite imagery"
