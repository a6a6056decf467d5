from django.urls import path

from epigrid.audit import views

app_name = "audit"
urlpatterns = [path("", views.ObjectChangeListView.as_view(), name="objectchange_list")]
