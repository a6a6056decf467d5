"""Daily-report pages (/reports/, app "reports")."""

from django.urls import path

from epigrid.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("today/", views.today, name="today"),
    path("rollup/", views.rollup_page, name="rollup"),
    path("forms/", views.reportform_list, name="reportform_list"),
    path("forms/add/", views.reportform_edit, name="reportform_add"),
    path("forms/<int:pk>/edit/", views.reportform_edit, name="reportform_edit"),
    path("<slug:code>/s/<int:sender_id>/history/", views.history_sender, name="history_sender"),
    path("<slug:code>/s/<int:sender_id>/<str:day>/", views.fill_sender, name="fill_sender"),
    path("<slug:code>/<str:unit_code>/history/", views.history_page, name="history"),
    path("<slug:code>/<str:unit_code>/<str:day>/", views.fill, name="fill"),
]
