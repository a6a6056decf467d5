"""The /api/v1/ router: each app keeps its viewsets in its own api.py; they are registered here,
in one place, so every URL and route name of the API can be read at a glance."""

from epigrid.antigen.api import (
    AntigenFollowUpViewSet,
    AntigenReportViewSet,
    AntigenRoundViewSet,
    KitDistributionViewSet,
)
from epigrid.areas.api import AreaViewSet, BuildingViewSet, HouseholdViewSet
from epigrid.assistance.api import AssistPersonViewSet, AssistRequestViewSet
from epigrid.audit.api import ObjectChangeViewSet
from epigrid.checkpoints.api import CheckpointViewSet, PassageViewSet, ShiftViewSet, VehicleCheckViewSet
from epigrid.control.api import (
    CheckInViewSet,
    ControlMeasureViewSet,
    HandOverViewSet,
    KeyPersonViewSet,
    TestRecordViewSet,
    ZoneViewSet,
)
from epigrid.core.routers import GroupedRouter
from epigrid.dashboard.api import DashboardViewSet
from epigrid.disinfection.api import (
    DisinfectionRoundViewSet,
    DisinfectionRuleViewSet,
    DisinfectionSiteViewSet,
    DisinfectionTaskViewSet,
    DisinfectionTeamViewSet,
    DisinfectionTerminalViewSet,
    DisinfectionTripViewSet,
    DisinfectionVehicleViewSet,
)
from epigrid.enterprises.api import ApplicationViewSet as EnterpriseApplicationViewSet
from epigrid.enterprises.api import EmployeeViewSet as EnterpriseEmployeeViewSet
from epigrid.enterprises.api import EnterpriseViewSet
from epigrid.enterprises.api import PPEStockViewSet as EnterprisePPEStockViewSet
from epigrid.enterprises.api import TemperatureViewSet as EnterpriseTemperatureViewSet
from epigrid.homeservices.api import ProactiveCheckViewSet, ServiceRequestViewSet, SpecialCareViewSet
from epigrid.isolation.api import ReadingViewSet, RoomViewSet, SiteViewSet, StayViewSet, WasteHandoverViewSet
from epigrid.jobs.api import ExportViewSet, ImportViewSet, JobViewSet
from epigrid.markets.api import (
    BaselineViewSet,
    ClosureViewSet,
    CommodityViewSet,
    InspectionViewSet,
    OutletViewSet,
    PriceAlertViewSet,
    ShopStaffViewSet,
    WildlifeCheckViewSet,
)
from epigrid.passes.api import HouseholdPassViewSet, PassUseViewSet
from epigrid.people.api import PersonViewSet
from epigrid.reports.api import ReportFormViewSet, SubmissionViewSet
from epigrid.results.api import TubeResultViewSet
from epigrid.retests.api import PoolFollowUpViewSet, RetestTaskViewSet, ZoneProposalViewSet
from epigrid.rosters.api import (
    AssignmentViewSet as RosterAssignmentViewSet,
)
from epigrid.rosters.api import (
    PostViewSet as RosterPostViewSet,
)
from epigrid.rosters.api import (
    ShiftViewSet as RosterShiftViewSet,
)
from epigrid.rosters.api import (
    StaffMemberViewSet as RosterStaffViewSet,
)
from epigrid.rosters.api import (
    TeamViewSet as RosterTeamViewSet,
)
from epigrid.supervision.api import ItemViewSet
from epigrid.supplies.api import (
    AllocationViewSet,
    DonationViewSet,
    MovementViewSet,
    PurchaseViewSet,
    RequisitionViewSet,
    StockLevelViewSet,
)
from epigrid.supplies.api import ItemViewSet as SupplyItemViewSet
from epigrid.supplies.api import StoreViewSet as SupplyStoreViewSet
from epigrid.testing.api import CampaignViewSet, FindViewSet, SampleViewSet, SamplingPointViewSet, TubeViewSet
from epigrid.tracing.api import CaseViewSet, ClusterViewSet, ContactViewSet, TeamViewSet
from epigrid.transport.api import BoxViewSet, LabViewSet

