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
    path("<int:pk>/start/", views.start, name="start"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/sign-off/", views.sign_off, name="sign_off"),
    path("<int:pk>/send-back/", views.send_back, name="send_back"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/photos/", views.add_photos, name="photos"),
    path("photos/<int:pk>/", views.PhotoView.as_view(), name="photo"),
]
