"""The dashboard's city snapshot (decision 0032 addendum 2): per-area counts summed over a user's
scope equal the live counts, stay as taken for DASHBOARD_SNAPSHOT_SECONDS then follow the data, are
taken again on a new day, and leave a bound role's tiles to live counting."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from epigrid.dashboard import services, snapshot
from epigrid.dashboard.models import TileSnapshot
from epigrid.dashboard.tiles import BY_KEY
from tests.scoping import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _snapshot_on(settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    settings.DASHBOARD_SNAPSHOT_SECONDS = 15


def _value(user, key, now, area=None):
    rows = services.tiles(services.request_for(user), area=area, now=now)
    return next(r for r in rows if r["key"] == key)


def test_a_users_figure_is_the_sum_over_their_subtree(cast):
    for _ in range(2):
        make_person(area=cast.grid_a)
    make_person(area=cast.grid_b)
    now = timezone.now()
    assert _value(cast.grid_worker, "residents", now)["value"] == 2
    assert _value(cast.grid_worker_b, "residents", now)["value"] == 1
    assert _value(cast.commander, "residents", now)["value"] == 3
    assert _value(cast.commander, "residents", now, area=cast.grid_b)["value"] == 1
    assert TileSnapshot.objects.get().counts["residents"] == {cast.grid_a.path: 2, cast.grid_b.path: 1}


def test_it_is_kept_for_its_seconds_then_follows_the_data(cast):
    make_person(area=cast.grid_a)
    now = timezone.now()
    first = _value(cast.commander, "residents", now)
    make_person(area=cast.grid_a)
    kept = _value(cast.commander, "residents", now + datetime.timedelta(seconds=10))
    assert kept["value"] == 1 and kept["as_of"] == first["as_of"] == now  # says how old it is
    later = now + datetime.timedelta(seconds=16)
    assert _value(cast.commander, "residents", later) == {**first, "value": 2, "as_of": later}


def test_a_new_day_takes_it_again(cast):
    now = timezone.now()
    _value(cast.commander, "residents", now)
    snap = TileSnapshot.objects.get()
    snap.day -= datetime.timedelta(days=1)  # yesterday's "today" tiles must not show
    snap.save()
    make_person(area=cast.grid_a)
    assert _value(cast.commander, "residents", now)["value"] == 1
    assert TileSnapshot.objects.get().day == timezone.localdate(now)


def test_a_bound_roles_tiles_are_counted_live(cast):
    # Checkpoint staff see the passages of their own posts, not of an area.
    tile = BY_KEY["checkpoint_refusals_today"]
    assert snapshot.summable_for(tile, cast.commander)
    assert not snapshot.summable_for(tile, cast.checkpoint)
    # Upward-reaching models (zones filed above the user) and the reports' counters too.
    assert not snapshot.summable(BY_KEY["reports_missing_today"])


def test_the_command_takes_it_once(cast):
    make_person(area=cast.grid_a)
    out = io.StringIO()
    call_command("dashboard_snapshot", stdout=out)
    assert "dashboard snapshot" in out.getvalue()
    assert TileSnapshot.objects.get().counts["residents"] == {cast.grid_a.path: 1}


def test_it_is_off_at_zero_seconds(cast, settings):
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0
    make_person(area=cast.grid_a)
    assert _value(cast.commander, "residents", timezone.now())["value"] == 1
    assert not TileSnapshot.objects.exists()


def test_todays_disinfection_coverage_is_the_task_lists_two_counts(cast):
    """Done ÷ due of today's rounds: two tiles, each the disinfection task list's count — summed from
    the snapshot for an area's officer, counted live for a team leader (their team's tasks only)."""
    from tests.disinfection_cast import disinfection

    d = disinfection(cast)
    first = d.task(cast.grid_a, site_type="bin")
    d.task(cast.grid_a, site_type="toilet")
    d.task(cast.grid_b, team="b", site_type="bin")
    d.complete(first)
    now = timezone.now()
    expected = {
        cast.community_officer: (3, 1),
        cast.grid_worker: (2, 1),
        cast.leader: (2, 1),
        cast.other_leader: (1, 0),
    }
    for user, (due, done) in expected.items():
        rows = {
            r["key"]: r
            for r in services.tiles(services.request_for(user), now=now)
            if "disinfection" in r["key"]
        }
        assert (rows["disinfection_due_today"]["value"], rows["disinfection_done_today"]["value"]) == (
            due,
            done,
        )
        client = cast.client_for(user)
        for row in rows.values():
            assert client.get(row["url"]).context["table"].paginator.count == row["value"], row["url"]
    # The officer's figures came from the snapshot, the leader's were counted live.
    counts = TileSnapshot.objects.get().counts
    assert counts["disinfection_due_today"] == {cast.grid_a.path: 2, cast.grid_b.path: 1}
    assert not snapshot.summable_for(BY_KEY["disinfection_due_today"], cast.leader)
    assert snapshot.summable_for(BY_KEY["disinfection_due_today"], cast.community_officer)
