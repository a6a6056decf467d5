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

VIEW_REGISTRY = [f"view:{m}" for m in FOUNDATION_MODELS]
EDIT_RESIDENTS = [f"{a}:{m}" for a in ("add", "change") for m in FOUNDATION_MODELS[1:]]
VIEW_CONTROL = [f"view:{m}" for m in CONTROL_MODELS]
# Zones are drawn by the command centre and the street, not by communities and grids.
EDIT_CONTROL = [f"{a}:{m}" for a in ("add", "change") for m in CONTROL_MODELS if m != "control.zone"]
EDIT_ZONES = ["add:control.zone", "change:control.zone"]
# The REST API and its (English) Swagger page serve integrations: the command centre and the system
# administrators set them up; field roles work in the pages and are not shown it.
USE_API = ["use:epigrid.api"]

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
            *USE_API,
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
        ),
    ),
    "grid_worker": (_("Grid worker"), _perms(*VIEW_REGISTRY, *EDIT_RESIDENTS, *VIEW_CONTROL, *EDIT_CONTROL)),
    "checkpoint_staff": (
        _("Checkpoint staff"),
        _perms("view:areas.area", "view:people.person", "add:people.person", "add:control.keyperson"),
    ),
    "sampler": (_("Sampler"), _perms("view:areas.area", "view:people.person", "add:people.person")),
    "lab_staff": (_("Lab staff"), _perms("view:areas.area")),
    "isolation_staff": (
        _("Isolation-site staff"),
        _perms(
            "view:areas.area",
            "view:people.person",
            *VIEW_CONTROL,
            "add:control.checkin",
            "change:control.controlmeasure",
        ),
    ),
    "enterprise_contact": (_("Enterprise contact"), _perms("view:areas.area")),
    "auditor": (_("Auditor"), _perms(*VIEW_REGISTRY, *VIEW_CONTROL, "view:audit.objectchange")),
    "system_admin": (
        _("System administrator"),
        _perms(
            *[
                f"{a}:{m}"
                for a in ("view", "add", "change", "delete")
                for m in FOUNDATION_MODELS + CONTROL_MODELS
            ],
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
