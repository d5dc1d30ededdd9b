from django.apps import AppConfig


class FootprintsConfig(AppConfig):
    name = "apps.footprints"
    label = "footprints"
    verbose_name = "Footprints"
