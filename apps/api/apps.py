from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "api"
    verbose_name = "API (REST v1 and STAC)"

    def ready(self) -> None:
        from apps.api import login_limits, schema  # noqa: F401  (signal receivers; OpenAPI extension)
