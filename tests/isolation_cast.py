"""Isolation additions to the cast: per grid a site filed under it with rooms; staff posted at the
site of grid A and at that of grid B (both granted the district: the binding tells them apart) and
officials granted grid A or grid B (area scope)."""

from epigrid.accounts.models import Grant, User
from epigrid.isolation.models import Room, Site
from tests.scoping import make_person


class Isolation:
    def __init__(self, cast):
        self.cast = cast
        self.sites = {}
        self.staff_a = self._user("iso_a", "isolation_staff", cast.district)
        self.staff_b = self._user("iso_b", "isolation_staff", cast.district)
        self.official_a = self._user("official_a", "community_officer", cast.grid_a)
        self.official_b = self._user("official_b", "community_officer", cast.grid_b)
        for name in ("staff_a", "staff_b", "official_a", "official_b"):
            setattr(cast, name, getattr(self, name))
        cast.isolation = self

    def _user(self, username, role, area):
        user = User.objects.create_user(username, password="x")
        Grant.objects.create(user=user, role=role, area=area)
        return user

    def site(self, grid=None, rooms=3, capacity=None, **fields):
        """The site filed under `grid` (made once), its staff posted, with `rooms` single rooms
        on floor 1 (101, 102, ...) and one double room 201 on floor 2."""
        grid = grid or self.cast.grid_a
        if grid.pk in self.sites:
            return self.sites[grid.pk]
        site = Site.objects.create(
            name=f"{grid.name}隔离酒店", area=grid, capacity=capacity or rooms + 2, address="雁滩路", **fields
        )
        site.staff.add(self.staff_b if grid == self.cast.grid_b else self.staff_a)
        for n in range(rooms):
            Room.objects.create(site=site, number=f"1{n + 1:02d}", floor=1)
        Room.objects.create(site=site, number="201", floor=2, kind=Room.Kind.MULTI, beds=2)
        self.sites[grid.pk] = site
        return site

    def room(self, grid=None, number="101"):
        return self.site(grid).rooms.get(number=number)

    def person(self, grid=None, **fields):
        household = self.cast.household_b if grid == self.cast.grid_b else self.cast.household_a
        return make_person(household=household, name=fields.pop("name", "隔离人"), **fields)


def isolation(cast):
    return getattr(cast, "isolation", None) or Isolation(cast)
