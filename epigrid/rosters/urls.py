"""Roster pages (/rosters/, app "rosters")."""

from django.urls import path

from epigrid.rosters import views

app_name = "rosters"
urlpatterns = [
    path("", views.roster, name="roster"),
    path("my/", views.my_shifts, name="my_shifts"),
    path("my/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("my/<int:pk>/check-out/", views.check_out, name="check_out"),
    path("hours/", views.hours, name="hours"),
    path("staff/", views.StaffMemberListView.as_view(), name="staffmember_list"),
    path("staff/add/", views.StaffMemberEditView.as_view(), name="staffmember_add"),
    path("staff/<int:pk>/", views.StaffMemberDetailView.as_view(), name="staffmember_detail"),
    path("staff/<int:pk>/edit/", views.StaffMemberEditView.as_view(), name="staffmember_edit"),
    path("staff/<int:pk>/reveal/", views.reveal_phone, name="staffmember_reveal"),
    path("teams/", views.TeamListView.as_view(), name="team_list"),
    path("teams/add/", views.TeamEditView.as_view(), name="team_add"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<int:pk>/edit/", views.TeamEditView.as_view(), name="team_edit"),
    path("posts/", views.PostListView.as_view(), name="post_list"),
    path("posts/add/", views.PostEditView.as_view(), name="post_add"),
    path("posts/<int:pk>/", views.PostDetailView.as_view(), name="post_detail"),
    path("posts/<int:pk>/edit/", views.PostEditView.as_view(), name="post_edit"),
    path("posts/<int:pk>/plan/", views.plan, name="plan"),
    path("shifts/", views.ShiftListView.as_view(), name="shift_list"),
    path("shifts/<int:pk>/", views.ShiftDetailView.as_view(), name="shift_detail"),
    path("shifts/<int:pk>/edit/", views.ShiftEditView.as_view(), name="shift_edit"),
    path("shifts/<int:pk>/assign/", views.assign, name="assign"),
    path("assignments/", views.AssignmentListView.as_view(), name="assignment_list"),
    path("assignments/<int:pk>/remove/", views.unassign, name="unassign"),
]
