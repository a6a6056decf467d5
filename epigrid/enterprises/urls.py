"""enterprises pages (/enterprises/, app "enterprises")."""

from django.urls import path

from epigrid.enterprises import views

app_name = "enterprises"
urlpatterns = [
    path("", views.EnterpriseListView.as_view(), name="enterprise_list"),
    path("mine/", views.mine, name="mine"),
    path("phases/", views.phases, name="phases"),
    path("add/", views.EnterpriseEditView.as_view(), name="enterprise_add"),
    path("<int:pk>/", views.EnterpriseDetailView.as_view(), name="enterprise_detail"),
    path("<int:pk>/edit/", views.EnterpriseEditView.as_view(), name="enterprise_edit"),
    path("<int:pk>/reveal/", views.reveal_contact, name="enterprise_reveal"),
    path("<int:pk>/permit.pdf", views.permit_pdf, name="enterprise_permit"),
    path("<int:pk>/employees/add/", views.add_employee, name="add_employee"),
    path("<int:pk>/ppe/", views.set_ppe, name="set_ppe"),
    path("<int:pk>/apply/", views.start_application, name="apply"),
    path("<int:pk>/gate/", views.gate, name="gate"),
    path("employees/", views.EmployeeListView.as_view(), name="employee_list"),
    path("employees/<int:pk>/", views.EmployeeDetailView.as_view(), name="employee_detail"),
    path("employees/<int:pk>/edit/", views.EmployeeEditView.as_view(), name="employee_edit"),
    path("employees/<int:pk>/card/", views.fill_card, name="fill_card"),
    path("employees/<int:pk>/temperature/", views.record_temperature, name="record_temperature"),
    path("employees/<int:pk>/remove/", views.remove_employee, name="remove_employee"),
    path("applications/", views.ApplicationListView.as_view(), name="application_list"),
    path("applications/<int:pk>/", views.ApplicationDetailView.as_view(), name="application_detail"),
    path("applications/<int:pk>/edit/", views.ApplicationEditView.as_view(), name="application_edit"),
    path("applications/<int:pk>/submit/", views.SubmitView.as_view(), name="submit"),
    path("applications/<int:pk>/approve/", views.ApproveView.as_view(), name="approve"),
    path("applications/<int:pk>/check/", views.PassCheckView.as_view(), name="pass_check"),
    path("applications/<int:pk>/permit/", views.IssuePermitView.as_view(), name="issue_permit"),
    path("applications/<int:pk>/refuse/", views.RefuseView.as_view(), name="refuse"),
]
