"""Roles and the permissions each carries. A user's power is (role, area) grants: the role says
what, the area subtree says where (docs/decisions/0002-roles-in-code.md)."""

from django.utils.translation import gettext_lazy as _

FOUNDATION_MODELS = ("areas.area", "areas.building", "areas.household", "people.person")


def _perms(*specs):
    """'view:areas.area' -> 'areas.view_area'."""
    out = set()
    for spec in specs:
        action, model = spec.split(":")
        app, name = model.split(".")
        out.add(f"{app}.{action}_{name}")
    return frozenset(out)


CONTROL_MODELS = (
    "control.keyperson",
    "control.controlmeasure",
    "control.checkin",
    "control.testrecord",
    "control.zone",
    "control.handover",
)

TESTING_MODELS = (
    "testing.campaign",
    "testing.samplingpoint",
    "testing.desk",
    "testing.tube",
    "testing.sample",
    "testing.sampledperson",
    "testing.exemption",
    "testing.find",
    "testing.sweepvisit",
    "testing.hometask",
    "testing.group",
)
TRANSPORT_MODELS = ("transport.lab", "transport.box")
ANTIGEN_MODELS = (
    "antigen.antigenround",
    "antigen.kitdistribution",
    "antigen.antigenreport",
    "antigen.antigenfollowup",
)
VIEW_ANTIGEN = [f"view:{m}" for m in ANTIGEN_MODELS]
# Door-to-door work of an antigen round (decision 0021): hand kits out, record results, arrange
# the nucleic-acid follow-up of a positive. Rounds are drawn by a street or above.
ANTIGEN_FIELD_WORK = [
    "add:antigen.kitdistribution",
    "change:antigen.kitdistribution",
    "add:antigen.antigenreport",
    "change:antigen.antigenreport",
    "change:antigen.antigenfollowup",
]
RUN_ANTIGEN_ROUNDS = ["add:antigen.antigenround", "change:antigen.antigenround"]
# Roles posted somewhere: on models that declare a `scope_binding` (core.scoping) their grants
# reach only the posts the user is on (a sampler scans only at the points they staff, a lab's
# staff see only the boxes heading to their lab).
BOUND_ROLES = frozenset(
    {
        "sampler",
        "lab_staff",
        "isolation_staff",
        "tracer",
        "checkpoint_staff",
        "duty_staff",
        "warehouse_keeper",
        "volunteer",
        "enterprise_contact",
        "disinfection_leader",
    }
)

