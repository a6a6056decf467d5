"""The /api/v1/ router: each app keeps its viewsets in its own api.py; they are registered here,
in one place, so every URL and route name of the API can be read at a glance."""

from rest_framework.routers import DefaultRouter

from epigrid.areas.api import AreaViewSet, BuildingViewSet, HouseholdViewSet
from epigrid.audit.api import ObjectChangeViewSet
from epigrid.control.api import (
    CheckInViewSet,
    ControlMeasureViewSet,
    HandOverViewSet,
    KeyPersonViewSet,
    TestRecordViewSet,
    ZoneViewSet,
)
from epigrid.jobs.api import ExportViewSet, ImportViewSet, JobViewSet
from epigrid.people.api import PersonViewSet
from epigrid.testing.api import CampaignViewSet, FindViewSet, SampleViewSet, SamplingPointViewSet, TubeViewSet

router = DefaultRouter()
router.register("areas", AreaViewSet)
router.register("buildings", BuildingViewSet)
router.register("households", HouseholdViewSet)
router.register("persons", PersonViewSet)
router.register("keypersons", KeyPersonViewSet)
router.register("measures", ControlMeasureViewSet)
router.register("checkins", CheckInViewSet)
router.register("tests", TestRecordViewSet)
router.register("handovers", HandOverViewSet)
router.register("zones", ZoneViewSet)
router.register("campaigns", CampaignViewSet)
router.register("sampling-points", SamplingPointViewSet)
router.register("tubes", TubeViewSet)
router.register("samples", SampleViewSet)
router.register("finds", FindViewSet)
router.register("audit-log", ObjectChangeViewSet, basename="objectchange")
router.register("jobs", JobViewSet, basename="job")
# POST only, on the ledger's or list's own URL: imports/residents/, exports/persons/.
router.register(r"imports/(?P<ledger>[\w-]+)", ImportViewSet, basename="import")
router.register(r"exports/(?P<name>[\w-]+)", ExportViewSet, basename="export")
