"""The demo district's lab results 检测结果, built after the transport part from what it wrote: every
tube a lab received (a found or extra tube of a received box) gets its result from that lab.

- The finished round: a result for every delivered tube — nearly all negative, a few invalid
  (resample), two pooled positive (just the results: the fan-out is the follow-up work's); tested
  1–5 h after the box arrived, reported within the hour; a lab backlog makes some late against the
  round's turnaround target. One invalid tube was corrected to negative with a reason, so a result
  page shows a correction.
- The running round: the tubes received so far, the earlier ones reported negative, the later ones
  still pending at the lab.

Written through the one service (`results.services.plan_results` / `apply_plan`, per lab, as that
lab's staff account; COPY on PostgreSQL): ~130,000 tubes a round at a million residents. The
`results_changed` hook fires for the flagged tubes as it would for a lab's upload. Deterministic
for a seed on a given day: one random.Random, fixed orders.
"""

import datetime
import random
from collections import defaultdict

from django.db.models import Count, F, Q

from epigrid.results import services
from epigrid.results.models import Result, ResultCorrection, Source, TubeResult
from epigrid.testing.models import Campaign
from epigrid.transport.models import Box, BoxTube, Lab

INVALID_SHARE = 0.004
POOLED_POSITIVES = 2  # tubes of the finished round
BACKLOG_SHARE = 0.06  # of the finished round's boxes, tested after a backlog at the lab
BACKLOG_HOURS = (9, 14)
TEST_AFTER_ARRIVAL_HOURS = (1, 5)
RUNNING_TEST_HOURS = (0.2, 0.6)
REPORT_AFTER_TEST_MINUTES = (10, 60)
PENDING_SHARE = 0.4  # of the running round's received boxes (the latest), still at the lab
CORRECTION_REASON = "复检：首次检测内标异常，重新检测为阴性"
CT_POOLED = ("34.20", "35.10")  # ORF1ab, N: a weak pooled positive


def build_results(now):
    """The lab-results part of the demo (one call from the builder, after transport)."""
    ResultsBuilder(now).build()


class ResultsBuilder:
    def __init__(self, now):
        self.now = now
        self.rng = random.Random("epigrid-demo:results")

    def build(self):
        labs = {lab.pk: lab for lab in Lab.objects.prefetch_related("staff").order_by("pk")}
        for campaign in Campaign.objects.order_by("starts_at", "id"):
            rows = self._delivered(campaign)
            if not rows:
                continue
            finished = campaign.status == Campaign.Status.FINISHED
            by_lab = self._results(rows, finished)
            for lab_id in sorted(by_lab):
                self._record(labs[lab_id], by_lab[lab_id])
            if finished:
                self._correct_one(campaign, labs)

    def _delivered(self, campaign):
        """(box id, received at, lab id, barcode) of every tube received at a lab in the round,
        in box and barcode order."""
        return list(
            BoxTube.objects.filter(
                box__campaign=campaign,
                box__status=Box.Status.RECEIVED,
                state__in=(BoxTube.State.FOUND, BoxTube.State.EXTRA),
                tube__isnull=False,
            )
            .order_by("box__received_at", "box_id", "barcode")
            .values_list("box_id", "box__received_at", "box__lab_id", "barcode")
        )

    def _results(self, rows, finished):
        """{lab id: [(ref, cleaned row)]}: times per box, results per tube."""
        boxes = sorted({(received, box) for box, received, _lab, _code in rows})
        # The running round: the tubes that arrived first reported, the latest still at the lab (one
        # at least of each); rows come in arrival order.
        reported_tubes = max(1, min(len(rows) - 1, round(len(rows) * (1 - PENDING_SHARE))))
        pending_codes = set() if finished else {code for *_rest, code in rows[reported_tubes:]}
        timing = {}
        for received, box in boxes:
            # The running round is tested as it arrives (the labs work through the day).
            hours = self.rng.uniform(*(TEST_AFTER_ARRIVAL_HOURS if finished else RUNNING_TEST_HOURS))
            if finished and self.rng.random() < BACKLOG_SHARE:
                hours = self.rng.uniform(*BACKLOG_HOURS)
            tested = received + datetime.timedelta(hours=hours)
            reported = tested + datetime.timedelta(minutes=self.rng.randint(*REPORT_AFTER_TEST_MINUTES))
            # Nothing is reported in the future: a box that just arrived was tested at once.
            reported = min(reported, self.now)
            timing[box] = (min(tested, reported), reported)
        positives, invalid = set(), set()
        if finished:
            # A few of each, drawn once, so a small demo shows every state too.
            codes = sorted(code for *_rest, code in rows)
            drawn = self.rng.sample(
                codes, min(len(codes), POOLED_POSITIVES + max(1, round(len(codes) * INVALID_SHARE)))
            )
            positives, invalid = set(drawn[:POOLED_POSITIVES]), set(drawn[POOLED_POSITIVES:])
        by_lab = defaultdict(list)
        for box, received, lab_id, code in rows:
            tested, reported = timing[box]
            result, ct = Result.NEGATIVE, (None, None)
            if code in pending_codes:
                result, tested, reported = Result.PENDING, None, received
            elif code in positives:
                result, ct = Result.POOLED_POSITIVE, CT_POOLED
            elif code in invalid:
                result = Result.INVALID
            data = {
                "barcode": code,
                "result": str(result),
                "ct_orf1ab": ct[0],
                "ct_n": ct[1],
                "tested_at": tested,
                "reported_at": reported,
                "reason": "",
            }
            by_lab[lab_id].append((len(by_lab[lab_id]), data))
        return by_lab

    def _record(self, lab, rows):
        plan = services.plan_results(None, lab, self._decimal(rows), self.now)
        plan.user = next(iter(lab.staff.all()), None)  # recorded by the lab's staff account
        services.apply_plan(plan, Source.DEMO)

    @staticmethod
    def _decimal(rows):
        for _ref, data in rows:
            for name in ("ct_orf1ab", "ct_n"):
                if data[name] is not None:
                    data[name] = services.parse_ct(data[name])
        return rows

    def _correct_one(self, campaign, labs):
        """The first invalid tube of the finished round, retested negative: a correction with its
        reason (change log and correction row), as the result page shows it."""
        tube_result = (
            TubeResult.objects.filter(campaign=campaign, result=Result.INVALID)
            .select_related("tube")
            .order_by("tube__barcode")
            .first()
        )
        if tube_result is None:
            return
        lab = labs[tube_result.lab_id]
        reported = min(tube_result.reported_at + datetime.timedelta(hours=3), self.now)
        row = {
            "barcode": tube_result.tube.barcode,
            "result": str(Result.NEGATIVE),
            "ct_orf1ab": None,
            "ct_n": None,
            "tested_at": reported - datetime.timedelta(minutes=30),
            "reported_at": reported,
            "reason": CORRECTION_REASON,
        }
        plan = services.plan_results(None, lab, [(0, row)], self.now)
        plan.user = next(iter(lab.staff.all()), None)
        services.apply_plan(plan, Source.DEMO)


def results_counts():
    """Counts of the lab results: per result, late, corrections (deterministic, no ids)."""
    by_result = dict(TubeResult.objects.values_list("result").order_by().annotate(n=Count("pk")))
    final = ~Q(result=Result.PENDING)
    return {
        "results": TubeResult.objects.count(),
        "by_result": {str(r): by_result.get(r, 0) for r in Result.values},
        "late": TubeResult.objects.filter(final, reported_at__gt=F("due_at")).count(),
        "corrections": ResultCorrection.objects.count(),
    }
