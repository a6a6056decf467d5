"""Checkpoint pages (/checkpoints/, app "checkpoints")."""

from django.urls import path

from epigrid.checkpoints import views

app_name = "checkpoints"
urlpatterns = [
    path("", views.CheckpointListView.as_view(), name="checkpoint_list"),
    path("add/", views.CheckpointEditView.as_view(), name="checkpoint_add"),
    path("<int:pk>/", views.CheckpointDetailView.as_view(), name="checkpoint_detail"),
    path("<int:pk>/edit/", views.CheckpointEditView.as_view(), name="checkpoint_edit"),
    path("<int:pk>/gate/", views.gate, name="gate"),
    path("my-gate/", views.my_gate, name="my_gate"),
    path("passages/", views.PassageListView.as_view(), name="passage_list"),
    path("passages/<int:pk>/", views.PassageDetailView.as_view(), name="passage_detail"),
    path("passages/<int:pk>/receive/", views.ReceiveView.as_view(), name="receive"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehiclecheck_list"),
    path("shifts/", views.ShiftListView.as_view(), name="shift_list"),
    path("shifts/add/", views.ShiftEditView.as_view(), name="shift_add"),
    path("shifts/<int:pk>/edit/", views.ShiftEditView.as_view(), name="shift_edit"),
    path("stats/", views.stats_page, name="stats"),
]
