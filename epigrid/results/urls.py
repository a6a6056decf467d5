"""Lab results pages (/results/)."""

from django.urls import path

from epigrid.results import views

app_name = "results"
urlpatterns = [
    path("", views.TubeResultListView.as_view(), name="tuberesult_list"),
    path("turnaround/", views.turnaround, name="turnaround"),
    path("<int:pk>/", views.TubeResultDetailView.as_view(), name="tuberesult_detail"),
    # The result's "edit" page is its correction form: results change only through the service.
    path("<int:pk>/correct/", views.correct, name="tuberesult_edit"),
]
