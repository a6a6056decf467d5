"""Sample transport pages (/transport/): the board, boxes, labs and the scan page of each step."""

from django.urls import path

from epigrid.transport import board_views, views

app_name = "transport"
urlpatterns = [
    path("", board_views.board, name="board"),
    path("boxes/", views.BoxListView.as_view(), name="box_list"),
    path("boxes/<int:pk>/", views.BoxDetailView.as_view(), name="box_detail"),
    path("boxes/<int:pk>/edit/", views.BoxEditView.as_view(), name="box_edit"),
    path("pack/", views.pack_home, name="pack"),
    path("pack/<int:pk>/", views.pack_box, name="pack_box"),
    path("pack/<int:pk>/<slug:step>/", views.PackStepView.as_view(), name="pack_step"),
    path("pickup/", views.pickup, name="pickup"),
    path("receive/", views.receive_home, name="receive"),
    path("receive/<int:pk>/", views.receive_box, name="receive_box"),
    path("receive/<int:pk>/<slug:step>/", views.ReceiveStepView.as_view(), name="receive_step"),
    path("labs/", views.LabListView.as_view(), name="lab_list"),
    path("labs/add/", views.LabEditView.as_view(), name="lab_add"),
    path("labs/<int:pk>/", views.LabDetailView.as_view(), name="lab_detail"),
    path("labs/<int:pk>/edit/", views.LabEditView.as_view(), name="lab_edit"),
]