VIEW_REGISTRY = [f"view:{m}" for m in FOUNDATION_MODELS]
EDIT_RESIDENTS = [f"{a}:{m}" for a in ("add", "change") for m in FOUNDATION_MODELS[1:]]
VIEW_CONTROL = [f"view:{m}" for m in CONTROL_MODELS]
# Zones are drawn by the command centre and the street, not by communities and grids.
EDIT_CONTROL = [f"{a}:{m}" for a in ("add", "change") for m in CONTROL_MODELS if m != "control.zone"]
EDIT_ZONES = ["add:control.zone", "change:control.zone"]
# The REST API and its (English) Swagger page serve integrations: the command centre and the system
# administrators set them up; field roles work in the pages and are not shown it.
USE_API = ["use:epigrid.api"]
VIEW_TESTING = [f"view:{m}" for m in TESTING_MODELS]
# Field work of a round in a grid: coverage, sweeps, exemptions, unregistered finds, home sampling.
SWEEP = [
    "add:testing.exemption",
    "change:testing.exemption",
    "add:testing.sweepvisit",
    "change:testing.find",
    "change:testing.hometask",
]
# Setting up points and desks, and putting samples right (moves, voids) at a community or above.
RUN_POINTS = [
    *[f"{a}:testing.{m}" for a in ("add", "change") for m in ("samplingpoint", "desk", "group", "hometask")],
    "change:testing.sample",
    "change:testing.tube",
    "delete:testing.exemption",
]
RUN_CAMPAIGNS = ["add:testing.campaign", "change:testing.campaign"]
# Sample transport 样本转运 (docs/decisions/0020): each custody step is its own permission, held by
# whoever signs it — packing (open, tubes in and out, seal) by the samplers posted at the box's
# point, pick-up by a courier of the area, receipt by the staff of the box's lab. Sending a box to
# another lab and keeping the list of labs is the command centre's.
VIEW_TRANSPORT = [f"view:{m}" for m in TRANSPORT_MODELS]
PACK_BOXES = ["add:transport.box", "pack:transport.box"]
RUN_LABS = ["add:transport.lab", "change:transport.lab", "change:transport.box"]
# Lab results 检测结果 (docs/decisions/0022): a lab's staff record results of the tubes delivered
# to their lab and correct them with a reason (bound: only their lab's results); the command
# centre, streets and communities follow them by the sampling point's area. Grid workers see a
# result only through their persons (people.view_person), samplers not at all.
VIEW_RESULTS = ["view:results.tuberesult"]
RECORD_RESULTS = ["add:results.tuberesult", "change:results.tuberesult"]
# Pooled-positive follow-up 混阳处置 (docs/decisions/0023): grid workers, communities and streets hold
# and retest the persons of their area; the command centre follows; labs and samplers see none.
RETEST_MODELS = ("retests.poolfollowup", "retests.retesttask", "retests.zoneproposal")
VIEW_RETESTS = [f"view:{m}" for m in RETEST_MODELS]
RETEST_FIELD_WORK = ["change:retests.retesttask"]
DECIDE_ZONE_PROPOSALS = ["change:retests.zoneproposal"]

# Centralized isolation sites 集中隔离点 (docs/decisions/0024): the command centre keeps the sites and
# rooms and allocates rooms; a site's staff (bound: only the sites they staff) allocate, check in,
# check out, transfer and clean; streets and communities follow the sites of their area.
ISOLATION_MODELS = (
    "isolation.site",
    "isolation.room",
    "isolation.stay",
    "isolation.reading",
    "isolation.wastehandover",
)
VIEW_ISOLATION = [f"view:{m}" for m in ISOLATION_MODELS]
RUN_SITES = ["add:isolation.site", "change:isolation.site", "add:isolation.room", "change:isolation.room"]
# Temperatures at the site (twice a day): recorded by the site's staff, corrected by re-recording the
# same check (the add right covers it: the slot's row is the one record).
# Medical-waste handovers: recorded (the staff signs) and countersigned by the collector on site.
SITE_WORK = [
    "add:isolation.stay",
    "change:isolation.stay",
    "change:isolation.room",
    "add:isolation.reading",
    "add:isolation.wastehandover",
    "change:isolation.wastehandover",
]

# Contact tracing 流调 (docs/decisions/0025): tracing teams (bound: a tracer reaches only the cases of
# the teams they are on) investigate cases, record trajectories and contacts and confirm contacts
# into the key-person ledger; the command centre forms teams and follows every case; streets and
# communities follow the cases and contacts of their area.
TRACING_MODELS = ("tracing.team", "tracing.case", "tracing.contact", "tracing.cluster")
VIEW_TRACING = [f"view:{m}" for m in TRACING_MODELS]
TRACE = [f"{a}:{m}" for a in ("add", "change") for m in TRACING_MODELS if m != "tracing.team"]
RUN_TEAMS = ["add:tracing.team", "change:tracing.team"]
# Assistance requests 协查 from other cities: the command centre and streets receive them (enter or
# import the list); streets, communities and grid workers find each person and answer.
ASSIST_MODELS = ("assistance.assistrequest", "assistance.assistperson")
VIEW_ASSIST = [f"view:{m}" for m in ASSIST_MODELS]
RECEIVE_ASSIST = [
    "add:assistance.assistrequest",
    "change:assistance.assistrequest",
    "add:assistance.assistperson",
]
ANSWER_ASSIST = ["change:assistance.assistperson"]

