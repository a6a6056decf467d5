"""The pooled-positive follow-up part of the demo. The results part's pooled-positive tubes opened
their follow-ups through `results_changed` (a task per person); here the first is mid-retest
(everyone held in place, half sampled in single tubes) and the second is resolved (everyone
retested negative and released: the follow-up closed itself).

Two persons of the mid-retest tube go through the real path of a single-tube retest 单管复核: the
street's home-sampling team swabs them at home into a tube each (`testing.services.ingest`, closed
by hand), the worker records the retest with that barcode, the tubes travel in one box to the lab
that reported the pooled tube (`transport.services`: packed, sealed, picked up by the street's
courier, received by the lab) and the lab reports them (`results.services.record_results`). The
lab's own results end the tasks (`retests.services.apply_lab_results` through results_recorded):
one negative releases the person, one positive registers a key person and leaves a zone proposal
for the street to confirm. The others are tapped by the services, as the system (the change log
files it under the demo's command context)."""

import random

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils import timezone
from stdnum import luhn

from epigrid.accounts.models import Grant
from epigrid.control.models import KeyPerson
from epigrid.demo.testing import client_id_at
from epigrid.results import services as results_services
from epigrid.results.models import Result, Source
from epigrid.retests import services
from epigrid.retests.models import Kind, PoolFollowUp, RetestTask, ZoneProposal
from epigrid.testing import services as testing_services
from epigrid.testing.models import SamplingPoint, Tube
from epigrid.transport import services as transport_services

# Serials of the retest tubes: the rounds' own tubes stay far below (~130,000 at a million).
RETEST_SERIAL = 9_000_000
RETEST_BOX = "ZR000001"
CT_POSITIVE = ("24.60", "25.30")  # ORF1ab, N: a clear single-tube positive


def build_retests():
    follow_ups = list(
        PoolFollowUp.objects.filter(kind=Kind.POOLED_POSITIVE)
        .select_related("tube__campaign")
        .order_by("opened_at", "id")[:2]
    )
    serial = iter(range(1, 10**6))

    def single_tube(follow):
        # A barcode typed by the worker (the tube itself is not in the system): the pooled
        # tube's barcode with a retest suffix.
        return f"{follow.tube.barcode}R{next(serial)}"

    for n, follow in enumerate(follow_ups):
        tasks = list(RetestTask.objects.filter(follow_up=follow).select_related("person").order_by("id"))
        through_lab = _through_the_lab(tasks) if n == 0 else {}
        for i, task in enumerate(tasks):
            if n == 0:  # mid-retest
                task = services.hold(None, task)
                if task.pk not in through_lab and i % 2 == 0:
                    services.record_retest(None, task, single_tube(follow))
            else:  # resolved
                task = services.record_retest(None, task, single_tube(follow))
                services.record_retest_result(None, task, "negative")
        if through_lab:
            LabRetests(follow).run([(t, through_lab[t.pk]) for t in tasks if t.pk in through_lab])


def _through_the_lab(tasks):
    """{task id: result} of the tasks whose retest goes through the lab: the first registered
    person negative and, when at least one more task stays held or sampled (the tube is still
    mid-retest), the next one with a household and no open key-person entry positive."""
    registered = [t for t in tasks if t.person_id is not None]
    if not registered:
        return {}
    chosen = {registered[0].pk: Result.NEGATIVE}
    listed = set(
        KeyPerson.objects.filter(
            person_id__in=[t.person_id for t in registered], status=KeyPerson.Status.OPEN
        ).values_list("person_id", flat=True)
    )
    if len(tasks) >= 3:
        positive = next(
            (t for t in registered[1:] if t.household_id is not None and t.person_id not in listed), None
        )
        if positive is not None:
            chosen[positive.pk] = Result.POSITIVE
    return chosen


