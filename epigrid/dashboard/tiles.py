"""The dashboard's figures as data (decision 0032): each tile names the list behind it — its URL
name, the query string, the list's own filterset and model — and its value is counted exactly as
that list counts: `FilterSet(params, queryset=Model.objects.restrict(user, "view")).qs`. The figure
links to the list with the same query string, so the list shows the same number by construction
(NetBox's ObjectCountsWidget). A tile shows only to a user who may open its list.

A tile whose list is not a filtered list of rows (the daily reports' roll-up: units that have not
reported are not rows) names a `counter` instead: the function the list page itself counts with.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.antigen.filtersets import AntigenFollowUpFilterSet
from epigrid.antigen.models import AntigenFollowUp
from epigrid.areas.filtersets import HouseholdFilterSet
from epigrid.areas.models import Household
from epigrid.assistance.filtersets import AssistRequestFilterSet
from epigrid.assistance.models import AssistRequest
from epigrid.checkpoints.filtersets import PassageFilterSet
from epigrid.checkpoints.models import Decision, Passage
from epigrid.control.filtersets import KeyPersonFilterSet
from epigrid.control.models import ZONE_LEVEL_LABELS, Category, KeyPerson, MeasureKind, Zone
from epigrid.control.zone_filtersets import ZoneFilterSet
from epigrid.core.scoping import perm_name
from epigrid.disinfection.filtersets import TaskFilterSet
from epigrid.disinfection.models import Task
from epigrid.enterprises.filtersets import ApplicationFilterSet, EnterpriseFilterSet
from epigrid.enterprises.models import Application, Enterprise
from epigrid.homeservices.filtersets import ServiceRequestFilterSet
from epigrid.homeservices.models import ServiceRequest
from epigrid.isolation.filtersets import RoomFilterSet
from epigrid.isolation.models import Room
from epigrid.markets.filtersets import ClosureFilterSet, PriceAlertFilterSet
from epigrid.markets.models import Closure, PriceAlert
from epigrid.people.filtersets import PersonFilterSet
from epigrid.people.models import Person
from epigrid.reports import services as report_services
from epigrid.reports.models import ReportForm, Submission
from epigrid.results.filtersets import TubeResultFilterSet
from epigrid.results.models import Result, TubeResult
from epigrid.retests import services as retest_services
from epigrid.retests.filtersets import PoolFollowUpFilterSet, RetestTaskFilterSet
from epigrid.retests.models import PoolFollowUp, RetestTask
from epigrid.rosters.filtersets import ShiftFilterSet
from epigrid.rosters.models import Shift
from epigrid.supervision.filtersets import ItemFilterSet
from epigrid.supervision.models import Item
from epigrid.supplies.filtersets import RequisitionFilterSet, StockLevelFilterSet
from epigrid.supplies.models import Requisition, StockLevel
from epigrid.testing.filtersets import TubeFilterSet
from epigrid.testing.models import Tube
from epigrid.tracing.filtersets import CaseFilterSet, ContactFilterSet
from epigrid.tracing.models import Case, Contact
from epigrid.transport.filtersets import BoxFilterSet
from epigrid.transport.models import Box

# Groups, in the order the page shows them.
POPULATION = "population"
KEY_PERSONS = "key_persons"
BY_CATEGORY = "by_category"
BY_MEASURE = "by_measure"
ZONES = "zones"
TESTING = "testing"
OVERDUE = "overdue"
RESOURCES = "resources"
COMMAND = "command"
GROUPS = {
    POPULATION: _("Population"),
    KEY_PERSONS: _("Key persons"),
    BY_CATEGORY: _("Key persons by category"),
    BY_MEASURE: _("Key persons by measure"),
    ZONES: _("Risk zones in force"),
    TESTING: _("Testing today"),
    OVERDUE: _("Overdue and open tasks"),
    RESOURCES: _("Isolation and checkpoints"),
    COMMAND: _("Reports, supervision and duty"),
}

TODAY = object()  # a parameter's value: today's date, as the list's date filter reads it


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    group: str
    url_name: str
    filterset: type
    model: type
    params: dict = field(default_factory=dict)
    # The list's filter that narrows to an area's subtree; None: the list has none, so the tile
    # shows only at the user's own level, never for a drilled-down area.
    area_param: str | None = "area"
    # "danger" and "warning" colour a figure that asks for action when it is not zero.
    tone: str = ""
    # A zone level's tile shows while the protocol in force has that level (第九版: high, medium,
    # low; 第八版: sealed, controlled, precaution).
    zone_level: str | None = None
    # For a list that is not a filterset over rows: (user, today, area or None) -> the number the
    # list page shows, or None when it has no single answer (a user over several separate areas).
    counter: Callable | None = None
    # For a list whose rows are more than restrict() gives (follow-ups reached through a task the
    # user sees): user -> the list's rows before its filters, the very function the list uses.
    rows: Callable | None = None
    # A list of late rows whose each row becomes a supervision item (its category) until it is
    # no longer late (dashboard.findings, decision 0030 addendum).
    finding: str | None = None

    @property
    def perm(self):
        return perm_name(self.model, "view")

    def query(self, today, area=None):
        """The list's query string as (name, [values]) pairs, today's date filled in."""
        pairs = []
        for name, value in self.params.items():
            values = value if isinstance(value, list | tuple) else [value]
            pairs.append((name, [today.isoformat() if v is TODAY else str(v) for v in values]))
        if area is not None and self.area_param:
            pairs.append((self.area_param, [area.code]))
        return pairs


def _keyperson(key, label, group, tone="", **params):
    return Tile(
        key,
        label,
        group,
        "control:keyperson_list",
        KeyPersonFilterSet,
        KeyPerson,
        {"status": "open", **params},
        tone=tone,
    )


TILES = [
    Tile("residents", _("Residents"), POPULATION, "people:person_list", PersonFilterSet, Person),
    Tile("households", _("Households"), POPULATION, "areas:household_list", HouseholdFilterSet, Household),
    _keyperson("keypersons_open", _("Under control"), KEY_PERSONS),
    Tile(
        "keypersons_new_today",
        _("Newly identified today"),
        KEY_PERSONS,
        "control:keyperson_list",
        KeyPersonFilterSet,
        KeyPerson,
        {"identified_after": TODAY, "identified_before": TODAY},
        tone="warning",
    ),
    _keyperson("measures_ending_today", _("Measure ends today"), KEY_PERSONS, measure_ends=TODAY),
    *[
        _keyperson(f"keypersons_{value}", label, BY_CATEGORY, category=value)
        for value, label in Category.choices
    ],
    *[
        _keyperson(f"measure_{value}", label, BY_MEASURE, measure=value)
        for value, label in MeasureKind.choices
    ],
    *[
        Tile(
            f"zones_{level}",
            label,
            ZONES,
            "control:zone_list",
            ZoneFilterSet,
            Zone,
            {"level": level, "in_force": "true"},
            zone_level=level,
        )
        for level, label in ZONE_LEVEL_LABELS.items()
    ],
    Tile(
        "tubes_today",
        _("Tubes sampled"),
        TESTING,
        "testing:tube_list",
        TubeFilterSet,
        Tube,
        {"opened_on": TODAY},
    ),
    Tile(
        "positives_today",
        _("Positive results"),
        TESTING,
        "results:tuberesult_list",
        TubeResultFilterSet,
        TubeResult,
        {"result": Result.POSITIVE, "reported_on": TODAY},
        tone="danger",
    ),
    Tile(
        "pooled_positives_today",
        _("Pooled positive results"),
        TESTING,
        "results:tuberesult_list",
        TubeResultFilterSet,
        TubeResult,
        {"result": Result.POOLED_POSITIVE, "reported_on": TODAY},
        tone="danger",
    ),
    Tile(
        "boxes_on_time_today",
        _("Boxes due today, on time"),
        TESTING,
        "transport:box_list",
        BoxFilterSet,
        Box,
        {"due_on": TODAY, "late": "false"},
    ),
    Tile(
        "boxes_late_today",
        _("Boxes due today, late"),
        TESTING,
        "transport:box_list",
        BoxFilterSet,
        Box,
        {"due_on": TODAY, "late": "true"},
        tone="danger",
    ),
    Tile(
        "pool_followups_open",
        _("Pooled-positive follow-ups open"),
        OVERDUE,
        "retests:poolfollowup_list",
        PoolFollowUpFilterSet,
        PoolFollowUp,
        {"status": PoolFollowUp.Status.OPEN},
        tone="warning",
        rows=retest_services.visible_follow_ups,
    ),
    Tile(
        "retest_tasks_to_hold",
        _("Persons of pooled tubes still to hold"),
        OVERDUE,
        "retests:retesttask_list",
        RetestTaskFilterSet,
        RetestTask,
        {"status": RetestTask.Status.OPEN},
        tone="warning",
    ),
    Tile(
        "tracing_cases_overdue",
        _("Cases past a tracing deadline"),
        OVERDUE,
        "tracing:case_list",
        CaseFilterSet,
        Case,
        {"overdue": "true"},
        tone="danger",
        finding="key_persons",
    ),
    Tile(
        "tracing_contacts_overdue",
        _("Contacts past a deadline"),
        OVERDUE,
        "tracing:contact_list",
        ContactFilterSet,
        Contact,
        {"overdue": "true"},
        tone="danger",
        finding="key_persons",
    ),
    Tile(
        "assistance_overdue",
        _("Assistance requests overdue"),
        OVERDUE,
        "assistance:assistrequest_list",
        AssistRequestFilterSet,
        AssistRequest,
        {"overdue": "true"},
        tone="danger",
        finding="key_persons",
    ),
    Tile(
        "antigen_followups_open",
        _("Antigen positives to follow up"),
        OVERDUE,
        "antigen:antigenfollowup_list",
        AntigenFollowUpFilterSet,
        AntigenFollowUp,
        {"status": AntigenFollowUp.Status.OPEN},
        tone="warning",
    ),
    Tile(
        "isolation_rooms_free",
        _("Free isolation rooms"),
        RESOURCES,
        "isolation:room_list",
        RoomFilterSet,
        Room,
        {"status": Room.Status.FREE},
    ),
    Tile(
        "checkpoint_refusals_today",
        pgettext_lazy("dashboard", "Refused at checkpoints today"),
        RESOURCES,
        "checkpoints:passage_list",
        PassageFilterSet,
        Passage,
        {"day": TODAY, "decision": Decision.REFUSE},
        # The passage list filters by checkpoint, not by area: shown at the user's own level only.
        area_param=None,
        tone="warning",
    ),
]


def _daily_report_figure(name):
    """Today's community daily reports under the area (or the user's one top area): the roll-up
    page's total of `name` ("missing", "late"), counted by the same service the page uses."""

    def count(user, today, area):
        from epigrid.dashboard.services import own_areas  # the services import this registry

        form = ReportForm.objects.filter(code=DAILY_REPORT, active=True).first()
        roots = [area] if area is not None else own_areas(user)
        if form is None or len(roots) != 1:
            return None
        return report_services.totals(report_services.rollup(form, today, roots[0]), form)[name]

    return count


