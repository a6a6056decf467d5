from django.urls import path

from epigrid.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="job_list"),
    path("<uuid:pk>/", views.job_detail, name="job_detail"),
    path("<uuid:pk>/cancel/", views.job_cancel, name="job_cancel"),
    path("<uuid:pk>/download/", views.job_download, name="job_download"),
    path("<uuid:pk>/input/", views.job_download, {"which": "input"}, name="job_input"),
]
