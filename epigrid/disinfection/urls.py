"""disinfection pages (/disinfection/, app "disinfection")."""

from django.urls import path

from epigrid.disinfection import views

app_name = "disinfection"
urlpatterns = [
    path("", views.RoundListView.as_view(), name="round_list"),
    path("generate/", views.generate, name="generate"),
    path("my/", views.my_tasks, name="my_tasks"),
    path("rounds/<int:pk>/", views.RoundDetailView.as_view(), name="round_detail"),
    path("tasks/", views.TaskListView.as_view(), name="task_list"),
    path("tasks/<int:pk>/", views.TaskDetailView.as_view(), name="task_detail"),
    path("tasks/<int:pk>/complete/", views.complete, name="complete"),
    path("tasks/<int:pk>/photo/", views.task_photo, name="task_photo"),
    path("teams/", views.TeamListView.as_view(), name="team_list"),
    path("teams/add/", views.TeamEditView.as_view(), name="team_add"),
    path("teams/<int:pk>/", views.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<int:pk>/edit/", views.TeamEditView.as_view(), name="team_edit"),
    path("sites/", views.SiteListView.as_view(), name="site_list"),
    path("sites/add/", views.SiteEditView.as_view(), name="site_add"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site_detail"),
    path("sites/<int:pk>/edit/", views.SiteEditView.as_view(), name="site_edit"),
    path("rules/", views.RuleListView.as_view(), name="rule_list"),
    path("rules/add/", views.RuleEditView.as_view(), name="rule_add"),
    path("rules/<int:pk>/", views.RuleDetailView.as_view(), name="rule_detail"),
    path("rules/<int:pk>/edit/", views.RuleEditView.as_view(), name="rule_edit"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehicle_list"),
    path("vehicles/add/", views.VehicleEditView.as_view(), name="vehicle_add"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle_detail"),
    path("vehicles/<int:pk>/edit/", views.VehicleEditView.as_view(), name="vehicle_edit"),
    path("trips/", views.TripListView.as_view(), name="trip_list"),
    path("trips/add/", views.add_trip, name="trip_add"),
    path("trips/<int:pk>/", views.TripDetailView.as_view(), name="trip_detail"),
    path("trips/<int:pk>/hand-over/", views.hand_over, name="hand_over"),
    path("terminals/", views.TerminalListView.as_view(), name="terminal_list"),
    path("terminals/plan/", views.plan_terminal, name="terminal_plan"),
    path("terminals/<int:pk>/", views.TerminalDetailView.as_view(), name="terminal_detail"),
    path("terminals/<int:pk>/notify/", views.TerminalNotifyView.as_view(), name="terminal_notify"),
    path("terminals/<int:pk>/record/", views.TerminalRecordView.as_view(), name="terminal_record"),
    path("terminals/<int:pk>/post/", views.TerminalPostView.as_view(), name="terminal_post"),
    path("terminals/<int:pk>/cancel/", views.TerminalCancelView.as_view(), name="terminal_cancel"),
    path("terminals/<int:pk>/schedule/", views.TerminalScheduleView.as_view(), name="terminal_schedule"),
    path("terminals/<int:pk>/notice-before.pdf", views.terminal_notice_before, name="terminal_notice_before"),
    path("terminals/<int:pk>/notice-after.pdf", views.terminal_notice_after, name="terminal_notice_after"),
]
