"""Enterprise additions to the cast (no tests here): an enterprise in grid A with its contact (the
bound role `enterprise_contact`, granted on the community), one in grid B with another contact,
employees who are registry persons, and helpers to take an application to any step."""

import datetime
from decimal import Decimal

from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.enterprises import services
from epigrid.enterprises.models import Application, Enterprise, Phase
from tests.scoping import make_person

USCC_A = "91110000600037341L"
USCC_B = "91350100M000100Y43"

ANSWERS = {
    "left_city": "no",
    "places": "兰州",
    "risk_area": "no",
    "contact": "no",
    "symptoms": "no",
    "family_ill": "no",
    "returned_on": "2022-11-01",
    "transport": "自驾",
    "health_code": "绿码",
}


class Works:
    def __init__(self, cast):
        self.cast = cast
        self.contact = User.objects.create_user("contact_a", password="x")
        Grant.objects.create(user=self.contact, role="enterprise_contact", area=cast.community)
        self.contact_b = User.objects.create_user("contact_b", password="x")
        Grant.objects.create(user=self.contact_b, role="enterprise_contact", area=cast.community)
        self.a = Enterprise.objects.create(
            name="九州建材有限公司",
            uscc=USCC_A,
            kind="enterprise",
            size="above",
            area=cast.grid_a,
            contact_name="王经理",
            contact_phone="+8613912345678",
        )
        self.a.contacts.add(self.contact)
        self.b = Enterprise.objects.create(
            name="雁滩物流园工地",
            uscc=USCC_B,
            kind="site",
            size="below",
            area=cast.grid_b,
            contact_phone="+8613700001111",
        )
        self.b.contacts.add(self.contact_b)
        self.worker = make_person(household=cast.household_a, name="张工", phone="+8613811112222")
        self.worker_b = make_person(household=cast.household_b, name="李工")

    def enterprise(self, grid):
        return self.a if grid == self.cast.grid_a else self.b

    def employee(self, enterprise=None, person=None):
        enterprise = enterprise or self.a
        person = person or (self.worker if enterprise == self.a else self.worker_b)
        return services.link_employee(enterprise, person, "生产一班")[0]

    def ready(self, enterprise=None, stock=Decimal("100")):
        """Roster, cards and three days of PPE: an enterprise the on-site check can pass."""
        enterprise = enterprise or self.a
        employee = self.employee(enterprise)
        services.fill_card(None, employee, ANSWERS)
        services.set_ppe(None, enterprise, "mask", stock, Decimal("2"))
        return employee

    def draft(self, enterprise=None, planned=None, **fields):
        enterprise = enterprise or self.a
        values = {
            "prevention_plan": "每日三次消杀，测温上岗",
            "emergency_plan": "发热人员就地隔离，报告社区",
            "isolation_room": "一楼东侧临时隔离室",
            "commitment": True,
            "commitment_by": "王经理",
        }
        values.update(fields)
        return services.start_application(None, enterprise, planned or timezone.localdate(), **values)

    def at(self, step, enterprise=None):
        """An application standing at `step` (a status), every step before it taken."""
        enterprise = enterprise or self.a
        self.ready(enterprise)
        app = self.draft(enterprise)
        officer = self.cast.community_officer
        order = [
            (Application.Status.SUBMITTED, lambda a: services.submit(None, a)),
            (Application.Status.CONDITIONAL, lambda a: services.approve(officer, a, "加强通风")),
            (Application.Status.CHECKED, lambda a: services.pass_check(officer, a, "五到位")),
            (Application.Status.PERMITTED, lambda a: services.issue_permit(officer, a)),
        ]
        for _status, move in order:
            if app.status == step:
                break
            app = move(app)
        return app

    def phase(self, days_ahead=10):
        return Phase.objects.create(
            code="above",
            name="其他规上企业",
            earliest_on=timezone.localdate() + datetime.timedelta(days=days_ahead),
        )


def works(cast):
    found = getattr(cast, "works", None)
    if found is None:
        found = cast.works = Works(cast)
    return found
