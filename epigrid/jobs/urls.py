from django.urls import path

from epigrid.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("<uuid:pk>/", views.job_detail, name="job_detail"),
    path("<uuid:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("<uuid:pk>/download/", views.job_download, name="job_download"),
    path("<uuid:pk>/input/", views.job_download, {"which": "input"}, name="job_input"),
    path("<uuid:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("<uuid:pk>/remap/", views.import_remap, name="import_remap"),
    path("import/<slug:ledger>/", views.import_start, name="import_start"),
    path("export/<slug:name>/", views.export_start, name="export_start"),
    path("import/<slug:ledger>/template.xlsx", views.import_template, name="import_template"),
]
