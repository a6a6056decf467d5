"""Checkpoint additions to the cast: a gate filed under each grid, staff posted at each (both granted
the community: the binding tells them apart), and a road entry filed under the district."""

import uuid

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.checkpoints import services
from epigrid.checkpoints.models import Checkpoint
from tests.scoping import make_person


class Gates:
    def __init__(self, cast):
        self.cast = cast
        self.staff_a = self._user("cp_gate_a", "checkpoint_staff", cast.community)
        self.staff_b = self._user("cp_gate_b", "checkpoint_staff", cast.community)
        self.gate_a = Checkpoint.objects.create(name="一网格东门", kind="community_gate", area=cast.grid_a)
        self.gate_b = Checkpoint.objects.create(name="二网格西门", kind="community_gate", area=cast.grid_b)
        self.entry = Checkpoint.objects.create(
            name="G30 城关收费站", kind="district_entry", area=cast.district
        )
        self.gate_a.staff.add(self.staff_a)
        self.gate_b.staff.add(self.staff_b)
        # A road entry's staff are granted the district the entry guards.
        self.entry_staff = self._user("cp_gate_entry", "checkpoint_staff", cast.district)
        self.entry.staff.add(self.entry_staff)
        cast.gate_staff_a, cast.gate_staff_b = self.staff_a, self.staff_b
        cast.gates = self

    def _user(self, username, role, area):
        user = User.objects.create_user(username, password="x")
        Grant.objects.create(user=user, role=role, area=area)
        return user

    def person(self, grid="a", name="居民", **fields):
        household = self.cast.household_b if grid == "b" else self.cast.household_a
        return make_person(household=household, name=name, **fields)

    def scan(self, checkpoint, person=None, **fields):
        scan = {
            "client_id": str(uuid.uuid4()),
            "checkpoint": checkpoint.pk,
            "at": timezone.now().isoformat(),
            "direction": "in",
            "health_code": "green",
        }
        if person is not None:
            scan["person"] = {"doc_number": person.doc_number}
        scan.update(fields)
        return scan

    def record(self, user, *scans):
        return services.record(user, list(scans))


def gates(cast):
    return getattr(cast, "gates", None) or Gates(cast)
