"""assistance pages (/assistance/, app "assistance")."""

from django.urls import path

from epigrid.assistance import views

app_name = "assistance"
urlpatterns = [
    path("", views.RequestListView.as_view(), name="assistrequest_list"),
    path("requests/add/", views.RequestEditView.as_view(), name="assistrequest_add"),
    path("requests/<int:pk>/", views.RequestDetailView.as_view(), name="assistrequest_detail"),
    path("requests/<int:pk>/edit/", views.RequestEditView.as_view(), name="assistrequest_edit"),
    path("requests/<int:pk>/persons/add/", views.add_person, name="add_person"),
    path("persons/", views.PersonListView.as_view(), name="assistperson_list"),
    path("persons/<int:pk>/", views.PersonDetailView.as_view(), name="assistperson_detail"),
    path("persons/<int:pk>/edit/", views.PersonAssignView.as_view(), name="assistperson_edit"),
    path("persons/<int:pk>/answer/", views.AnswerView.as_view(), name="answer"),
]
