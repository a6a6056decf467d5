from django.urls import path

from epigrid.areas import views

app_name = "areas"
urlpatterns = [
    path("", views.AreaTreeView.as_view(), name="area_tree"),
    path("list/", views.AreaListView.as_view(), name="area_list"),
    path("add/", views.AreaEditView.as_view(), name="area_add"),
    path("a/<str:code>/", views.AreaDetailView.as_view(), name="area_detail"),
    path("<int:pk>/edit/", views.AreaEditView.as_view(), name="area_edit"),
    path("<int:pk>/delete/", views.AreaDeleteView.as_view(), name="area_delete"),
    path("buildings/", views.BuildingListView.as_view(), name="building_list"),
    path("buildings/add/", views.BuildingEditView.as_view(), name="building_add"),
    path("buildings/<int:pk>/", views.BuildingDetailView.as_view(), name="building_detail"),
    path("buildings/<int:pk>/edit/", views.BuildingEditView.as_view(), name="building_edit"),
    path("households/", views.HouseholdListView.as_view(), name="household_list"),
    path("households/add/", views.HouseholdEditView.as_view(), name="household_add"),
    path("households/<int:pk>/", views.HouseholdDetailView.as_view(), name="household_detail"),
    path("households/<int:pk>/edit/", views.HouseholdEditView.as_view(), name="household_edit"),
    path("households/<int:pk>/delete/", views.HouseholdDeleteView.as_view(), name="household_delete"),
]