# Checkpoints 卡口 (docs/decisions/0027): staff posted at a checkpoint (bound: only the posts they
# staff) record passages of persons and vehicles; the command centre and streets set checkpoints and
# shifts up; communities receive the arrivals handed to them (through the key-person ledger's rights).
CHECKPOINT_MODELS = (
    "checkpoints.checkpoint",
    "checkpoints.shift",
    "checkpoints.vehiclecheck",
    "checkpoints.passage",
)
VIEW_CHECKPOINTS = [f"view:{m}" for m in CHECKPOINT_MODELS]
RUN_CHECKPOINTS = [f"{a}:checkpoints.{m}" for a in ("add", "change") for m in ("checkpoint", "shift")]
RECORD_PASSAGES = ["add:checkpoints.passage", "add:checkpoints.vehiclecheck"]
# Household passes 临时出入证 (docs/decisions/0028): issued by communities and streets for households in
# controlled areas; checked (a use recorded) by gate staff.
PASS_MODELS = ("passes.householdpass", "passes.passuse")
VIEW_PASSES = [f"view:{m}" for m in PASS_MODELS]
ISSUE_PASSES = ["add:passes.householdpass", "change:passes.householdpass"]
USE_PASSES = ["add:passes.passuse"]
# Staff, volunteers and duty rosters 排班 (docs/decisions/0031): communities, streets and the command
# centre keep their staff and teams and plan their posts' shifts; grid workers see who is on duty;
# a member with an account (role `duty_staff`, bound to their own assignments) sees and checks in
# to their own shifts.
ROSTER_MODELS = ("rosters.staffmember", "rosters.team", "rosters.post", "rosters.shift", "rosters.assignment")
VIEW_ROSTERS = [f"view:{m}" for m in ROSTER_MODELS]
PLAN_ROSTERS = [f"{a}:{m}" for a in ("add", "change") for m in ROSTER_MODELS] + ["delete:rosters.assignment"]
CHECK_IN_DUTY = ["checkin:rosters.assignment"]

# Daily reports 日报告 and zero reports 零报告 (docs/decisions/0029): communities send them; streets,
# districts and auditors follow the roll-up of their subtree; system administrators keep the forms.
# Grid workers do not send: the community secretary answers for the community.
REPORT_MODELS = ("reports.reportform", "reports.submission")
VIEW_REPORTS = ["view:reports.reportform", "view:reports.submission"]
SEND_REPORTS = ["add:reports.submission", "change:reports.submission"]
# Supervision 督导 to sign-off 销号 (docs/decisions/0030): the command centre, streets and communities
# raise items (a community for its grids) and sign them off at their level or above; any official
# may be the responsible person who rectifies and submits the evidence.
SUPERVISION_MODELS = ("supervision.item",)
VIEW_SUPERVISION = ["view:supervision.item"]
RAISE_ITEMS = ["add:supervision.item", "signoff:supervision.item"]
RECTIFY_ITEMS = ["change:supervision.item"]
# Shops and markets 保供稳价 (docs/decisions/0035): streets and communities keep their outlets, the
# staff ledgers and the wildlife ledger and follow the price alerts; the command centre sets the
# catalogue's thresholds and the baselines; the market inspector (市场监管员, area-granted) inspects,
# closes live-poultry points and re-inspects them. Outlets send their daily report through reports.
MARKET_MODELS = (
    "markets.outlet",
    "markets.baseline",
    "markets.pricealert",
    "markets.shopstaff",
    "markets.inspection",
    "markets.closure",
    "markets.wildlifecheck",
)
VIEW_MARKETS = [f"view:{m}" for m in MARKET_MODELS]
KEEP_OUTLETS = [
    "add:markets.outlet",
    "change:markets.outlet",
    "add:markets.shopstaff",
    "change:markets.shopstaff",
    "add:markets.wildlifecheck",
    "change:markets.wildlifecheck",
    "change:markets.pricealert",
]
SET_BASELINES = ["add:markets.baseline", "change:markets.baseline", "change:markets.commodity", "add:markets.commodity"]
INSPECT_MARKETS = [
    "add:markets.inspection",
    "change:markets.inspection",
    "add:markets.closure",
    "change:markets.closure",
    "add:markets.wildlifecheck",
    "change:markets.wildlifecheck",
]

