"""The demo's single-tube retests through the real path: a home-team tube per person, delivered to
the lab by transport, whose lab result ends the task by itself (a negative releases, a positive
registers a key person and leaves a zone proposal open); the counts and the summary say so."""

import pytest

from epigrid.audit.models import Transition
from epigrid.control.models import KeyPerson
from epigrid.retests import services
from epigrid.retests.models import Kind, PoolFollowUp, RetestTask, ZoneProposal
from epigrid.transport.services import delivered_tubes
from tests.test_demo import RESIDENTS, SEED, build, run_demo


def _through_the_lab(task):
    """The retest tube of `task` and its lab result, checked to have come the real way."""
    tube = task.retest_tube
    assert tube is not None and tube.barcode == task.retest_barcode
    samples = list(tube.samples.filter(status="active").values_list("person_id", flat=True))
    assert samples == [task.person_id]  # a single tube of that person
    result = tube.lab_result
    assert result.source == "demo" and tube in delivered_tubes(result.lab)
    (target, note, user) = (
        Transition.objects.filter(content_type__model="retesttask", object_id=task.pk)
        .order_by("-id")
        .values_list("target", "note", "user")
        .first()
    )
    assert target == task.status and tube.barcode in note and user is None  # the system's move
    return result


@pytest.mark.django_db
def test_the_demo_resolves_single_tube_retests_by_the_lab_s_own_results():
    built = build()
    mid = PoolFollowUp.objects.filter(kind=Kind.POOLED_POSITIVE).order_by("opened_at", "id").first()
    assert mid.status == "open"

    positive = RetestTask.objects.get(follow_up=mid, status="positive")
    assert _through_the_lab(positive).result == "positive"
    entry = positive.key_person
    assert (entry.person_id, entry.category, entry.status) == (
        positive.person_id,
        services.KEY_PERSON_CATEGORY,
        "open",
    )
    proposal = ZoneProposal.objects.get()
    assert (proposal.status, proposal.task, proposal.building) == (
        "proposed",
        positive,
        positive.household.building,
    )

    released = RetestTask.objects.filter(follow_up=mid, status="released", retest_tube__isnull=False).get()
    assert _through_the_lab(released).result == "negative"
    assert not KeyPerson.objects.filter(person_id=released.person_id, source="testing").exists()

    counts = built["counts"]["retests"]
    assert counts["tasks"]["positive"] == 1 and counts["proposals"] == {"proposed": 1}
    text = run_demo(residents=RESIDENTS, seed=SEED, if_empty=True)
    tasks = " · ".join(f"{status} {n:,}" for status, n in sorted(counts["tasks"].items()))
    assert f"tasks {tasks}" in text and "positive 1" in text
