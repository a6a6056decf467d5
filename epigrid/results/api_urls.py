"""API routes of lab results that hang under other apps' resources (the testing app's tubes, the
people app's persons) without touching their viewsets: included before the router in epigrid/urls.py."""

from django.urls import path

from epigrid.results.api import PersonLatestResultView, TubePersonsView

urlpatterns = [
    path("tubes/<str:barcode>/persons/", TubePersonsView.as_view(), name="tube-persons"),
    path("persons/<int:pk>/latest-result/", PersonLatestResultView.as_view(), name="person-latest-result"),
]
