"""The pooled-positive follow-up part of the demo. The results part's pooled-positive tubes opened
their follow-ups through `results_changed` (a task per person); here the first is mid-retest
(everyone held in place, half sampled in single tubes, one of them released) and the second is
resolved (everyone retested negative and released: the follow-up closed itself). Through the
services, as the system (the change log files it under the demo's command context)."""

from django.db.models import Count

from epigrid.retests import services
from epigrid.retests.models import Kind, PoolFollowUp, RetestTask


def build_retests():
    follow_ups = list(PoolFollowUp.objects.filter(kind=Kind.POOLED_POSITIVE).order_by("opened_at", "id")[:2])
    serial = iter(range(1, 10**6))

    def single_tube(follow):
        # A single tube of the same round's kind: the pooled tube's barcode with a retest suffix.
        return f"{follow.tube.barcode}R{next(serial)}"

    for n, follow in enumerate(follow_ups):
        tasks = list(RetestTask.objects.filter(follow_up=follow).order_by("id"))
        for i, task in enumerate(tasks):
            if n == 0:  # mid-retest
                task = services.hold(None, task)
                if i % 2 == 0:
                    task = services.record_retest(None, task, single_tube(follow))
                    if i == 0:
                        services.record_retest_result(None, task, "negative")
            else:  # resolved
                task = services.record_retest(None, task, single_tube(follow))
                services.record_retest_result(None, task, "negative")


def retests_counts():
    """Follow-ups and tasks per state (deterministic, no ids)."""
    return {
        "follow_ups": dict(PoolFollowUp.objects.values_list("status").order_by().annotate(n=Count("pk"))),
        "tasks": dict(RetestTask.objects.values_list("status").order_by().annotate(n=Count("pk"))),
    }
