"""The REST API under /api/ (the schema itself is at /api/schema/, see config/urls.py)."""

from django.urls import path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

app_name = "api"

urlpatterns = [
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="redoc"),
]
