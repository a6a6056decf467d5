"""Coverage and the sweep: coverage drill-down, missed list, exemptions, finds, home sampling,
pre-formed groups (included under /testing/, app "testing")."""

from django.urls import path

from epigrid.testing import coverage_views, sweep_views

urlpatterns = [
    path("<int:pk>/coverage/", coverage_views.CoverageView.as_view(), name="coverage"),
    path("<int:pk>/missed/", sweep_views.MissedView.as_view(), name="missed"),
    path("<int:pk>/missed/<int:person>/visit/", sweep_views.SweepRecordView.as_view(), name="sweep_record"),
    path("exemptions/", sweep_views.ExemptionListView.as_view(), name="exemption_list"),
    path("exemptions/add/", sweep_views.ExemptionEditView.as_view(), name="exemption_add"),
    path("exemptions/<int:pk>/", sweep_views.ExemptionDetailView.as_view(), name="exemption_detail"),
    path("exemptions/<int:pk>/edit/", sweep_views.ExemptionEditView.as_view(), name="exemption_edit"),
    path("finds/", sweep_views.FindListView.as_view(), name="find_list"),
    path("finds/<int:pk>/", sweep_views.FindDetailView.as_view(), name="find_detail"),
    path("hometasks/", sweep_views.HomeTaskListView.as_view(), name="hometask_list"),
    path("hometasks/<int:pk>/<slug:move>/", sweep_views.HomeTaskStatusView.as_view(), name="hometask_status"),
    path("groups/", sweep_views.GroupListView.as_view(), name="group_list"),
]
