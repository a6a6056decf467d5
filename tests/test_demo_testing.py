"""The demo's mass testing (epigrid.demo.testing): a finished and a running round whose bulk-written
tubes, samples and sampled persons are what testing.services.ingest would have left behind."""

import collections
import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from epigrid.accounts.models import User
from epigrid.areas.models import Area, Level
from epigrid.demo import data
from epigrid.people.models import Person
from epigrid.testing import services
from epigrid.testing.models import (
    SWEEP_EXEMPTS,
    Campaign,
    Desk,
    Exemption,
    Find,
    HomeTask,
    Sample,
    SampledPerson,
    SamplingPoint,
    SweepOutcome,
    SweepVisit,
    Tube,
)

RESIDENTS = 3000  # four grids in three communities: enough for the coverage band to mean something


def build(residents=RESIDENTS, seed=3):
    out = io.StringIO()
    call_command("demo", residents=residents, seed=seed, json=True, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def remove_testing():
    """Everything the demo's testing part wrote, in an order the protecting keys allow."""
    HomeTask.objects.all().delete()
    SampledPerson.objects.all().delete()
    Sample.objects.all().delete()
    Tube.objects.all().delete()
    Find.objects.all().delete()
    Campaign.objects.all().delete()  # points, desks, exemptions, sweeps go with it


def rounds():
    finished = Campaign.objects.get(status=Campaign.Status.FINISHED)
    running = Campaign.objects.get(status=Campaign.Status.RUNNING)
    return finished, running


@pytest.mark.django_db
def test_the_bulk_written_samples_are_what_ingest_would_have_written():
    build()
    assert Sample.objects.count() > RESIDENTS
    for campaign in rounds():
        tubes = Tube.objects.filter(campaign=campaign).annotate(
            active=Count("samples", filter=Q(samples__status=Sample.Status.ACTIVE))
        )
        positions = collections.defaultdict(list)
        for tube_id, position in Sample.objects.filter(campaign=campaign).values_list("tube_id", "position"):
            positions[tube_id].append(position)
        for tube in tubes:
            assert tube.count == tube.active, tube.barcode
            assert sorted(positions[tube.pk]) == list(range(1, tube.count + 1)), tube.barcode
            assert 1 <= tube.count <= tube.capacity == campaign.pooling
            # A full tube closed at its tenth scan (换管); only the desk's current tube is open.
            if tube.count == tube.capacity:
                assert tube.status != Tube.Status.OPEN
            campaign.check_tube_barcode(tube.barcode)  # the round's rule, check digit included
        open_tubes = Tube.objects.filter(campaign=campaign, status=Tube.Status.OPEN)
        assert open_tubes.count() == open_tubes.values("desk").distinct().count()
        # A sample sits at its tube's point and desk, scanned by someone posted there.
        assert not Sample.objects.filter(campaign=campaign).exclude(desk=F("tube__desk")).exists()
        assert not Sample.objects.filter(campaign=campaign).exclude(point=F("tube__point")).exists()
        # One SampledPerson per person sampled in the round: the first sample, filed under the grid.
        persons = set(
            Sample.objects.filter(campaign=campaign, person__isnull=False).values_list("person_id", flat=True)
        )
        sampled = SampledPerson.objects.filter(campaign=campaign)
        assert set(sampled.values_list("person_id", flat=True)) == persons
        assert sampled.count() == len(persons)
        firsts = dict(
            Sample.objects.filter(campaign=campaign, person__isnull=False)
            .values_list("person_id")
            .annotate(first=Min("scanned_at"))
        )
        for row in sampled.select_related("first_sample", "person"):
            assert row.first_sample.person_id == row.person_id
            assert row.sampled_at == row.first_sample.scanned_at == firsts[row.person_id]
            assert row.area_id == row.person.area_id
            assert row.first_sample.repeat is False
        repeats = Sample.objects.filter(campaign=campaign, person__isnull=False, repeat=True).count()
        assert (
            Sample.objects.filter(campaign=campaign, person__isnull=False).count() == len(persons) + repeats
        )
        assert not Sample.objects.filter(campaign=campaign, received_at__lt=F("scanned_at")).exists()
        assert not Sample.objects.filter(campaign=campaign, scanned_at__gt=timezone.now()).exists()


@pytest.mark.django_db
def test_the_finished_round_covers_93_to_97_percent_with_realistic_gaps():
    result = build()
    finished, running = rounds()
    district = Area.objects.get(level=Level.DISTRICT)
    head, children = services.coverage(finished, district)
    assert 93 <= head["coverage"] <= 97
    assert head["exempt"] > 0 and head["missed"] > 0
    # The counts agree with a brute-force count over the registry.
    residents = Person.objects.filter(merged_into__isnull=True).count()
    sampled = set(SampledPerson.objects.filter(campaign=finished).values_list("person_id", flat=True))
    exempt = set(Exemption.objects.filter(campaign=finished).values_list("person_id", flat=True)) - sampled
    assert head["expected"] == residents - len(exempt)
    assert head["sampled"] == len(sampled)
    grids = services.grid_counts(finished, services.scope_grids(finished))
    rates = [s / (r - e) for r, s, e in grids.values() if r - e]
    assert max(rates) - min(rates) > 0.005  # not every grid alike
    # Exemptions have their reasons and notes; sweeps have outcomes, "not at home" among them.
    reasons = set(Exemption.objects.filter(campaign=finished).values_list("reason", flat=True))
    assert len(reasons) >= 3
    assert not Exemption.objects.filter(campaign=finished, note="").exists()
    outcomes = collections.Counter(
        SweepVisit.objects.filter(campaign=finished).values_list("outcome", flat=True)
    )
    assert outcomes[SweepOutcome.NOT_HOME] > 0 and outcomes[SweepOutcome.SAMPLED_HOME] > 0
    for visit in SweepVisit.objects.filter(
        campaign=finished, outcome__in=[*SWEEP_EXEMPTS, SweepOutcome.EXEMPT]
    ):
        assert Exemption.objects.filter(campaign=finished, person=visit.person_id).exists()
    for visit in SweepVisit.objects.filter(campaign=finished, outcome=SweepOutcome.SAMPLED_HOME):
        assert visit.person_id in sampled
        assert HomeTask.objects.filter(campaign=finished, person=visit.person_id, status="done").exists()
    # Home sampling: done tasks hold their sample, taken by the team; some are still open.
    tasks = HomeTask.objects.filter(campaign=finished)
    assert tasks.filter(status=HomeTask.Status.OPEN).exists()
    for task in tasks.filter(status=HomeTask.Status.DONE).select_related("sample__point", "team"):
        assert task.sample.person_id == task.person_id
        assert task.sample.point_id == task.team_id and task.team.is_home_team
    assert not tasks.filter(status=HomeTask.Status.OPEN, person__in=list(sampled)).exists()
    # Finds: one of each status; a registered one's samples follow the person; none is a resident.
    finds = Find.objects.filter(campaign=finished)
    assert set(finds.values_list("status", flat=True)) == set(Find.Status.values)
    for find in finds:
        assert find.samples.exists()
        assert not Person.objects.filter(doc_number=find.doc_number).exists()
        if find.status == Find.Status.REGISTERED:
            assert set(find.samples.values_list("person_id", flat=True)) == {find.person_id}
            assert find.person_id in sampled
        else:
            assert set(find.samples.values_list("person_id", flat=True)) == {None}
    assert finished.ends_at < running.starts_at
    assert result["testing"]["rounds"][0]["coverage"] == head["coverage"]


@pytest.mark.django_db
def test_the_running_round_started_this_morning_with_tubes_open_at_the_desks():
    result = build()
    finished, running = rounds()
    now = timezone.now()
    assert running.starts_at <= now - timezone.timedelta(hours=2)
    assert now - running.starts_at < timezone.timedelta(hours=24)
    assert running.copied_from_id == finished.pk
    head, _children = services.coverage(running, running.area)
    assert 20 < head["coverage"] < 60
    statuses = collections.Counter(Tube.objects.filter(campaign=running).values_list("status", flat=True))
    assert statuses[Tube.Status.OPEN] and statuses[Tube.Status.CLOSED] and statuses[Tube.Status.SEALED]
    assert not Tube.objects.filter(campaign=running, status=Tube.Status.SEALED, sealed_at__gt=now).exists()
    assert set(Tube.objects.filter(campaign=finished).values_list("status", flat=True)) == {
        Tube.Status.SEALED
    }
    # Points per community, a home team per street, the same points and desks in both rounds.
    communities = Area.objects.filter(level=Level.COMMUNITY)
    points = SamplingPoint.objects.filter(campaign=running)
    for community in communities:
        assert points.filter(area__path__startswith=community.path, is_home_team=False).exists()
    assert points.filter(is_home_team=True).count() == Area.objects.filter(level=Level.STREET).count()
    assert sorted(points.values_list("name", flat=True)) == sorted(
        SamplingPoint.objects.filter(campaign=finished).values_list("name", flat=True)
    )
    # The demo sampler is posted at a point of the demo community, whose first desk has a tube open.
    sampler = User.objects.get(username=data.DEMO_USERS["sampler"][0])
    visible = SamplingPoint.objects.restrict(sampler, "view").filter(campaign=running)
    assert visible.count() == 1
    point = visible.get()
    desk = Desk.objects.restrict(sampler, "view").filter(point=point).order_by("name").first()
    assert desk.tubes.filter(status=Tube.Status.OPEN).exists()
    post = result["testing"]["sampler"]
    assert post["username"] == sampler.username and post["point"] == point.name
    assert post["desks"][0]["id"] == desk.pk
    assert [(r["id"], r["status"]) for r in result["testing"]["rounds"]] == [
        (finished.pk, "finished"),
        (running.pk, "running"),
    ]
    # Every team is posted at its point; a sampler sees only the points they staff.
    for p in points.prefetch_related("staff"):
        assert p.staff.exists()


def snapshot():
    return (
        list(
            Tube.objects.order_by("barcode").values_list(
                "barcode", "campaign__name", "point__name", "desk__name", "count", "status", "opened_at"
            )
        ),
        list(
            Sample.objects.order_by("tube__barcode", "position").values_list(
                "client_id", "person__doc_number", "find__doc_number", "via", "repeat", "scanned_at"
            )
        ),
        sorted(Exemption.objects.values_list("person__doc_number", "reason", "campaign__name")),
        sorted(SweepVisit.objects.values_list("person__doc_number", "outcome", "visited_at")),
    )


@pytest.mark.django_db
def test_it_writes_the_same_rounds_from_the_same_seed(monkeypatch):
    from tests.test_demo import wipe

    fixed = timezone.now().replace(hour=15, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: fixed)
    first = build(residents=1200)
    before = snapshot()
    remove_testing()
    wipe()
    second = build(residents=1200)
    assert snapshot() == before
    assert first["counts"]["testing"] == second["counts"]["testing"]


@pytest.mark.django_db
def test_a_demo_built_at_night_still_has_tubes_at_every_stage():
    """02:36 in Beijing, just after a courier's round: the running round started five hours ago
    and the tubes closed since the last pick-up still wait at the desks."""
    from freezegun import freeze_time

    with freeze_time("2026-12-06 18:36:00", tick=True):
        build()
        _finished, running = rounds()
        now = timezone.now()
        assert now - running.starts_at >= timezone.timedelta(hours=5)
        statuses = collections.Counter(Tube.objects.filter(campaign=running).values_list("status", flat=True))
        assert statuses[Tube.Status.OPEN] and statuses[Tube.Status.CLOSED] and statuses[Tube.Status.SEALED]
