from django.urls import path

from epigrid.people import code_views, views

app_name = "people"
urlpatterns = [
    path("", views.PersonListView.as_view(), name="person_list"),
    path("add/", views.PersonEditView.as_view(), name="person_add"),
    path("<int:pk>/", views.PersonDetailView.as_view(), name="person_detail"),
    path("<int:pk>/edit/", views.PersonEditView.as_view(), name="person_edit"),
    path("<int:pk>/reveal/", views.PersonRevealView.as_view(), name="person_reveal"),
    path("<int:pk>/merge/", views.PersonMergeView.as_view(), name="person_merge"),
    path("<int:pk>/code/", code_views.PersonCodeView.as_view(), name="person_code"),
    path("<int:pk>/code.svg", code_views.PersonCodeImageView.as_view(kind="svg"), name="person_code_svg"),
    path("<int:pk>/code.png", code_views.PersonCodeImageView.as_view(kind="png"), name="person_code_png"),
    path("cards/", code_views.HouseholdCardsView.as_view(), name="household_cards"),
]