# Supplies and donations 物资与捐赠 (docs/decisions/0037): a warehouse keeper (bound: only the stores
# they keep) receives, issues, counts and transfers stock, asks for supplies (申领), delivers from and
# receives at their stores; communities run their posts' stores the same way; the level above
# approves requisitions (district and street officers); districts and streets register donations,
# allocate them with a reason and buy goods with donated money (one proposes, another approves and
# pays; the store receiving the goods receives them); grid workers and auditors follow.
SUPPLY_MODELS = (
    "supplies.item",
    "supplies.store",
    "supplies.stocklevel",
    "supplies.movement",
    "supplies.requisition",
    "supplies.donation",
    "supplies.allocation",
    "supplies.purchase",
)
# Donated money and what it paid for (purchases 采购) are read with the donations.
DONATION_MODELS = ("supplies.donation", "supplies.allocation", "supplies.purchase")
VIEW_SUPPLIES = [f"view:{m}" for m in SUPPLY_MODELS if m not in DONATION_MODELS]
VIEW_DONATIONS = [f"view:{m}" for m in DONATION_MODELS]
KEEP_STORES = [
    "add:supplies.movement",
    "change:supplies.stocklevel",
    "add:supplies.requisition",
    "change:supplies.requisition",
    "deliver:supplies.requisition",
    "receive:supplies.requisition",
    "receive:supplies.purchase",
]
RUN_STORES = ["add:supplies.store", "change:supplies.store", "add:supplies.item", "change:supplies.item"]
APPROVE_REQUISITIONS = ["approve:supplies.requisition"]
TAKE_DONATIONS = [
    "add:supplies.donation",
    "add:supplies.allocation",
    "add:supplies.purchase",
    "change:supplies.purchase",
    "approve:supplies.purchase",
]
# Resident services for sealed homes 居民服务 (docs/decisions/0038): grid workers and communities take
# requests, work on them and keep the special-groups register with its visits and calls;
# communities, streets and the command centre assign them; a volunteer (bound: only the requests
# assigned to them) does the work from the phone page.
HOMESERVICE_MODELS = ("homeservices.servicerequest", "homeservices.specialcare", "homeservices.proactivecheck")
VIEW_HOMESERVICES = [f"view:{m}" for m in HOMESERVICE_MODELS]
TAKE_REQUESTS = [
    "add:homeservices.servicerequest",
    "change:homeservices.servicerequest",
    "add:homeservices.specialcare",
    "change:homeservices.specialcare",
    "change:homeservices.proactivecheck",
]
ASSIGN_REQUESTS = ["assign:homeservices.servicerequest"]

# Enterprises and sites back to work 复工复产 (docs/decisions/0034): an enterprise's contact (bound:
# only the enterprises whose contacts they are) keeps its roster, cards, gate temperatures and PPE
# and applies; communities and streets keep the register and review the applications of their
# subtree (conditional approval, on-site check, permit, refusal); the command centre follows and
# reviews; grid workers and auditors follow.
ENTERPRISE_MODELS = (
    "enterprises.enterprise",
    "enterprises.application",
    "enterprises.employee",
    "enterprises.employeecard",
    "enterprises.temperaturereading",
    "enterprises.ppestock",
)
VIEW_ENTERPRISES = [f"view:{m}" for m in ENTERPRISE_MODELS]
# The enterprise's own work: roster, cards, temperatures at the gate, PPE, its application.
RUN_ENTERPRISE = [
    "change:enterprises.enterprise",
    *[f"{a}:{m}" for a in ("add", "change") for m in ENTERPRISE_MODELS[1:]],
]
KEEP_ENTERPRISES = ["add:enterprises.enterprise", "change:enterprises.enterprise", *RUN_ENTERPRISE]
REVIEW_APPLICATIONS = ["review:enterprises.application"]
# The phases of the return (class → earliest date) are the command centre's rule.
SET_PHASES = ["add:enterprises.phase", "change:enterprises.phase"]

