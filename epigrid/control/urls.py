from django.urls import path

from epigrid.control import views

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
    path(
        "<int:pk>/steps/<int:step>/release-early/",
        views.ReleaseEarlyView.as_view(),
        name="measure_release_early",
    ),
]
