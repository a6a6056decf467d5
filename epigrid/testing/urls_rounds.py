"""Rounds, sampling points and desks, tubes and samples (testing.views)."""

from django.urls import path

from epigrid.testing import views

urlpatterns = [
    path("", views.CampaignListView.as_view(), name="campaign_list"),
    path("add/", views.CampaignCreateView.as_view(), name="campaign_add"),
    path("<int:pk>/", views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("<int:pk>/edit/", views.CampaignEditView.as_view(), name="campaign_edit"),
    path("<int:pk>/start/", views.CampaignStepView.as_view(step="start"), name="campaign_start"),
    path("<int:pk>/finish/", views.CampaignStepView.as_view(step="finish"), name="campaign_finish"),
    path("<int:pk>/reopen/", views.CampaignStepView.as_view(step="reopen"), name="campaign_reopen"),
    path("<int:campaign>/points/add/", views.SamplingPointEditView.as_view(), name="samplingpoint_add"),
    path("points/", views.SamplingPointListView.as_view(), name="samplingpoint_list"),
    path("points/<int:pk>/", views.SamplingPointDetailView.as_view(), name="samplingpoint_detail"),
    path("points/<int:pk>/edit/", views.SamplingPointEditView.as_view(), name="samplingpoint_edit"),
    path("points/<int:pk>/desks/add/", views.DeskAddView.as_view(), name="desk_add"),
    # Not "desk_edit": the desk's own page (testing:desk) belongs to the desk flow.
    path("desks/<int:pk>/update/", views.DeskUpdateView.as_view(), name="desk_update"),
    path("tubes/", views.TubeListView.as_view(), name="tube_list"),
    path("tubes/<int:pk>/", views.TubeDetailView.as_view(), name="tube_detail"),
    path("tubes/<int:pk>/close/", views.TubeStepView.as_view(step="close"), name="tube_close"),
    path("tubes/<int:pk>/reopen/", views.TubeStepView.as_view(step="reopen"), name="tube_reopen"),
    path("tubes/<int:pk>/seal/", views.TubeStepView.as_view(step="seal"), name="tube_seal"),
    path("tubes/<int:pk>/move/", views.SampleMoveView.as_view(), name="sample_move"),
]
