"""The dashboard's part of the demo (decision 0032): what the other parts leave at zero on a tile of
the commander's morning screen, filled in through the modules' own services.

- A pooled-positive result reported today: the running round's first tube still pending at its lab
  is reported pooled positive (`results.services.plan_results` / `apply_plan`, as the lab's staff),
  so its follow-up opens through `results_changed` with its persons to hold in place.
- A confirmed case in the key-person ledger: the first traced case's person without an open entry
  (else the first resident without one) is registered as confirmed (`control.services.
  register_key_person`, source testing)."""

import datetime

from django.utils import timezone

from epigrid.control.models import Category, KeyPerson, Source
from epigrid.control.services import register_key_person
from epigrid.people.models import Person
from epigrid.results import services as results_services
from epigrid.results.models import Result, TubeResult
from epigrid.results.models import Source as ResultSource
from epigrid.retests.models import PoolFollowUp
from epigrid.testing.models import Campaign
from epigrid.tracing.models import Case

CT_POOLED_TODAY = ("33.80", "34.60")  # ORF1ab, N: a weak pooled positive
CORRECTION_REASON = "复检：混管复核为阳性"


def build_dashboard(now):
    """The dashboard part (one call from the builder, after the results and retests parts)."""
    _pooled_positive_today(now)
    _confirmed_case()


def _pooled_positive_today(now):
    running = TubeResult.objects.filter(campaign__status=Campaign.Status.RUNNING).select_related(
        "tube", "lab"
    )
    pending = running.filter(result=Result.PENDING).order_by("reported_at", "tube__barcode").first()
    reason = ""
    if pending is None:
        # Every tube of the round reported already (the hour the demo is built decides): the latest
        # negative is retested pooled positive, a correction with its reason.
        pending = running.filter(result=Result.NEGATIVE).order_by("-reported_at", "tube__barcode").first()
        reason = CORRECTION_REASON
    if pending is None:
        # Early in the day no tube of the running round has reached a lab yet: the last finished
        # round's latest negative is retested pooled positive instead.
        pending = (
            TubeResult.objects.filter(result=Result.NEGATIVE)
            .select_related("tube", "lab")
            .order_by("-reported_at", "tube__barcode")
            .first()
        )
        reason = CORRECTION_REASON
    if pending is None:
        return
    # Tested after it arrived, reported a few minutes ago: today, and never in the future.
    tested = max(pending.reported_at, now - datetime.timedelta(minutes=25))
    reported = min(now, max(tested, now - datetime.timedelta(minutes=5)))
    data = {
        "barcode": pending.tube.barcode,
        "result": str(Result.POOLED_POSITIVE),
        "ct_orf1ab": results_services.parse_ct(CT_POOLED_TODAY[0]),
        "ct_n": results_services.parse_ct(CT_POOLED_TODAY[1]),
        "tested_at": tested,
        "reported_at": reported,
        "reason": reason,
    }
    plan = results_services.plan_results(None, pending.lab, [(0, data)], now)
    plan.user = pending.lab.staff.order_by("pk").first()  # reported by the lab's staff account
    results_services.apply_plan(plan, ResultSource.DEMO)


def _confirmed_case():
    if KeyPerson.objects.filter(category=Category.CONFIRMED, status=KeyPerson.Status.OPEN).exists():
        return
    open_entries = KeyPerson.objects.filter(status=KeyPerson.Status.OPEN).values("person_id")
    case = Case.objects.exclude(person__in=open_entries).select_related("person").order_by("pk").first()
    if case is not None:
        person, area = case.person, case.area
    else:
        person = (
            Person.objects.exclude(pk__in=open_entries)
            .filter(merged_into__isnull=True)
            .order_by("pk")
            .first()
        )
        if person is None:
            return
        area = person.area
    register_key_person(
        person, Category.CONFIRMED, area, source=Source.TESTING, identified_on=timezone.localdate()
    )


def dashboard_counts():
    today = timezone.localdate()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    return {
        "pooled_positives_today": TubeResult.objects.filter(
            result=Result.POOLED_POSITIVE, reported_at__gte=start
        ).count(),
        "open_follow_ups": PoolFollowUp.objects.filter(status=PoolFollowUp.Status.OPEN).count(),
        "confirmed_open": KeyPerson.objects.filter(
            category=Category.CONFIRMED, status=KeyPerson.Status.OPEN
        ).count(),
    }
