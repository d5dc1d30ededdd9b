"""URLs of the imagery app: the XYZ basemap tiles."""

from django.urls import path, register_converter

from apps.imagery import views

app_name = "imagery"


class TileFormatConverter:
    regex = "png|jpg"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(TileFormatConverter, "tileformat")

urlpatterns = [
    path("tiles/<int:year>/<int:z>/<int:x>/<int:y>.<tileformat:ext>", views.xyz_tile_view, name="xyz-tile"),
]
