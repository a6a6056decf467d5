"""Pooled-positive follow-up pages (/retests/, app "retests")."""

from django.urls import path

from epigrid.retests import views

app_name = "retests"
urlpatterns = [
    path("", views.PoolFollowUpListView.as_view(), name="poolfollowup_list"),
    path("<int:pk>/", views.PoolFollowUpDetailView.as_view(), name="poolfollowup_detail"),
    path("tasks/", views.RetestTaskListView.as_view(), name="retesttask_list"),
    path("tasks/<int:pk>/", views.RetestTaskDetailView.as_view(), name="retesttask_detail"),
    path("tasks/<int:pk>/edit/", views.RetestTaskEditView.as_view(), name="retesttask_edit"),
    path("tasks/<int:pk>/<slug:move>/", views.RetestTaskMoveView.as_view(), name="retesttask_move"),
]
