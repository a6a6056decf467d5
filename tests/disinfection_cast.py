"""Disinfection additions to the cast (no tests here): two team leaders (role disinfection_leader,
granted on the community, each bound to their own team), their teams, and helpers for sites, rules,
generated rounds, a PNG photo and a completion."""

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from epigrid.accounts.models import Grant, User
from epigrid.disinfection import services
from epigrid.disinfection.models import Rule, Site, Team
from tests.scoping import PASSWORD


def png(name="site.png", size=(8, 8), color=(0, 128, 0)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


class Disinfection:
    def __init__(self, cast):
        self.cast = cast
        cast.leader = self._user("leader_a", cast.community)
        cast.other_leader = self._user("leader_b", cast.community)
        self.team_a = Team.objects.create(area=cast.community, name="消杀一队", leader=cast.leader)
        self.team_b = Team.objects.create(area=cast.community, name="消杀二队", leader=cast.other_leader)

    def _user(self, username, area):
        user = User.objects.create_user(username, password=PASSWORD)
        Grant.objects.create(user=user, role="disinfection_leader", area=area)
        return user

    def site(self, grid=None, name=None, site_type="bin", building=None, size="12"):
        grid = grid or self.cast.grid_a
        name = name or f"{grid.name}{site_type}{Site.objects.count() + 1}"
        return Site.objects.create(
            area=grid, name=name, site_type=site_type, building=building, size_m2=Decimal(size)
        )

    def rule(self, area=None, site_type="bin", zone_level="", per_day=1, team="a", **fields):
        fields.setdefault("disinfectant", "含氯消毒剂")
        fields.setdefault("concentration", 1000)
        fields.setdefault("contact_minutes", 30)
        return Rule.objects.create(
            area=area or self.cast.community,
            site_type=site_type,
            zone_level=zone_level,
            per_day=per_day,
            team={"a": self.team_a, "b": self.team_b}.get(team, team),
            **fields,
        )

    def generate(self, area=None, day=None, user=None):
        return services.generate_rounds(
            user or self.cast.community_officer, area or self.cast.community, day or timezone.localdate()
        )

    def task(self, grid=None, team="a", site_type="bin"):
        """A due task of a site in `grid`, in a round of `team` (a rule at the grid)."""
        grid = grid or self.cast.grid_a
        site = self.site(grid, site_type=site_type)
        self.rule(area=grid, site_type=site_type, team=team)
        rounds, _n = self.generate(area=grid, user=self.cast.admin)
        return next(t for r in rounds for t in r.tasks.filter(site=site))

    def complete(self, task, user=None, **fields):
        fields.setdefault("disinfectant", "含氯消毒剂")
        fields.setdefault("concentration", 1000)
        fields.setdefault("contact_minutes", 30)
        fields.setdefault("photo", png())
        return services.complete(user or self.cast.leader, task, **fields)


def disinfection(cast):
    found = getattr(cast, "disinfection", None)
    if found is None:
        found = cast.disinfection = Disinfection(cast)
    return found
