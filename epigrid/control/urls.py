from django.urls import path

from epigrid.control import protocol_views, views, zone_views

app_name = "control"
urlpatterns = [
    path("", views.KeyPersonListView.as_view(), name="keyperson_list"),
    path("add/", views.KeyPersonRegisterView.as_view(), name="keyperson_add"),
    path("today/", views.TodayView.as_view(), name="today"),
    path("<int:pk>/", views.KeyPersonDetailView.as_view(), name="keyperson_detail"),
    path("<int:pk>/edit/", views.KeyPersonEditView.as_view(), name="keyperson_edit"),
    path("<int:pk>/checkin/", views.CheckInView.as_view(), name="keyperson_checkin"),
    path("<int:pk>/hand-over/", views.HandOverView.as_view(), name="keyperson_hand_over"),
    path("<int:pk>/release/", views.ReleaseView.as_view(), name="keyperson_release"),
    path("<int:pk>/notice.pdf", views.ReleaseNoticeView.as_view(), name="keyperson_notice"),
    path("<int:pk>/steps/<int:step>/extend/", views.ExtendView.as_view(), name="measure_extend"),
    path("<int:pk>/steps/<int:step>/test/", views.TestRecordView.as_view(), name="measure_test"),
    path("<int:pk>/steps/<int:step>/hospital/", views.HospitalView.as_view(), name="measure_hospital"),
    path(
        "<int:pk>/steps/<int:step>/release-early/",
        views.ReleaseEarlyView.as_view(),
        name="measure_release_early",
    ),
    path("handovers/", views.HandOverListView.as_view(), name="handover_list"),
    path("handovers/<int:pk>/accept/", views.HandOverAnswerView.as_view(accept=True), name="handover_accept"),
    path(
        "handovers/<int:pk>/return/", views.HandOverAnswerView.as_view(accept=False), name="handover_return"
    ),
    path("zones/", zone_views.ZoneListView.as_view(), name="zone_list"),
    path("zones/add/", zone_views.ZoneDrawView.as_view(), name="zone_add"),
    path("zones/<int:pk>/", zone_views.ZoneDetailView.as_view(), name="zone_detail"),
    path("zones/<int:pk>/edit/", zone_views.ZoneEditView.as_view(), name="zone_edit"),
    path("zones/<int:pk>/case/", zone_views.RecordCaseView.as_view(), name="zone_case"),
    path("zones/<int:pk>/apply/", zone_views.ApplyLiftingView.as_view(), name="zone_apply"),
    path("zones/<int:pk>/evaluate/", zone_views.EvaluateLiftingView.as_view(), name="zone_evaluate"),
    path("zones/<int:pk>/approve/", zone_views.ApproveLiftingView.as_view(), name="zone_approve"),
    path("protocols/", protocol_views.ProtocolListView.as_view(), name="protocol_list"),
    path("protocols/<int:pk>/", protocol_views.ProtocolDetailView.as_view(), name="protocol_detail"),
    path(
        "protocols/<int:pk>/activate/",
        protocol_views.ProtocolActivateView.as_view(),
        name="protocol_activate",
    ),
    path(
        "protocols/<int:pk>/new-version/",
        protocol_views.ProtocolFormView.as_view(new=True),
        name="protocol_new_version",
    ),
    path(
        "protocols/<int:pk>/edit/", protocol_views.ProtocolFormView.as_view(new=False), name="protocol_edit"
    ),
]