DAILY_REPORT = "community_daily"

TILES += [
    Tile(
        "reports_missing_today",
        _("Daily reports not sent"),
        COMMAND,
        "reports:rollup",
        None,
        Submission,
        {"form": DAILY_REPORT, "day": TODAY},
        tone="warning",
        counter=_daily_report_figure("missing"),
    ),
    Tile(
        "reports_late_today",
        _("Daily reports sent late"),
        COMMAND,
        "reports:rollup",
        None,
        Submission,
        {"form": DAILY_REPORT, "day": TODAY},
        counter=_daily_report_figure("late"),
    ),
    Tile(
        "supervision_open",
        _("Supervision items open"),
        COMMAND,
        "supervision:item_list",
        ItemFilterSet,
        Item,
        {"open": "true"},
    ),
    Tile(
        "supervision_overdue",
        _("Supervision items overdue"),
        COMMAND,
        "supervision:item_list",
        ItemFilterSet,
        Item,
        {"overdue": "true"},
        tone="danger",
    ),
    Tile(
        "roster_shifts_short",
        _("Shifts short of staff, next 24 h"),
        COMMAND,
        "rosters:shift_list",
        ShiftFilterSet,
        Shift,
        {"upcoming": "true", "short": "true"},
        tone="danger",
    ),
    # Shops and markets (decision 0035): price spikes and short stock still to handle, closed points.
    Tile(
        "market_alerts_open",
        _("Price and stock alerts open"),
        COMMAND,
        "markets:pricealert_list",
        PriceAlertFilterSet,
        PriceAlert,
        {"status": "open"},
        tone="warning",
    ),
    Tile(
        "market_points_closed",
        _("Outlets closed"),
        COMMAND,
        "markets:closure_list",
        ClosureFilterSet,
        Closure,
        {"in_force": "true"},
    ),
    # Supplies (decision 0037): stock under its minimum in days, requisitions awaiting approval.
    Tile(
        "supplies_below_min",
        _("Stocks below their minimum"),
        COMMAND,
        "supplies:board",
        StockLevelFilterSet,
        StockLevel,
        {"below_min": "true"},
        tone="danger",
    ),
    Tile(
        "requisitions_waiting",
        _("Requisitions awaiting approval"),
        COMMAND,
        "supplies:requisition_list",
        RequisitionFilterSet,
        Requisition,
        {"status": "submitted"},
        tone="warning",
    ),
]

