"""Tracing additions to the cast: two teams (A and B), a tracer on each (both granted the district:
the binding tells them apart), and a helper opening a case in grid A or B."""

import datetime

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Household
from epigrid.tracing import services
from epigrid.tracing.models import Team
from tests.scoping import make_person


class Tracing:
    def __init__(self, cast):
        self.cast = cast
        self.tracer_a = self._user("tracer_a", "tracer", cast.district)
        self.tracer_b = self._user("tracer_b", "tracer", cast.district)
        self.team_a = Team.objects.create(name="流调一队", area=cast.district)
        self.team_b = Team.objects.create(name="流调二队", area=cast.district)
        self.team_a.members.add(self.tracer_a)
        self.team_b.members.add(self.tracer_b)
        cast.tracing = self
        cast.tracer_a, cast.tracer_b = self.tracer_a, self.tracer_b
        # Officials of one grid each: area scope, for the models tracers are not bound on.
        cast.trace_official_a = self._user("trace_official_a", "community_officer", cast.grid_a)
        cast.trace_official_b = self._user("trace_official_b", "community_officer", cast.grid_b)

    def _user(self, username, role, area):
        user = User.objects.create_user(username, password="x")
        Grant.objects.create(user=user, role=role, area=area)
        return user

    def person(self, grid="a", room=None, name="接触者", **fields):
        building = self.cast.building_b if grid == "b" else self.cast.building_a
        if room is None:
            household = self.cast.household_b if grid == "b" else self.cast.household_a
        else:
            unit = fields.pop("unit", "1")
            household, _ = Household.objects.get_or_create(building=building, unit=unit, room=room)
        return make_person(household=household, name=name, **fields)

    def case(self, grid="a", person=None, onset=None, sampled_ago=1, hours_ago=2, team=None, **fields):
        today = timezone.localdate()
        person = person or self.person(grid, name="病例")
        case, _ = services.open_case(
            None,
            person,
            sampled_on=today - datetime.timedelta(days=sampled_ago),
            positive_at=timezone.now() - datetime.timedelta(hours=hours_ago),
            onset_date=onset,
            team=team or (self.team_b if grid == "b" else self.team_a),
            **fields,
        )
        return case


def tracing(cast):
    return getattr(cast, "tracing", None) or Tracing(cast)