router = GroupedRouter()
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
router.register("labs", LabViewSet)
router.register("boxes", BoxViewSet)
router.register("results", TubeResultViewSet)
router.register("antigen-rounds", AntigenRoundViewSet)
router.register("antigen-kits", KitDistributionViewSet)
router.register("antigen-reports", AntigenReportViewSet)
router.register("antigen-followups", AntigenFollowUpViewSet)
router.register("retest-followups", PoolFollowUpViewSet)
router.register("retest-tasks", RetestTaskViewSet)
router.register("zone-proposals", ZoneProposalViewSet)
router.register("isolation-sites", SiteViewSet)
router.register("isolation-rooms", RoomViewSet)
router.register("isolation-stays", StayViewSet)
router.register("isolation-readings", ReadingViewSet)
router.register("assist-requests", AssistRequestViewSet)
router.register("assist-persons", AssistPersonViewSet)
router.register("isolation-waste-handovers", WasteHandoverViewSet)
router.register("checkpoints", CheckpointViewSet)
router.register("checkpoint-shifts", ShiftViewSet)
router.register("vehicle-checks", VehicleCheckViewSet)
router.register("passages", PassageViewSet)
router.register("tracing-teams", TeamViewSet)
router.register("tracing-clusters", ClusterViewSet)
router.register("tracing-cases", CaseViewSet)
router.register("tracing-contacts", ContactViewSet)
router.register("passes", HouseholdPassViewSet)
router.register("pass-uses", PassUseViewSet)
router.register("report-forms", ReportFormViewSet)
router.register("reports", SubmissionViewSet)
router.register("supervision-items", ItemViewSet)
router.register("disinfection-teams", DisinfectionTeamViewSet, basename="disinfection-team")
router.register("disinfection-sites", DisinfectionSiteViewSet, basename="disinfection-site")
router.register("disinfection-rules", DisinfectionRuleViewSet, basename="disinfection-rule")
router.register("disinfection-rounds", DisinfectionRoundViewSet, basename="disinfection-round")
router.register("disinfection-tasks", DisinfectionTaskViewSet, basename="disinfection-task")
router.register("disinfection-vehicles", DisinfectionVehicleViewSet, basename="disinfection-vehicle")
router.register("disinfection-trips", DisinfectionTripViewSet, basename="disinfection-trip")
router.register("disinfection-terminals", DisinfectionTerminalViewSet, basename="disinfection-terminal")
router.register("roster-staff", RosterStaffViewSet, basename="roster-staff")
router.register("roster-teams", RosterTeamViewSet, basename="roster-team")
router.register("roster-posts", RosterPostViewSet, basename="roster-post")
router.register("roster-shifts", RosterShiftViewSet, basename="roster-shift")
router.register("roster-assignments", RosterAssignmentViewSet, basename="roster-assignment")
router.register("market-items", CommodityViewSet, basename="market-item")
router.register("market-outlets", OutletViewSet, basename="market-outlet")
router.register("market-baselines", BaselineViewSet, basename="market-baseline")
router.register("market-alerts", PriceAlertViewSet, basename="market-alert")
router.register("market-staff", ShopStaffViewSet, basename="market-staff")
router.register("market-inspections", InspectionViewSet, basename="market-inspection")
router.register("market-closures", ClosureViewSet, basename="market-closure")
router.register("market-wildlife", WildlifeCheckViewSet, basename="market-wildlife")
router.register("supply-items", SupplyItemViewSet, basename="supply-item")
router.register("supply-stores", SupplyStoreViewSet, basename="supply-store")
router.register("stock-levels", StockLevelViewSet, basename="stock-level")
router.register("stock-movements", MovementViewSet, basename="stock-movement")
router.register("requisitions", RequisitionViewSet, basename="requisition")
router.register("donations", DonationViewSet, basename="donation")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("purchases", PurchaseViewSet, basename="purchase")
router.register("enterprises", EnterpriseViewSet)
router.register("enterprise-employees", EnterpriseEmployeeViewSet)
router.register("enterprise-applications", EnterpriseApplicationViewSet)
router.register("enterprise-temperatures", EnterpriseTemperatureViewSet)
router.register("enterprise-ppe", EnterprisePPEStockViewSet)
router.register("audit-log", ObjectChangeViewSet, basename="objectchange")
router.register("jobs", JobViewSet, basename="job")
# POST only, on the ledger's or list's own URL: imports/residents/, exports/persons/.
router.register(r"imports/(?P<ledger>[\w-]+)", ImportViewSet, basename="import")
router.register(r"exports/(?P<name>[\w-]+)", ExportViewSet, basename="export")
# The dashboard's tiles (decision 0032): every figure with the URL of the list behind it.
router.register("dashboard", DashboardViewSet, basename="dashboard")
router.register("service-requests", ServiceRequestViewSet)
router.register("special-groups", SpecialCareViewSet)
router.register("proactive-checks", ProactiveCheckViewSet)