# Enterprises back to work (decision 0034): how many are back, what waits for review, who is short of PPE.
TILES += [
    Tile(
        "enterprises_permitted",
        _("Enterprises back at work"),
        COMMAND,
        "enterprises:enterprise_list",
        EnterpriseFilterSet,
        Enterprise,
        {"stage": "permitted"},
    ),
    Tile(
        "enterprises_to_review",
        _("Return-to-work applications to review"),
        COMMAND,
        "enterprises:application_list",
        ApplicationFilterSet,
        Application,
        {"status": ["submitted", "conditional", "checked"]},
        tone="warning",
    ),
    Tile(
        "enterprises_ppe_short",
        _("Enterprises below 3 days of PPE"),
        COMMAND,
        "enterprises:enterprise_list",
        EnterpriseFilterSet,
        Enterprise,
        {"ppe_short": "true"},
        tone="danger",
    ),
]

# Resident services for sealed homes (decision 0038): what residents asked for and still wait for.
TILES += [
    Tile(
        "service_requests_open",
        _("Resident service requests open"),
        OVERDUE,
        "homeservices:board",
        ServiceRequestFilterSet,
        ServiceRequest,
        {"open": "true"},
    ),
    Tile(
        "service_requests_overdue",
        _("Resident service requests overdue"),
        OVERDUE,
        "homeservices:board",
        ServiceRequestFilterSet,
        ServiceRequest,
        {"overdue": "true"},
        tone="danger",
    ),
]

# Disinfection (decision 0036): today's coverage as its two counts, the sites due in today's rounds
# and those done, each the disinfection task list's own count (coverage = done ÷ due).
TILES += [
    Tile(
        "disinfection_due_today",
        _("Disinfection sites due today"),
        COMMAND,
        "disinfection:task_list",
        TaskFilterSet,
        Task,
        {"date": TODAY},
    ),
    Tile(
        "disinfection_done_today",
        _("Disinfection sites done today"),
        COMMAND,
        "disinfection:task_list",
        TaskFilterSet,
        Task,
        {"date": TODAY, "status": Task.Status.DONE},
    ),
]

BY_KEY = {tile.key: tile for tile in TILES}
assert len(BY_KEY) == len(TILES), "tile keys must be unique"
