"""Roster additions to the cast: a duty post in each grid with members posted there, a volunteer
with a user account (role duty_staff, bound to their own assignments), and helpers to make shifts
at given times."""

import datetime

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.rosters import services
from epigrid.rosters.models import Post, Shift, StaffMember


class Duty:
    def __init__(self, cast):
        self.cast = cast
        self.post_a = Post.objects.create(
            name="一网格东门值守", kind="checkpoint", area=cast.grid_a, needed=2
        )
        self.post_b = Post.objects.create(name="二网格西门值守", kind="community", area=cast.grid_b, needed=2)
        self.volunteer_user = User.objects.create_user("duty_a", password="x")
        Grant.objects.create(user=self.volunteer_user, role="duty_staff", area=cast.community)
        self.other_user = User.objects.create_user("duty_b", password="x")
        Grant.objects.create(user=self.other_user, role="duty_staff", area=cast.community)
        self.volunteer = self.member("李志愿", cast.grid_a, phone="+8613800001111", user=self.volunteer_user)
        self.cadre = self.member("王下沉", cast.grid_a, phone="+8613900002222", kind="cadre", unit="区财政局")
        self.other = self.member("赵社区", cast.grid_b, phone="+8613700003333", user=self.other_user)
        cast.duty = self

    def member(self, name, area, **fields):
        fields.setdefault("kind", "volunteer")
        fields.setdefault("active_from", datetime.date(2020, 1, 1))
        return StaffMember.objects.create(name=name, area=area, **fields)

    def shift(self, post=None, start=None, hours=8, needed=None):
        post = post or self.post_a
        start = start or timezone.now() + datetime.timedelta(hours=1)
        return Shift.objects.create(
            post=post, start=start, end=start + datetime.timedelta(hours=hours), needed=needed or post.needed
        )

    def on(self, shift, member, now=None):
        return services.assign(self.cast.admin, shift, member, now=now)


def duty(cast):
    return getattr(cast, "duty", None) or Duty(cast)


def hours_from_now(h):
    return timezone.now() + datetime.timedelta(hours=h)
