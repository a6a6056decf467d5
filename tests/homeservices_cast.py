"""Resident-services additions to the cast (no tests here): a volunteer bound to the requests
assigned to them, a second volunteer, residents of households A and B, a sealed zone helper, and a
helper submitting a request as the grid worker."""

import datetime

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.homeservices import services
from tests.scoping import PASSWORD, make_person


class Homes:
    def __init__(self, cast):
        self.cast = cast
        self.volunteer = User.objects.create_user("volunteer", password=PASSWORD)
        Grant.objects.create(user=self.volunteer, role="volunteer", area=cast.community)
        self.volunteer_b = User.objects.create_user("volunteer_b", password=PASSWORD)
        Grant.objects.create(user=self.volunteer_b, role="volunteer", area=cast.community)
        self.resident_a = make_person(household=cast.household_a, name="王秀英", phone="+8613912345678")
        self.resident_b = make_person(household=cast.household_b, name="李建国", phone="+8613812340000")

    def resident(self, grid):
        return self.resident_a if grid == self.cast.grid_a else self.resident_b

    def household(self, grid):
        return self.cast.household_a if grid == self.cast.grid_a else self.cast.household_b

    def submit(self, grid=None, kind="shopping", details=None, user=None, **fields):
        grid = grid or self.cast.grid_a
        worker = self.cast.grid_worker if grid == self.cast.grid_a else self.cast.grid_worker_b
        return services.submit(
            user if user is not None else worker,
            household=self.household(grid),
            person=self.resident(grid),
            kind=kind,
            details=details if details is not None else {"items": "大米 5kg，鸡蛋 30 枚"},
            **fields,
        )

    def request(self, grid=None, **fields):
        return self.submit(grid, **fields).request

    def assigned(self, grid=None, to=None, **fields):
        req = self.request(grid, **fields)
        return services.assign(self.cast.community_officer, req, to or self.volunteer)

    def seal(self, area=None, building=None, level="high", days_ago=1):
        from epigrid.control import services as control

        return control.draw_zone(
            area or self.cast.grid_a,
            level,
            timezone.localdate() - datetime.timedelta(days=days_ago),
            building=building,
        )


def homes(cast):
    found = getattr(cast, "homes", None)
    if found is None:
        found = cast.homes = Homes(cast)
    return found
