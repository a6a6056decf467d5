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
    path("proposals/", views.ZoneProposalListView.as_view(), name="zoneproposal_list"),
    path("proposals/<int:pk>/", views.ZoneProposalDetailView.as_view(), name="zoneproposal_detail"),
    path("proposals/<int:pk>/<slug:move>/", views.ZoneProposalMoveView.as_view(), name="zoneproposal_move"),
]
