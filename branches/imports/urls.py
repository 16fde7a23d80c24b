"""URLs of the browser imports, included from config/urls.py under imports/."""

from django.urls import path

from branches import batch_views, import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.import_index, name="index"),
    path("decompose/", import_views.decompose_target, name="decompose"),
    path("decompose/<str:token>/", import_views.decompose_preview, name="decompose-preview"),
    path("history/", import_views.figure_history, name="figure-history"),
    path("history/correct/", import_views.figure_correct, name="figure-correct"),
    path("batches/<int:batch_id>/errors/", batch_views.batch_error_file, name="batch-errors"),
    path("preview/<str:token>/", import_views.import_preview, name="preview"),
    path("<slug:kind>/", import_views.import_upload, name="upload"),
]
