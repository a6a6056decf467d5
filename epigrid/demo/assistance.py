"""The demo district's assistance requests 协查: one from inside the province half answered, one
from outside the province overdue.

- 天水市 asks about six persons, received this morning (24 h to answer): two residents found by the
  showcase grid's worker and put under the protocol's measure (in the key-person ledger, source
  assistance, the 协查 cleared), one address answered "no such person", three still to trace — a
  resident, a person new to the registry (registered when found) and a secondary contact.
- 西安市 asks about two residents, received over two days ago (48 h): overdue, on today's work.

Every step goes through `assistance.services`, as the pages do; the rows are a handful whatever
the district's size. Deterministic for a seed on a given day: fixed orders, no randomness."""

import datetime

from django.db.models import Count
from django.utils import timezone

from epigrid.assistance import services
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.control.models import Category
from epigrid.core.identity import make_resident_id
from epigrid.people.models import Person

HALF = ("天水市新冠肺炎疫情防控指挥部", "天疫指协〔2022〕57号", "流调组 刘老师 0938-8213456", True, 9)
OVERDUE = ("西安市疫情防控指挥部办公室", "西疫协查〔2022〕1186号", "协查专班 0298-6781234", False, 52)
ADDRESSES = ("城关区雁滩路2188号", "城关区东岗西路12号", "城关区九州大道88号")


def _person_row(person, category, exposure_on, address):
    return {
        "name": person.name,
        "doc_type": person.doc_type,
        "doc_number": person.doc_number,
        "phone": person.phone,
        "category": category,
        "exposure_on": exposure_on,
        "address": address,
        "request_note": "",
    }


def _outsider_row(name, region, born, sequence, category, exposure_on, address, note=""):
    return {
        "name": name,
        "doc_type": "111",
        "doc_number": make_resident_id(region, born, sequence),
        "phone": "",
        "category": category,
        "exposure_on": exposure_on,
        "address": address,
        "request_note": note,
    }


def _residents(grid, count):
    """Residents of the showcase grid with no open key-person entry, oldest records first."""
    return list(
        Person.objects.filter(area=grid, merged_into__isnull=True)
        .exclude(key_entries__status="open")
        .order_by("pk")[:count]
    )


def build_assistance(district, users, today=None):
    today = today or timezone.localdate()
    now = timezone.now()
    commander, street = users["district_commander"], users.get("street_officer")
    worker, community = users.get("grid_worker"), users.get("community_officer")
    grid = worker.grants.get().area if worker is not None else None
    if grid is None or street is None:
        return
    residents = _residents(grid, 6)
    if len(residents) < 6:
        return
    street_area = street.grants.get().area
    exposed = today - datetime.timedelta(days=2)
    half = services.receive(
        commander,
        requester=HALF[0],
        reference=HALF[1],
        contact=HALF[2],
        in_province=HALF[3],
        received_at=now - datetime.timedelta(hours=HALF[4]),
        area=street_area,
        persons=[
            _person_row(residents[0], Category.CLOSE_CONTACT, exposed, ADDRESSES[0]),
            _person_row(residents[1], Category.SPACETIME_COMPANION, exposed, ADDRESSES[1]),
            _outsider_row(
                "马晓东",
                "620502",
                datetime.date(1990, 3, 14),
                31,
                Category.CLOSE_CONTACT,
                exposed,
                ADDRESSES[2],
            ),
            _person_row(residents[2], Category.CLOSE_CONTACT, exposed, ADDRESSES[0]),
            _outsider_row(
                "王建国",
                "620503",
                datetime.date(1968, 8, 2),
                17,
                Category.CLOSE_CONTACT,
                exposed,
                ADDRESSES[1],
                note="自称租住在东岗西路附近",
            ),
            _person_row(residents[3], Category.SECONDARY_CONTACT, exposed, ADDRESSES[2]),
        ],
    )
    rows = list(half.persons.order_by("number"))
    # The persons new to the registry wait at the street: it sends them to the showcase grid.
    for row in (rows[2], rows[4]):
        services.assign(street, row, grid)
    services.answer_found(worker, rows[0], note="已核实，转运集中隔离", now=now - datetime.timedelta(hours=6))
    services.answer_found(worker, rows[1], note="已核实，居家隔离", now=now - datetime.timedelta(hours=5))
    services.answer_not_here(
        community or worker,
        AssistPerson.objects.get(pk=rows[2].pk),
        AssistPerson.Status.NO_SUCH_PERSON,
        "该地址为空置房，物业及邻居均无此人信息",
        now=now - datetime.timedelta(hours=4),
    )
    services.receive(
        commander,
        requester=OVERDUE[0],
        reference=OVERDUE[1],
        contact=OVERDUE[2],
        in_province=OVERDUE[3],
        received_at=now - datetime.timedelta(hours=OVERDUE[4]),
        area=district,
        persons=[
            _person_row(
                residents[4], Category.MEDIUM_RISK_ARRIVAL, today - datetime.timedelta(days=3), ADDRESSES[0]
            ),
            _person_row(residents[5], Category.SPACETIME_COMPANION, exposed, ADDRESSES[2]),
        ],
    )


def assistance_counts():
    """Requests by status, persons by answer, and the requests overdue now."""
    requests = dict(AssistRequest.objects.values_list("status").order_by().annotate(n=Count("pk")))
    persons = dict(AssistPerson.objects.values_list("status").order_by().annotate(n=Count("pk")))
    return {
        "requests": {status: requests.get(status, 0) for status in AssistRequest.Status.values},
        "persons": {status: persons.get(status, 0) for status in AssistPerson.Status.values},
        "overdue": AssistRequest.objects.filter(status="open", due_at__lt=timezone.now()).count(),
        "key_persons": AssistPerson.objects.filter(key_person__source="assistance").count(),
    }
