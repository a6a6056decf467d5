"""Isolation site pages (/isolation/, app "isolation")."""

from django.urls import path

from epigrid.isolation import views

app_name = "isolation"
urlpatterns = [
    path("", views.SiteListView.as_view(), name="site_list"),
    path("sites/add/", views.SiteEditView.as_view(), name="site_add"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("sites/<int:pk>/edit/", views.SiteEditView.as_view(), name="site_edit"),
    path("sites/<int:pk>/allocate/", views.allocate, name="allocate"),
    path("sites/<int:pk>/checks/", views.site_checks, name="checks"),
    path("sites/<int:pk>/waste/", views.site_waste, name="site_waste"),
    path("waste/<int:pk>/sign/", views.WasteSignView.as_view(), name="waste_sign"),
    path("rooms/", views.RoomListView.as_view(), name="room_list"),
    path("rooms/add/", views.RoomEditView.as_view(), name="room_add"),
    path("rooms/<int:pk>/", views.RoomDetailView.as_view(), name="room_detail"),
    path("rooms/<int:pk>/edit/", views.RoomEditView.as_view(), name="room_edit"),
    path("rooms/<int:pk>/<slug:move>/", views.RoomMoveView.as_view(), name="room_move"),
    path("stays/", views.StayListView.as_view(), name="stay_list"),
    path("stays/<int:pk>/", views.StayDetailView.as_view(), name="stay_detail"),
    path("stays/<int:pk>/notice.pdf", views.stay_notice, name="stay_notice"),
    path("stays/<int:pk>/receive-home/", views.ReceiveHomeView.as_view(), name="receive_home"),
    path("stays/<int:pk>/test/", views.RecordTestView.as_view(), name="record_test"),
    path("stays/<int:pk>/payer/", views.SetPayerView.as_view(), name="set_payer"),
    path("stays/<int:pk>/<slug:move>/", views.StayMoveView.as_view(), name="stay_move"),
]
