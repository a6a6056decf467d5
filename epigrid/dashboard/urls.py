"""dashboard pages (/dashboard/, app "dashboard")."""

from django.urls import path

from epigrid.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.desk, name="desk"),
    path("screen/", views.screen, name="screen"),
    path("data/", views.data, name="data"),
    path("brief.pdf", views.brief, name="brief"),
]
