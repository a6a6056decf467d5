"""Contact tracing pages (/tracing/, app "tracing")."""

from django.urls import path

from epigrid.tracing import views

app_name = "tracing"
urlpatterns = [
    path("", views.CaseListView.as_view(), name="case_list"),
    path("cases/add/", views.case_add, name="case_add"),
    path("cases/<int:pk>/", views.CaseDetailView.as_view(), name="case_detail"),
    path("cases/<int:pk>/edit/", views.CaseEditView.as_view(), name="case_edit"),
    path("cases/<int:pk>/stops/", views.add_stop, name="add_stop"),
    path("cases/<int:pk>/contacts/", views.add_contact, name="add_contact"),
    path("cases/<int:pk>/building-rule/", views.building_rule, name="building_rule"),
    path("cases/<int:pk>/confirm-all/", views.confirm_all, name="confirm_all"),
    path("cases/<int:pk>/trajectory.pdf", views.trajectory_pdf, name="trajectory_pdf"),
    path("cases/<int:pk>/<slug:move>/", views.CaseMoveView.as_view(), name="case_move"),
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/<int:pk>/<slug:move>/", views.ContactMoveView.as_view(), name="contact_move"),
    path("clusters/", views.ClusterListView.as_view(), name="cluster_list"),
    path("clusters/add/", views.ClusterEditView.as_view(), name="cluster_add"),
    path("clusters/<int:pk>/", views.ClusterDetailView.as_view(), name="cluster_detail"),
    path("clusters/<int:pk>/edit/", views.ClusterEditView.as_view(), name="cluster_edit"),
    path("teams/", views.TeamListView.as_view(), name="team_list"),
    path("teams/add/", views.TeamEditView.as_view(), name="team_add"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<int:pk>/edit/", views.TeamEditView.as_view(), name="team_edit"),
    path("chains/", views.chain_page, name="chain_page"),
    path("chains/data/", views.chain_data, name="chain_data"),
]
