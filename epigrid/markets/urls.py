"""Shops-and-markets pages (/markets/, app "markets")."""

from django.urls import path

from epigrid.markets import views

app_name = "markets"
urlpatterns = [
    path("", views.OutletListView.as_view(), name="outlet_list"),
    path("outlets/add/", views.OutletEditView.as_view(), name="outlet_add"),
    path("outlets/<int:pk>/", views.OutletDetailView.as_view(), name="outlet_detail"),
    path("outlets/<int:pk>/edit/", views.OutletEditView.as_view(), name="outlet_edit"),
    path("outlets/<int:pk>/reveal/", views.reveal_phone, name="outlet_reveal"),
    path("outlets/<int:pk>/close/", views.CloseView.as_view(), name="outlet_close"),
    path("alerts/", views.PriceAlertListView.as_view(), name="pricealert_list"),
    path("alerts/<int:pk>/", views.PriceAlertDetailView.as_view(), name="pricealert_detail"),
    path("alerts/<int:pk>/handle/", views.HandleAlertView.as_view(), name="pricealert_handle"),
    path("trend/", views.trend, name="trend"),
    path("baselines/", views.BaselineListView.as_view(), name="baseline_list"),
    path("baselines/add/", views.BaselineEditView.as_view(), name="baseline_add"),
    path("baselines/<int:pk>/", views.BaselineDetailView.as_view(), name="baseline_detail"),
    path("baselines/<int:pk>/edit/", views.BaselineEditView.as_view(), name="baseline_edit"),
    path("catalogue/", views.catalogue, name="commodity_list"),
    path("catalogue/add/", views.commodity_edit, name="commodity_add"),
    path("catalogue/<int:pk>/edit/", views.commodity_edit, name="commodity_edit"),
    path("staff/", views.ShopStaffListView.as_view(), name="shopstaff_list"),
    path("staff/add/", views.add_staff, name="shopstaff_add"),
    path("staff/<int:pk>/", views.ShopStaffDetailView.as_view(), name="shopstaff_detail"),
    path("staff/<int:pk>/edit/", views.ShopStaffEditView.as_view(), name="shopstaff_edit"),
    path("inspect/", views.inspect, name="inspect"),
    path("inspections/", views.InspectionListView.as_view(), name="inspection_list"),
    path("inspections/<int:pk>/", views.InspectionDetailView.as_view(), name="inspection_detail"),
    path("inspections/<int:pk>/edit/", views.InspectionEditView.as_view(), name="inspection_edit"),
    path("closures/", views.ClosureListView.as_view(), name="closure_list"),
    path("closures/<int:pk>/", views.ClosureDetailView.as_view(), name="closure_detail"),
    path("closures/<int:pk>/reinspect/", views.ReinspectView.as_view(), name="closure_reinspect"),
    path("wildlife/", views.WildlifeCheckListView.as_view(), name="wildlifecheck_list"),
    path("wildlife/add/", views.WildlifeCheckEditView.as_view(), name="wildlifecheck_add"),
    path("wildlife/<int:pk>/", views.WildlifeCheckDetailView.as_view(), name="wildlifecheck_detail"),
    path("wildlife/<int:pk>/edit/", views.WildlifeCheckEditView.as_view(), name="wildlifecheck_edit"),
]
