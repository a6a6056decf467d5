"""The demo's isolation part: two sites with rooms in every state, stays in every state, the
running centralized steps in rooms, and data on the isolation pages of the demo roles."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.control.models import ControlMeasure
from epigrid.isolation.models import Room, Site, Stay


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_two_sites_with_rooms_and_stays_in_every_state(demo):
    counts = demo["counts"]["isolation"]
    assert counts["sites"] == 2 == Site.objects.count()
    assert all(counts["rooms"][status] >= 1 for status in Room.Status.values), counts
    assert all(counts["stays"][status] >= 1 for status in Stay.Status.values), counts
    running = ControlMeasure.objects.filter(kind="centralized", status="active")
    in_rooms = Stay.objects.filter(status__in=Stay.ACTIVE, measure__in=running)
    assert in_rooms.count() == running.count() > 0
    for site in Site.objects.all():
        occupied = site.stays.filter(status="checked_in").count()
        allocated = site.stays.filter(status="allocated").count()
        assert site.capacity - occupied - allocated >= 0
    assert counts["available"] == sum(
        s.capacity - s.stays.filter(status__in=Stay.ACTIVE).count() for s in Site.objects.all()
    )


@pytest.mark.parametrize("username", ["demo_isolation", "demo_commander"])
def test_every_isolation_page_shows_data_to_the_demo_roles(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    site = Site.objects.filter(staff__username="demo_isolation").get()
    stay = Stay.objects.filter(site=site).first()
    for url in (
        "/isolation/",
        "/isolation/rooms/",
        "/isolation/stays/",
        site.get_absolute_url(),
        stay.get_absolute_url(),
    ):
        response = client.get(url)
        assert response.status_code == 200, (username, url)
        body = response.content.decode()
        assert "暂无记录" not in body and "No records yet" not in body, (username, url)


def test_the_staff_see_only_their_site(demo):
    client = Client()
    client.force_login(User.objects.get(username="demo_isolation"))
    other = Site.objects.exclude(staff__username="demo_isolation").get()
    assert client.get(other.get_absolute_url()).status_code == 404


def test_todays_checks_are_partly_done_with_one_fever(demo):
    from epigrid.isolation import services
    from epigrid.isolation.models import Reading

    counts = demo["counts"]["isolation"]
    assert counts["readings_today"] > 0 and counts["fevers_today"] == 1
    site = Site.objects.filter(staff__username="demo_isolation").get()
    slot = services.slot_at()
    staff = User.objects.get(username="demo_isolation")
    floors = services.checks(staff, site, Reading.objects.latest("day").day, slot)
    done = sum(f["done"] for f in floors)
    due = sum(f["due"] for f in floors)
    assert 0 < done < due
    client = Client()
    client.force_login(staff)
    body = client.get(f"/isolation/sites/{site.pk}/checks/").content.decode()
    assert 'data-testid="check-room-done"' in body and 'data-testid="temperature-input"' in body


def test_the_demo_shows_release_home_tests_fees_and_waste(demo):
    from epigrid.isolation.models import WasteHandover

    counts = demo["counts"]["isolation"]
    assert counts["home_to_receive"] == 1 and counts["home_received"] == 1, counts
    assert set(counts["payers"]) == {"government", "self", "employer"}, counts
    assert counts["waste_handovers"] >= 5
    assert WasteHandover.objects.filter(collector_signed_at__isnull=True).count() == 1
    staff = Client()
    staff.force_login(User.objects.get(username="demo_isolation"))
    site = Site.objects.filter(staff__username="demo_isolation").get()
    page = staff.get(site.get_absolute_url()).content.decode()
    assert 'data-testid="fee-row"' in page
    if counts["tests_due_today"]:
        assert 'data-testid="test-row"' in staff.get(f"/isolation/sites/{site.pk}/checks/").content.decode()
    assert 'data-testid="waste-row"' in staff.get(f"/isolation/sites/{site.pk}/waste/").content.decode()
    # The demo grid worker (or, when none of theirs was in isolation, the commander's roll-up)
    # sees the person to receive.
    waiting = Stay.objects.get(home_step__isnull=False, home_received_at__isnull=True)
    for username in ("demo_grid", "demo_commander"):
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        client = Client()
        client.force_login(user)
        body = client.get("/control/today/").content.decode()
        if 'data-testid="home-arrival' in body:
            break
    else:
        raise AssertionError(f"nobody sees {waiting} to receive")


def test_the_demo_has_a_person_in_hospital_and_one_back_from_hospital(demo):
    from epigrid.isolation import services

    there = services.in_hospital(Stay.objects.all()).get()
    assert there.measure.status == "hospitalized" and there.note and there.checked_out_at
    back = Stay.objects.filter(from_hospital__isnull=False).select_related("from_hospital").first()
    if back is not None:  # a district with a free single left
        assert back.status in Stay.ACTIVE and back.measure_id == back.from_hospital.measure_id
        assert back.from_hospital.status == "hospital"
        assert back.checked_in_at > back.from_hospital.checked_out_at
    staff = Client()
    staff.force_login(User.objects.get(username="demo_isolation"))
    page = staff.get(there.site.get_absolute_url()).content.decode()
    assert 'data-testid="hospital-row"' in page and there.person.name in page
