"""supervision pages (/supervision/, app "supervision")."""

from django.urls import path

from epigrid.supervision import views

app_name = "supervision"
urlpatterns = [
    path("", views.ItemListView.as_view(), name="item_list"),
    path("mine/", views.mine, name="mine"),
    path("stats/", views.stats, name="stats"),
    path("add/", views.RaiseView.as_view(), name="item_add"),
    path("<int:pk>/", views.ItemDetailView.as_view(), name="item_detail"),
    path("<int:pk>/edit/", views.AssignView.as_view(), name="item_edit"),
    path("<int:pk>/start/", views.StartView.as_view(), name="start"),
    path("<int:pk>/submit/", views.SubmitView.as_view(), name="submit"),
    path("<int:pk>/sign-off/", views.SignOffView.as_view(), name="sign_off"),
    path("<int:pk>/send-back/", views.SendBackView.as_view(), name="send_back"),
    path("<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("<int:pk>/photos/", views.AddPhotosView.as_view(), name="photos"),
    path("photos/<int:pk>/", views.PhotoView.as_view(), name="photo"),
]
