"""The sampling desk (采样台): the chooser, the scanning page and its service worker. The worker is
served from under /testing/desk/ so its scope covers the desk pages (and nothing else)."""

from django.urls import path

from epigrid.testing import desk_views

urlpatterns = [
    path("", desk_views.desk_home, name="desk_home"),
    path("sw.js", desk_views.service_worker, name="desk_sw"),
    path("<int:pk>/", desk_views.desk_page, name="desk"),
]
