"""Antigen self-test pages (/antigen/, app "antigen")."""

from django.urls import path

from epigrid.antigen import views

app_name = "antigen"
urlpatterns = [
    path("", views.AntigenRoundListView.as_view(), name="antigenround_list"),
    path("rounds/add/", views.AntigenRoundEditView.as_view(), name="antigenround_add"),
    path("rounds/<int:pk>/", views.AntigenRoundDetailView.as_view(), name="antigenround_detail"),
    path("rounds/<int:pk>/edit/", views.AntigenRoundEditView.as_view(), name="antigenround_edit"),
    path("rounds/<int:pk>/completion/", views.CompletionView.as_view(), name="completion"),
    path("rounds/<int:pk>/hand-out/", views.HandOutView.as_view(), name="hand_out"),
    path("rounds/<int:pk>/households/<int:household>/", views.HouseholdSheetView.as_view(), name="household"),
    path("kits/", views.KitDistributionListView.as_view(), name="kitdistribution_list"),
    path("kits/<int:pk>/", views.KitDistributionDetailView.as_view(), name="kitdistribution_detail"),
    path("kits/<int:pk>/edit/", views.KitDistributionEditView.as_view(), name="kitdistribution_edit"),
    path("reports/", views.AntigenReportListView.as_view(), name="antigenreport_list"),
    path("reports/<int:pk>/", views.AntigenReportDetailView.as_view(), name="antigenreport_detail"),
    path("reports/<int:pk>/edit/", views.AntigenReportEditView.as_view(), name="antigenreport_edit"),
    path("reports/<int:pk>/photo/", views.AntigenReportPhotoView.as_view(), name="antigenreport_photo"),
    path("followups/", views.AntigenFollowUpListView.as_view(), name="antigenfollowup_list"),
    path("followups/<int:pk>/", views.AntigenFollowUpDetailView.as_view(), name="antigenfollowup_detail"),
    path("followups/<int:pk>/edit/", views.AntigenFollowUpEditView.as_view(), name="antigenfollowup_edit"),
    path(
        "followups/<int:pk>/<slug:move>/",
        views.AntigenFollowUpMoveView.as_view(),
        name="antigenfollowup_move",
    ),
]
