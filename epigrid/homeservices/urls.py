"""Resident services pages (/homeservices/, app "homeservices")."""

from django.urls import path

from epigrid.homeservices import views

app_name = "homeservices"
urlpatterns = [
    path("", views.BoardView.as_view(), name="board"),
    path("mine/", views.mine, name="mine"),
    path("add/", views.RequestCreateView.as_view(), name="request_add"),
    path("<int:pk>/", views.RequestDetailView.as_view(), name="servicerequest_detail"),
    path("<int:pk>/edit/", views.RequestEditView.as_view(), name="servicerequest_edit"),
    path("<int:pk>/start/", views.StartView.as_view(), name="start"),
    path("<int:pk>/done/", views.DoneView.as_view(), name="done"),
    path("<int:pk>/confirm/", views.ConfirmView.as_view(), name="confirm"),
    path("<int:pk>/reopen/", views.ReopenView.as_view(), name="reopen"),
    path("<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("<int:pk>/photo/<str:which>/", views.PhotoView.as_view(), name="photo"),
    path("special/", views.CareListView.as_view(), name="specialcare_list"),
    path("special/add/", views.CareEditView.as_view(), name="specialcare_add"),
    path("special/<int:pk>/", views.CareDetailView.as_view(), name="specialcare_detail"),
    path("special/<int:pk>/edit/", views.CareEditView.as_view(), name="specialcare_edit"),
    path("checks/", views.CheckListView.as_view(), name="check_list"),
    path("checks/<int:pk>/", views.record_check, name="check_record"),
]
