"""Assistance additions to the cast (no tests here): community officers granted grid A and grid B
(both see requests and rows of their grid only), and helpers making a request with rows through
the services."""

import datetime
import itertools

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.assistance import services
from epigrid.core.identity import make_resident_id

_numbers = itertools.count(500)


def outsider_id(born=datetime.date(1985, 6, 1)):
    """A valid resident ID issued elsewhere (西安雁塔), not in the registry."""
    return make_resident_id("610113", born, next(_numbers))


def row_of(person=None, category="close_contact", **fields):
    """Cleaned row values: a registered person's, or an outsider's."""
    values = {
        "name": person.name if person else fields.pop("name", "外地人"),
        "doc_type": person.doc_type if person else "111",
        "doc_number": person.doc_number if person else fields.pop("doc_number", None) or outsider_id(),
        "phone": person.phone if person else fields.pop("phone", ""),
        "category": category,
        "exposure_on": fields.pop("exposure_on", timezone.localdate() - datetime.timedelta(days=2)),
        "address": fields.pop("address", "雁滩路1号"),
        "request_note": fields.pop("request_note", ""),
    }
    values.update(fields)
    return values


class Assist:
    def __init__(self, cast):
        self.cast = cast
        self.official_a = self._user("assist_a", "community_officer", cast.grid_a)
        self.official_b = self._user("assist_b", "community_officer", cast.grid_b)
        cast.assist_a, cast.assist_b = self.official_a, self.official_b
        cast.assist = self
        self._refs = itertools.count(1)

    def _user(self, username, role, area):
        user = User.objects.create_user(username, password="x")
        Grant.objects.create(user=user, role=role, area=area)
        return user

    def request(self, area=None, rows=(), in_province=True, hours_ago=2, user=None, **fields):
        return services.receive(
            user,
            requester=fields.pop("requester", "天水市疫情防控指挥部"),
            reference=fields.pop("reference", f"天协〔2022〕{next(self._refs)}号"),
            received_at=timezone.now() - datetime.timedelta(hours=hours_ago),
            in_province=in_province,
            area=area or self.cast.district,
            persons=list(rows),
            **fields,
        )

    def row(self, grid=None, person=None, **fields):
        """A pending row assigned to `grid` (grid A by default) of a new district request."""
        grid = grid or self.cast.grid_a
        request = self.request(rows=[row_of(person, **fields)])
        row = request.persons.get()
        if row.area_id != grid.pk:
            services.assign(None, row, grid)
            row.refresh_from_db()
        return row


def assist(cast):
    return getattr(cast, "assist", None) or Assist(cast)
