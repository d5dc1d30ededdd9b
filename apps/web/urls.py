from django.contrib.auth import views as auth_views
from django.urls import path

from apps.web import views

app_name = "web"

urlpatterns = [
    path("", views.map_view, name="map"),
    path("map/data", views.map_data_view, name="map-data"),
    path("map/dates", views.map_dates_view, name="map-dates"),
    path("photos/<str:photo_id>/", views.photo_detail_view, name="photo"),
    path("upload/", views.upload_view, name="upload"),
    path("batches/<int:pk>/", views.batch_detail_view, name="batch"),
    path("jobs/", views.job_list_view, name="jobs"),
    path("jobs/<int:pk>/", views.job_detail_view, name="job"),
    path("review/", views.review_view, name="review"),
    path("review/<str:photo_id>/", views.review_photo_view, name="review-photo"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="web/login.html", next_page="web:map",
                                                          redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="web:map"), name="logout"),
]
