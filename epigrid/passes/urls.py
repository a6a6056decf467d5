"""passes pages (/passes/, app "passes")."""

from django.urls import path

from epigrid.passes import views

app_name = "passes"
urlpatterns = [
    path("", views.HouseholdPassListView.as_view(), name="householdpass_list"),
    path("add/", views.issue, name="householdpass_add"),
    path("zone/", views.issue_for_zone, name="issue_zone"),
    path("cards.pdf", views.cards, name="cards"),
    path("scan/", views.scan, name="scan"),
    path("uses/", views.PassUseListView.as_view(), name="passuse_list"),
    path("<int:pk>/", views.HouseholdPassDetailView.as_view(), name="householdpass_detail"),
    path("<int:pk>/edit/", views.amend, name="householdpass_edit"),
    path("<int:pk>/revoke/", views.RevokeView.as_view(), name="revoke"),
    path("<int:pk>/card.pdf", views.card, name="card"),
]