# Disinfection 消杀 (docs/decisions/0036): the command centre, streets and communities keep the sites,
# rules, teams and vehicles, generate rounds and plan terminal disinfections; a team leader (role
# `disinfection_leader`, bound to the teams they lead) completes their team's tasks, records their
# vehicles' trips and handovers and works their terminal disinfections; grid workers follow.
DISINFECTION_MODELS = (
    "disinfection.team",
    "disinfection.site",
    "disinfection.rule",
    "disinfection.round",
    "disinfection.task",
    "disinfection.vehicle",
    "disinfection.trip",
    "disinfection.terminal",
)
VIEW_DISINFECTION = [f"view:{m}" for m in DISINFECTION_MODELS]
PLAN_DISINFECTION = [f"{a}:{m}" for a in ("add", "change") for m in DISINFECTION_MODELS if m != "disinfection.task"]
DISINFECTION_WORK = [
    "change:disinfection.task",
    "add:disinfection.trip",
    "change:disinfection.trip",
    "change:disinfection.terminal",
]

ROLES = {
    "district_commander": (
        _("District commander"),
        _perms(
            *VIEW_REGISTRY,
            *VIEW_CONTROL,
            "reveal:people.person",
            "view:audit.objectchange",
            *EDIT_ZONES,
            "evaluate:control.zone",
            "approve:control.zone",
            *VIEW_TESTING,
            *RUN_CAMPAIGNS,
            *RUN_POINTS,
            *VIEW_TRANSPORT,
            *RUN_LABS,
            *VIEW_ANTIGEN,
            *VIEW_RESULTS,
            *VIEW_RETESTS,
            *VIEW_ISOLATION,
            *RUN_SITES,
            *SITE_WORK,
            *USE_API,
            *VIEW_TRACING,
            *RUN_TEAMS,
            *TRACE,
            *VIEW_ASSIST,
            *RECEIVE_ASSIST,
            *ANSWER_ASSIST,
            *VIEW_CHECKPOINTS,
            *RUN_CHECKPOINTS,
            *VIEW_PASSES,
            *VIEW_REPORTS,
            *VIEW_SUPERVISION,
            *RAISE_ITEMS,
            *RECTIFY_ITEMS,
            *VIEW_ROSTERS,
            *PLAN_ROSTERS,
            *VIEW_MARKETS,
            *SET_BASELINES,
            "change:markets.pricealert",
            *VIEW_SUPPLIES,
            *VIEW_DONATIONS,
            *RUN_STORES,
            *KEEP_STORES,
            *APPROVE_REQUISITIONS,
            *TAKE_DONATIONS,
            *VIEW_HOMESERVICES,
            *ASSIGN_REQUESTS,
            *VIEW_ENTERPRISES,
            *REVIEW_APPLICATIONS,
            *SET_PHASES,
            *VIEW_DISINFECTION,
            *PLAN_DISINFECTION,
            *DISINFECTION_WORK,
        ),
    ),
    "street_officer": (
        _("Street officer"),
        _perms(
            *VIEW_REGISTRY,
            *EDIT_RESIDENTS,
            *VIEW_CONTROL,
            *EDIT_CONTROL,
            "reveal:people.person",
            *EDIT_ZONES,
            "apply:control.zone",
            *VIEW_TESTING,
            *RUN_CAMPAIGNS,
            *RUN_POINTS,
            *SWEEP,
            *VIEW_TRANSPORT,
            *VIEW_ANTIGEN,
            *RUN_ANTIGEN_ROUNDS,
            *ANTIGEN_FIELD_WORK,
            *VIEW_RESULTS,
            *VIEW_RETESTS,
            *RETEST_FIELD_WORK,
            *DECIDE_ZONE_PROPOSALS,
            *VIEW_ISOLATION,
            *VIEW_TRACING,
            *VIEW_ASSIST,
            *RECEIVE_ASSIST,
            *ANSWER_ASSIST,
            *VIEW_CHECKPOINTS,
            *RUN_CHECKPOINTS,
            *VIEW_PASSES,
            *ISSUE_PASSES,
            *VIEW_REPORTS,
            *VIEW_SUPERVISION,
            *RAISE_ITEMS,
            *RECTIFY_ITEMS,
            *VIEW_ROSTERS,
            *PLAN_ROSTERS,
            *VIEW_MARKETS,
            *KEEP_OUTLETS,
            *INSPECT_MARKETS,
            "add:markets.baseline",
            "change:markets.baseline",
            *VIEW_SUPPLIES,
            *VIEW_DONATIONS,
            *RUN_STORES,
            *KEEP_STORES,
            *APPROVE_REQUISITIONS,
            *TAKE_DONATIONS,
            *VIEW_HOMESERVICES,
            *ASSIGN_REQUESTS,
            *VIEW_ENTERPRISES,
            *KEEP_ENTERPRISES,
            *REVIEW_APPLICATIONS,
            *VIEW_DISINFECTION,
            *PLAN_DISINFECTION,
            *DISINFECTION_WORK,
        ),
    ),
    "community_officer": (
        _("Community officer"),
        _perms(
            *VIEW_REGISTRY,
            *EDIT_RESIDENTS,
            *VIEW_CONTROL,
            *EDIT_CONTROL,
            "delete:areas.household",
            "reveal:people.person",
            "merge:people.person",
            *VIEW_TESTING,
            *RUN_POINTS,
            *SWEEP,
            *VIEW_TRANSPORT,
            *VIEW_ANTIGEN,
            *ANTIGEN_FIELD_WORK,
            *VIEW_RESULTS,
            *VIEW_RETESTS,
            *RETEST_FIELD_WORK,
            *VIEW_ISOLATION,
            *VIEW_TRACING,
            *VIEW_ASSIST,
            *ANSWER_ASSIST,
            *VIEW_CHECKPOINTS,
            *VIEW_PASSES,
            *ISSUE_PASSES,
            *VIEW_REPORTS,
            *SEND_REPORTS,
            *VIEW_SUPERVISION,
            *RAISE_ITEMS,
            *RECTIFY_ITEMS,
            *VIEW_ROSTERS,
            *PLAN_ROSTERS,
            *VIEW_MARKETS,
            *KEEP_OUTLETS,
            *VIEW_SUPPLIES,
            *VIEW_DONATIONS,
            *KEEP_STORES,
            *VIEW_HOMESERVICES,
            *TAKE_REQUESTS,
            *ASSIGN_REQUESTS,
            *VIEW_ENTERPRISES,
            *KEEP_ENTERPRISES,
            *REVIEW_APPLICATIONS,
            *VIEW_DISINFECTION,
            *PLAN_DISINFECTION,
            *DISINFECTION_WORK,
        ),
    ),
    "grid_worker": (
        _("Grid worker"),
        _perms(
            *VIEW_REGISTRY,
            *EDIT_RESIDENTS,
            *VIEW_CONTROL,
            *EDIT_CONTROL,
            # Rounds, coverage and the sweep of their grid; samples stay with the points.
            "view:testing.campaign",
            "view:testing.sampledperson",
            "view:testing.exemption",
            "view:testing.find",
            "view:testing.sweepvisit",
            "view:testing.hometask",
            "view:testing.group",
            *SWEEP,
            *VIEW_ANTIGEN,
            *ANTIGEN_FIELD_WORK,
            *VIEW_RETESTS,
            *RETEST_FIELD_WORK,
            "view:assistance.assistperson",
            *ANSWER_ASSIST,
            *VIEW_SUPERVISION,
            *RECTIFY_ITEMS,
            *VIEW_ROSTERS,
            *VIEW_MARKETS,
            "change:markets.shopstaff",
            *VIEW_SUPPLIES,
            *VIEW_HOMESERVICES,
            *TAKE_REQUESTS,
            *VIEW_ENTERPRISES,
            *VIEW_DISINFECTION,
        ),
    ),
    "checkpoint_staff": (
        _("Checkpoint staff"),
        _perms(
            "view:areas.area",
            "view:people.person",
            "add:people.person",
            "add:control.keyperson",
            *VIEW_CHECKPOINTS,
            *RECORD_PASSAGES,
            "view:passes.householdpass",
            *USE_PASSES,
        ),
    ),
    "sampler": (
        _("Sampler"),
        _perms(
            "view:areas.area",
            "view:testing.campaign",
            "view:testing.samplingpoint",
            "view:testing.desk",
            "view:testing.tube",
            "add:testing.tube",
            "view:testing.sample",
            "add:testing.sample",
            "view:testing.group",
            "view:testing.hometask",
            "change:testing.hometask",
            *VIEW_TRANSPORT,
            *PACK_BOXES,
        ),
    ),
    # Bound to the labs whose `staff` they are: only the boxes heading to or received at them.
    "lab_staff": (
        _("Lab staff"),
        _perms("view:areas.area", *VIEW_TRANSPORT, "receive:transport.box", *VIEW_RESULTS, *RECORD_RESULTS),
    ),
    # Area-granted: picks up sealed boxes at the points of their area, sees that area's boxes.
    "courier": (
        _("Courier"),
        _perms("view:areas.area", *VIEW_TRANSPORT, "pickup:transport.box"),
    ),
    # Bound to the sites whose `staff` they are (isolation.Site): only those sites' rooms and stays.
    "isolation_staff": (
        _("Isolation-site staff"),
        _perms(
            "view:areas.area",
            "view:people.person",
            *VIEW_CONTROL,
            "add:control.checkin",
            "change:control.controlmeasure",
            *VIEW_ISOLATION,
            *SITE_WORK,
        ),
    ),
    # Bound to the tracing teams they are members of (tracing.Team): only those teams' cases and
    # their contacts. They register outsiders, confirm contacts into the ledger, and call people.
    "tracer": (
        _("Tracer"),
        _perms(
            "view:areas.area",
            "view:areas.building",
            "view:areas.household",
            "view:people.person",
            "add:people.person",
            "reveal:people.person",
            # The ledger and zones: whether a contact is already managed, and where the risk is.
            *VIEW_CONTROL,
            "add:control.keyperson",
            *VIEW_TRACING,
            *TRACE,
        ),
    ),
    # Bound to their own assignments (rosters.Assignment.staff.user): their shifts, posts and teams.
    "duty_staff": (
        _("Duty staff"),
        _perms("view:areas.area", *VIEW_ROSTERS, *CHECK_IN_DUTY),
    ),
    # Bound to the stores they keep (supplies.Store.keepers): those stores' stock, ledger, requisitions
    # and the donated goods kept there.
    "warehouse_keeper": (
        _("Warehouse keeper"),
        _perms("view:areas.area", *VIEW_SUPPLIES, *VIEW_DONATIONS, *KEEP_STORES),
    ),
    # Bound to the requests assigned to them (homeservices.ServiceRequest.assignee): they do the
    # shopping, bring the medicine, record the evidence and the resident's confirmation at the door.
    "volunteer": (
        _("Volunteer"),
        _perms("view:areas.area", "view:homeservices.servicerequest", "change:homeservices.servicerequest"),
    ),
    # Area-granted (a street's or district's 市场监管所): outlets, inspections, closures and
    # re-inspections, the wildlife ledger; the staff ledger and alerts to read.
    "market_inspector": (
        _("Market inspector"),
        _perms("view:areas.area", *VIEW_MARKETS, *INSPECT_MARKETS, "change:markets.pricealert"),
    ),
    # Bound to the enterprises whose contacts they are (enterprises.Enterprise.contacts).
    "enterprise_contact": (
        _("Enterprise contact"),
        _perms(
            "view:areas.area",
            *VIEW_ENTERPRISES,
            *RUN_ENTERPRISE,
            "contact:enterprises.enterprise",
            # Their enterprise's daily report (reports: a bound grant sends only its records' forms).
            "view:reports.reportform",
            "add:reports.submission",
            "change:reports.submission",
        ),
    ),
    # Bound to the disinfection teams they lead (disinfection.Team.leader): their rounds and tasks,
    # vehicles and trips, terminal disinfections.
    "disinfection_leader": (
        _("Disinfection team leader"),
        _perms(
            "view:areas.area",
            "view:disinfection.team",
            "view:disinfection.round",
            "view:disinfection.task",
            "view:disinfection.vehicle",
            "view:disinfection.trip",
            "view:disinfection.terminal",
            "lead:disinfection.team",
            *DISINFECTION_WORK,
        ),
    ),
    "auditor": (
        _("Auditor"),
        _perms(
            *VIEW_REGISTRY,
            *VIEW_CONTROL,
            *VIEW_TESTING,
            *VIEW_TRANSPORT,
            *VIEW_ANTIGEN,
            *VIEW_RESULTS,
            *VIEW_RETESTS,
            *VIEW_ISOLATION,
            "view:audit.objectchange",
            *VIEW_TRACING,
            *VIEW_ASSIST,
            *VIEW_CHECKPOINTS,
            *VIEW_PASSES,
            *VIEW_REPORTS,
            *VIEW_SUPERVISION,
            *VIEW_ROSTERS,
            *VIEW_MARKETS,
            *VIEW_SUPPLIES,
            *VIEW_DONATIONS,
            *VIEW_HOMESERVICES,
            *VIEW_ENTERPRISES,
            *VIEW_DISINFECTION,
        ),
    ),
    "system_admin": (
        _("System administrator"),
        _perms(
            *[
                f"{a}:{m}"
                for a in ("view", "add", "change", "delete")
                for m in FOUNDATION_MODELS
                + CONTROL_MODELS
                + TESTING_MODELS
                + ANTIGEN_MODELS
                + RETEST_MODELS
                + ISOLATION_MODELS
                + TRACING_MODELS
                + ASSIST_MODELS
                + CHECKPOINT_MODELS
                + PASS_MODELS
                + REPORT_MODELS
                + SUPERVISION_MODELS
                + ROSTER_MODELS
                + MARKET_MODELS
                + ("markets.commodity",)
                + SUPPLY_MODELS
                + HOMESERVICE_MODELS
                + ENTERPRISE_MODELS
                + DISINFECTION_MODELS
            ],
            "approve:supplies.requisition",
            "deliver:supplies.requisition",
            "receive:supplies.requisition",
            "approve:supplies.purchase",
            "receive:supplies.purchase",
            *REVIEW_APPLICATIONS,
            *SET_PHASES,
            "signoff:supervision.item",
            *ASSIGN_REQUESTS,
            # The list of labs and a box's destination; the custody steps stay with those who sign.
            *VIEW_TRANSPORT,
            *RUN_LABS,
            # Results: seen everywhere, corrected with a reason (recording is the labs').
            *VIEW_RESULTS,
            "change:results.tuberesult",
            "reveal:people.person",
            "merge:people.person",
            "view:audit.objectchange",
            *USE_API,
        ),
    ),
}

ROLE_CHOICES = [(key, label) for key, (label, _perms_) in ROLES.items()]


def role_permissions(role):
    return ROLES[role][1]
