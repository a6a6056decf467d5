"""Mass-testing additions to the cast: a running round over the community, point A (in grid A)
with two desks and point B (in grid B) with one, a sampler posted at each point."""

import datetime
import itertools
import uuid

from django.utils import timezone

_tubes = itertools.count(1)


class Round:
    def __init__(self, cast, pooling=10, **fields):
        from epigrid.accounts.models import Grant, User
        from epigrid.testing.models import Campaign, Desk, SamplingPoint

        self.cast = cast
        now = timezone.now()
        self.campaign = Campaign.objects.create(
            name="第一轮全员核酸",
            area=cast.district,
            pooling=pooling,
            starts_at=now - datetime.timedelta(hours=2),
            ends_at=now + datetime.timedelta(hours=22),
            status=Campaign.Status.RUNNING,
            **fields,
        )
        self.campaign.areas.set([cast.community])
        self.point_a = SamplingPoint.objects.create(
            campaign=self.campaign, name="九州广场采样点", area=cast.grid_a
        )
        self.point_b = SamplingPoint.objects.create(
            campaign=self.campaign, name="第二网格采样点", area=cast.grid_b
        )
        self.desk_a1 = Desk.objects.create(point=self.point_a, name="1号台")
        self.desk_a2 = Desk.objects.create(point=self.point_a, name="2号台")
        self.desk_b = Desk.objects.create(point=self.point_b, name="1号台")
        self.sampler = User.objects.create_user("sampler_a", password="x")
        self.sampler_b = User.objects.create_user("sampler_b", password="x")
        for user, point in ((self.sampler, self.point_a), (self.sampler_b, self.point_b)):
            Grant.objects.create(user=user, role="sampler", area=cast.community)
            point.staff.add(user)

    def scan(self, person=None, tube=None, desk=None, client_id=None, number=None, **extra):
        desk = desk or self.desk_a1
        return {
            "client_id": str(client_id or uuid.uuid4()),
            "campaign": desk.point.campaign_id,
            "desk": desk.pk,
            "tube": tube or "T0001",
            "document_type": "111",
            "document_number": number or person.doc_number,
            "scanned_at": timezone.now().isoformat(),
            **extra,
        }


def new_tube():
    return f"TB{next(_tubes):08d}"