class LabRetests:
    """Single-tube retests of one follow-up's persons through sampling, transport and the lab."""

    def __init__(self, follow):
        self.follow = follow
        self.pooled = follow.tube
        self.campaign = self.pooled.campaign
        self.now = timezone.now()
        self.rng = random.Random(f"epigrid-demo:retests:{self.pooled.barcode}")
        self.lab = self.pooled.lab_result.lab  # the lab that reported the pooled tube retests it
        self.lab_user = self.lab.staff.order_by("pk").first()

    def run(self, pairs):
        point = self._home_team()
        sampler = point.staff.order_by("pk").first()
        desk = point.desks.order_by("pk").first()
        codes = []
        for k, (task, result) in enumerate(pairs, start=1):
            code = self._barcode(k)
            self._sample(sampler, desk, task.person, code)
            # The worker records the retest with the tube's barcode (linked: the tube exists).
            services.record_retest(None, task, code)
            codes.append((code, result))
        self._deliver(point, sampler, [code for code, _result in codes])
        rows = [self._row(code, result) for code, result in codes]
        outcomes = results_services.record_results(self.lab_user, self.lab, rows, Source.DEMO, now=self.now)
        refused = [o for o in outcomes if o["status"] != "created"]
        if refused:
            raise RuntimeError(f"The demo's retest results were refused: {refused}")

    def _home_team(self):
        """The home-sampling team of the street the pooled tube was sampled in (the held persons
        stay at home); its own point if the round has none there."""
        path = self.pooled.point.area.path
        teams = SamplingPoint.objects.filter(campaign=self.campaign, is_home_team=True).select_related("area")
        team = next((p for p in teams.order_by("pk") if path.startswith(p.area.path)), None)
        return team or self.pooled.point

    def _barcode(self, k):
        # The round's barcode rule (prefix, length, Luhn), as its own tubes: the pooled tube's
        # four leading digits and a serial beyond the round's.
        body = f"{self.pooled.barcode[:4]}{RETEST_SERIAL + k:07d}"
        return body + luhn.calc_check_digit(body)

    def _sample(self, sampler, desk, person, code):
        scan = {
            "client_id": str(client_id_at(self.rng, self.now)),
            "campaign": self.campaign.pk,
            "desk": desk.pk,
            "tube": code,
            "document_type": person.doc_type,
            "document_number": person.doc_number,
            "scanned_at": self.now.isoformat(),
        }
        (outcome,) = testing_services.ingest(sampler, [scan], now=self.now)
        if outcome["status"] != "accepted":
            raise RuntimeError(f"The demo's retest sample was refused: {outcome}")
        # One person a tube: closed by hand (单管).
        testing_services.set_tube_status(sampler, Tube.objects.get(barcode=code), Tube.Status.CLOSED)

    def _deliver(self, point, sampler, codes):
        box, _created = transport_services.open_box(sampler, RETEST_BOX, point, self.lab, now=self.now)
        for code in codes:
            transport_services.add_tube(sampler, box, code, now=self.now)
        transport_services.seal_box(sampler, box, now=self.now)
        transport_services.pick_up(self._courier(point), box, now=self.now)
        transport_services.receive_box(self.lab_user, box, tubes=codes, now=self.now)

    @staticmethod
    def _courier(point):
        """The courier granted the point's area or the narrowest area above it."""
        path = point.area.path
        grants = Grant.objects.filter(role="courier").select_related("area").order_by("-area__level", "pk")
        grant = next(g for g in grants if path.startswith(g.area.path))
        return get_user_model().objects.get(pk=grant.user_id)

    def _row(self, code, result):
        ct = CT_POSITIVE if result == Result.POSITIVE else (None, None)
        return {
            "barcode": code,
            "result": str(result),
            "ct_orf1ab": ct[0],
            "ct_n": ct[1],
            "tested_at": self.now,
            "reported_at": self.now,
        }


def retests_counts():
    """Follow-ups, tasks and zone proposals per state (deterministic, no ids)."""
    return {
        "follow_ups": dict(PoolFollowUp.objects.values_list("status").order_by().annotate(n=Count("pk"))),
        "tasks": dict(RetestTask.objects.values_list("status").order_by().annotate(n=Count("pk"))),
        "proposals": dict(ZoneProposal.objects.values_list("status").order_by().annotate(n=Count("pk"))),
    }
