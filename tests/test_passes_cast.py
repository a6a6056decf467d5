"""Pass additions to the cast (no tests here): a second community with its officer (who must see
nothing of the first), a medium-risk zone on the first community, two gates of the first community
with one gate worker each (both granted the community: the binding tells their uses apart), and a
household of two in grid A."""

import datetime
import importlib

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area, Building, Household, Level
from epigrid.checkpoints.models import Checkpoint
from epigrid.control import services as control_services
from epigrid.passes import codes, services
from tests.scoping import make_person

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def local(*args):
    """An aware datetime in Asia/Shanghai (the project's zone)."""
    return datetime.datetime(*args, tzinfo=SHANGHAI)


def ensure_protocols():
    """The shipped protocols, as their migration loads them: a transactional test (the races)
    starts from a flushed database without them."""
    from django.apps import apps

    from epigrid.control.models import Protocol

    if not Protocol.objects.filter(is_active=True).exists():
        importlib.import_module("epigrid.control.migrations.0002_shipped_protocols").load(apps, None)


class Passes:
    def __init__(self, cast):
        self.cast = cast
        ensure_protocols()
        self.other_community = Area.objects.create(
            code="620102001002", name="东岗社区", level=Level.COMMUNITY, parent=cast.street
        )
        self.other_grid = Area.objects.create(
            code="620102001002001", name="东岗一网格", level=Level.GRID, parent=self.other_community
        )
        self.other_household = Household.objects.create(
            building=Building.objects.create(area=self.other_grid, name="5号楼"), unit="1", room="301"
        )
        self.other_officer = self._user("officer_other", "community_officer", self.other_community)
        self.gate_b_staff = self._user("gate_b", "checkpoint_staff", cast.community)
        self.gate = Checkpoint.objects.create(
            name="九州社区北门", kind=Checkpoint.Kind.COMMUNITY_GATE, area=cast.community
        )
        self.gate.staff.add(cast.checkpoint)
        self.gate_b = Checkpoint.objects.create(
            name="九州社区南门", kind=Checkpoint.Kind.COMMUNITY_GATE, area=cast.community
        )
        self.gate_b.staff.add(self.gate_b_staff)
        self.zone = control_services.draw_zone(cast.community, "medium", timezone.localdate())
        self.mother = make_person(household=cast.household_a, name="李秀英", phone="+8613912345678")
        self.son = make_person(household=cast.household_a, name="王小明", birth=datetime.date(2001, 3, 4))
        self.neighbour = make_person(household=cast.household_b, name="赵四")
        cast.other_officer, cast.gate_b_staff = self.other_officer, self.gate_b_staff
        cast.passes = self

    def _user(self, username, role, area):
        user = User.objects.create_user(username, password="x")
        Grant.objects.create(user=user, role=role, area=area)
        return user

    def household_pass(self, household=None, **fields):
        fields.setdefault("valid_from", local(2026, 3, 1, 9, 30))
        fields.setdefault("valid_until", local(2026, 3, 31, 23, 59))
        return services.issue(
            self.cast.community_officer, household or self.cast.household_a, zone=self.zone, **fields
        )

    def scan(self, household_pass, person, direction="exit", at=None, user=None, checkpoint=None, **kw):
        user = user or self.cast.checkpoint
        if checkpoint is None and user == self.cast.checkpoint:
            checkpoint = self.gate
        return services.scan(
            user, codes.make_code(household_pass), person, direction, checkpoint=checkpoint, at=at, **kw
        )


def passes(cast):
    return getattr(cast, "passes", None) or Passes(cast)
