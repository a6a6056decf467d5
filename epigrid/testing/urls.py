"""Mass testing pages. Each part keeps its own URL module: rounds, points and tubes
(`urls_rounds`), coverage and sweeps (`urls_sweeps`), the desk (`urls_desk`)."""

from django.urls import include, path

app_name = "testing"
urlpatterns = [
    path("", include("epigrid.testing.urls_rounds")),
    path("", include("epigrid.testing.urls_sweeps")),
    path("desk/", include("epigrid.testing.urls_desk")),
]
