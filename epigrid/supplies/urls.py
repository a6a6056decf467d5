"""supplies pages (/supplies/, app "supplies")."""

from django.urls import path

from epigrid.supplies import views

app_name = "supplies"
urlpatterns = [
    path("", views.StockBoardView.as_view(), name="board"),
    path("stores/", views.StoreListView.as_view(), name="store_list"),
    path("stores/add/", views.StoreEditView.as_view(), name="store_add"),
    path("stores/<int:pk>/", views.StoreDetailView.as_view(), name="store_detail"),
    path("stores/<int:pk>/edit/", views.StoreEditView.as_view(), name="store_edit"),
    path("stores/<int:pk>/move/", views.move, name="move"),
    path("stores/<int:pk>/levels/", views.set_levels, name="levels"),
    path("items/", views.ItemListView.as_view(), name="item_list"),
    path("items/add/", views.ItemEditView.as_view(), name="item_add"),
    path("items/<int:pk>/", views.ItemDetailView.as_view(), name="item_detail"),
    path("items/<int:pk>/edit/", views.ItemEditView.as_view(), name="item_edit"),
    path("movements/", views.MovementListView.as_view(), name="movement_list"),
    path("requisitions/", views.RequisitionListView.as_view(), name="requisition_list"),
    path("requisitions/add/", views.requisition_add, name="requisition_add"),
    path("requisitions/<int:pk>/", views.RequisitionDetailView.as_view(), name="requisition_detail"),
    path("requisitions/<int:pk>/approve/", views.ApproveView.as_view(), name="approve"),
    path("requisitions/<int:pk>/reject/", views.RejectView.as_view(), name="reject"),
    path("requisitions/<int:pk>/deliver/", views.DeliverView.as_view(), name="deliver"),
    path("requisitions/<int:pk>/receive/", views.ReceiveView.as_view(), name="receive"),
    path("requisitions/<int:pk>/cancel/", views.CancelView.as_view(), name="cancel"),
    path("donations/", views.DonationListView.as_view(), name="donation_list"),
    path("donations/add/", views.donation_add, name="donation_add"),
    path("donations/<int:pk>/", views.DonationDetailView.as_view(), name="donation_detail"),
    path("donations/<int:pk>/allocate/", views.allocate, name="allocate"),
    path("donations/<int:pk>/certificate.pdf", views.donation_certificate, name="certificate"),
    path("allocations/", views.AllocationListView.as_view(), name="allocation_list"),
    path("allocations/table/", views.public_table, name="public_table"),
    path("purchases/", views.PurchaseListView.as_view(), name="purchase_list"),
    path("purchases/add/", views.purchase_add, name="purchase_add"),
    path("purchases/<int:pk>/", views.PurchaseDetailView.as_view(), name="purchase_detail"),
    path("purchases/<int:pk>/edit/", views.PurchaseEditView.as_view(), name="purchase_edit"),
    path("purchases/<int:pk>/approve/", views.PurchaseApproveView.as_view(), name="purchase_approve"),
    path("purchases/<int:pk>/reject/", views.PurchaseRejectView.as_view(), name="purchase_reject"),
    path("purchases/<int:pk>/receive/", views.PurchaseReceiveView.as_view(), name="purchase_receive"),
    path("purchases/<int:pk>/cancel/", views.PurchaseCancelView.as_view(), name="purchase_cancel"),
]
