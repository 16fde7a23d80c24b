from django.urls import path

from rewards import views

app_name = "rewards"

urlpatterns = [
    path("", views.run_list, name="runs"),
    path("<int:run_id>/", views.run_detail, name="run"),
    path("<int:run_id>/adjust/", views.add_adjustment, name="adjust"),
    path("<int:run_id>/<str:action>/", views.run_action, name="action"),
    path("<int:run_id>/export/<str:identifier>/", views.request_export, name="export"),
    path("exports/<int:export_id>/progress/", views.export_progress, name="export_progress"),
    path("exports/<int:export_id>/download/", views.export_download, name="export_download"),
    path("statements/staff/<int:staff_id>/", views.staff_statement, name="staff_statement"),
    path("statements/unit/<str:unit_code>/", views.unit_statement, name="unit_statement"),
]
