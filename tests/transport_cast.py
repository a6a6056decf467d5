"""Transport additions to the cast (on top of tests.testing_cast.Round): lab A and lab B with a
staff user each, a courier of grid A and one of grid B, and helpers that fill tubes at a point and
move boxes through their steps by the services."""

import itertools

from epigrid.accounts.models import Grant, User
from epigrid.testing import services as testing_services
from epigrid.testing.models import Tube
from epigrid.transport import services
from epigrid.transport.models import Lab
from tests.scoping import make_person
from tests.testing_cast import Round, new_tube

_boxes = itertools.count(1)


def new_box_code():
    return f"BX{next(_boxes):06d}"


class Transport:
    def __init__(self, cast, **round_fields):
        self.cast = cast
        self.rnd = getattr(cast, "rnd", None) or Round(cast, **round_fields)
        cast.rnd = self.rnd
        cast.sampler, cast.sampler_b = self.rnd.sampler, self.rnd.sampler_b
        self.lab_a = Lab.objects.create(name="市疾控中心实验室", code="LABA", area=cast.district)
        self.lab_b = Lab.objects.create(name="金域检测实验室", code="LABB", area=cast.district)
        self.lab_user = self._user("lab_a", "lab_staff", cast.district)
        self.lab_user_b = self._user("lab_b", "lab_staff", cast.district)
        self.lab_a.staff.add(self.lab_user)
        self.lab_b.staff.add(self.lab_user_b)
        self.courier = self._user("courier_a", "courier", cast.grid_a)
        self.courier_b = self._user("courier_b", "courier", cast.grid_b)
        for name in ("lab_user", "lab_user_b", "courier", "courier_b"):
            setattr(cast, name, getattr(self, name))
        cast.transport = self

    def _user(self, username, role, area):
        user = User.objects.create_user(username, password="x")
        Grant.objects.create(user=user, role=role, area=area)
        return user

    def side(self, grid):
        """(point, desk, sampler, household, lab) of grid A or grid B."""
        cast, rnd = self.cast, self.rnd
        if grid == cast.grid_b:
            return rnd.point_b, rnd.desk_b, rnd.sampler_b, cast.household_b, self.lab_b
        return rnd.point_a, rnd.desk_a1, rnd.sampler, cast.household_a, self.lab_a

    def tube(self, grid=None, persons=1, close=True, scanned_at=None):
        """A tube filled at grid's point (by its sampler), closed unless asked otherwise."""
        point, desk, sampler, household, _lab = self.side(grid or self.cast.grid_a)
        code = new_tube()
        scans = []
        for _i in range(persons):
            person = make_person(household=household, name="采样人")
            scans.append(self.rnd.scan(person, code, desk=desk))
        outcomes = testing_services.ingest(sampler, scans)
        assert all(o["status"] == "accepted" for o in outcomes), outcomes
        tube = Tube.objects.get(barcode=code)
        if scanned_at is not None:
            tube.samples.update(scanned_at=scanned_at)
        if close:
            testing_services.set_tube_status(sampler, tube, Tube.Status.CLOSED)
            tube.refresh_from_db()
        return tube

    def box(self, grid=None, tubes=1, step="open", code=None, **tube_fields):
        """A box at grid's point for its lab with `tubes` new tubes, moved up to `step`
        (open, sealed, in_transit, received)."""
        grid = grid or self.cast.grid_a
        point, _desk, sampler, _household, lab = self.side(grid)
        box, _created = services.open_box(sampler, code or new_box_code(), point, lab)
        for _i in range(tubes):
            services.add_tube(sampler, box, self.tube(grid, **tube_fields).barcode)
        if step in ("sealed", "in_transit", "received"):
            services.seal_box(sampler, box)
        courier = self.courier if grid == self.cast.grid_a else self.courier_b
        if step in ("in_transit", "received"):
            services.pick_up(courier, box)
        if step == "received":
            lab_user = self.lab_user if lab == self.lab_a else self.lab_user_b
            codes = list(box.tubes.values_list("barcode", flat=True))
            services.receive_box(lab_user, box, tubes=codes)
        box.refresh_from_db()
        return box
