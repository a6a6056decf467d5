"""Roster services: members found before they are created, shifts stamped out of the pattern
(crossing midnight), the assignment rules (twice, full, overlap, rest, out of service), check-in
window, late and absent, forgotten check-outs credited only the planned hours, hours per person,
gaps (tonight's included), and two planners filling the last place at once (PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from epigrid.audit.models import ObjectChange
from epigrid.rosters import services
from epigrid.rosters.filtersets import ShiftFilterSet
from epigrid.rosters.models import Assignment, Post, Shift, StaffMember
from tests.rosters_cast import duty, hours_from_now


@pytest.fixture
def d(cast):
    return duty(cast)


def refused(code, fn, *args, **kwargs):
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    assert exc.value.code == code, exc.value
    return exc.value


def test_the_same_phone_in_the_same_area_is_the_same_member(cast, d):
    member, created = services.save_member(
        cast.community_officer, name="李志愿", phone="138 0000 1111", area=cast.grid_a, kind="volunteer"
    )
    assert not created and member == d.volunteer
    elsewhere, created = services.save_member(
        cast.community_officer, name="李志愿", phone="13800001111", area=cast.grid_b, kind="volunteer"
    )
    assert created and elsewhere.phone == "+8613800001111"
    assert StaffMember.objects.filter(phone="+8613800001111").count() == 2


def test_a_bad_phone_is_refused_and_a_member_outside_the_area_too(cast, d):
    with pytest.raises(ValidationError):
        services.save_member(cast.community_officer, name="某", phone="12345", area=cast.grid_a)
    with pytest.raises(PermissionDenied):
        services.save_member(cast.grid_worker, name="某", phone="13811112222", area=cast.grid_a)


def test_planning_stamps_three_shifts_a_day_crossing_midnight_and_twice_changes_nothing(cast, d):
    day = datetime.date(2026, 12, 7)
    created, kept = services.plan_shifts(cast.community_officer, d.post_a, day, 2)
    assert len(created) == 6 and not kept
    local = [(timezone.localtime(s.start), timezone.localtime(s.end)) for s in created[:3]]
    assert [(a.hour, b.hour) for a, b in local] == [(8, 16), (16, 0), (0, 8)]
    assert local[1][1].date() == day + datetime.timedelta(days=1)
    assert all(s.needed == 2 for s in created)
    again, kept = services.plan_shifts(cast.community_officer, d.post_a, day, 2)
    assert not again and len(kept) == 6
    assert Shift.objects.filter(post=d.post_a).count() == 6


def test_a_pattern_with_a_night_shift_22_to_6_ends_the_next_morning(cast, d):
    d.post_a.pattern = [{"start": "22:00", "end": "06:00"}]
    d.post_a.save()
    (shift,), _kept = services.plan_shifts(None, d.post_a, datetime.date(2026, 12, 7), 1)
    assert shift.end - shift.start == datetime.timedelta(hours=8)


def test_a_person_cannot_be_on_a_shift_twice(cast, d):
    shift = d.shift()
    d.on(shift, d.volunteer)
    with translation.override("en"):
        exc = refused("twice", d.on, shift, d.volunteer)
    assert "already on this shift" in exc.messages[0]


def test_a_full_shift_takes_nobody_else(cast, d):
    shift = d.shift(needed=1)
    d.on(shift, d.volunteer)
    with translation.override("en"):
        exc = refused("full", d.on, shift, d.cadre)
    assert "full" in exc.messages[0]


def test_overlapping_shifts_of_one_person_are_refused(cast, d):
    d.on(d.shift(d.post_a, hours_from_now(1)), d.volunteer)
    with translation.override("en"):
        exc = refused("overlap", d.on, d.shift(d.post_b, hours_from_now(5)), d.volunteer)
    assert d.post_a.name in exc.messages[0] and "overlaps" in exc.messages[0]


def test_less_than_the_minimum_rest_is_refused_and_enough_rest_is_fine(cast, d, settings):
    first = d.shift(d.post_a, hours_from_now(1))  # ends at +9 h
    d.on(first, d.volunteer)
    with translation.override("en"):
        exc = refused("rest", d.on, d.shift(d.post_b, hours_from_now(13)), d.volunteer)
    assert "less than 8 h" in exc.messages[0]
    assert d.on(d.shift(d.post_b, hours_from_now(17)), d.volunteer)
    settings.EPIGRID_ROSTER_MIN_REST_HOURS = 2
    assert d.on(d.shift(d.post_a, hours_from_now(28)), d.volunteer)  # 3 h after the +17 shift


def test_a_member_out_of_service_or_a_past_shift_is_refused(cast, d):
    d.cadre.active_to = timezone.localdate() - datetime.timedelta(days=1)
    d.cadre.save()
    refused("inactive", d.on, d.shift(), d.cadre)
    refused("over", d.on, d.shift(start=hours_from_now(-10)), d.volunteer)


def test_planning_outside_ones_area_is_forbidden(cast, d):
    shift = d.shift(d.post_b)
    with pytest.raises(PermissionDenied):
        services.assign(cast.grid_worker, shift, d.other)
    with pytest.raises(PermissionDenied):
        services.assign(cast.auditor, shift, d.other)
    assert services.assign(cast.community_officer, shift, d.other)


def test_check_in_opens_30_minutes_before_and_closes_at_the_end(cast, d):
    shift = d.shift(start=hours_from_now(2))
    row = d.on(shift, d.volunteer)
    refused(
        "early", services.check_in, d.volunteer_user, row, now=shift.start - datetime.timedelta(minutes=31)
    )
    row = services.check_in(d.volunteer_user, row, now=shift.start - datetime.timedelta(minutes=30))
    assert row.status == "on_duty" and not row.late


def test_check_in_after_the_start_is_late_and_after_the_end_is_closed(cast, d):
    shift = d.shift(start=hours_from_now(1))
    late = d.on(shift, d.volunteer)
    row = services.check_in(d.volunteer_user, late, now=shift.start + datetime.timedelta(minutes=5))
    assert row.late and row.status == "on_duty"
    other = d.on(d.shift(d.post_b, start=hours_from_now(1)), d.other)
    refused(
        "closed", services.check_in, d.other_user, other, now=other.shift.end + datetime.timedelta(minutes=1)
    )


def test_only_the_person_on_the_shift_checks_in(cast, d):
    row = d.on(d.shift(start=hours_from_now(0.25)), d.volunteer)
    with pytest.raises(PermissionDenied):
        services.check_in(d.other_user, row)
    with pytest.raises(PermissionDenied):
        services.check_in(cast.community_officer, row)


def test_checking_in_twice_keeps_the_first_time_and_check_out_credits_the_shift_only(cast, d):
    shift = d.shift(start=hours_from_now(0.25))
    row = d.on(shift, d.volunteer)
    first = shift.start - datetime.timedelta(minutes=20)
    services.check_in(d.volunteer_user, row, now=first)
    again = services.check_in(d.volunteer_user, row, now=first + datetime.timedelta(minutes=5))
    assert again.checked_in_at == first
    out = services.check_out(d.volunteer_user, row, now=shift.end + datetime.timedelta(minutes=40))
    assert out.status == "done" and out.worked_minutes == 8 * 60  # early and overstay not credited
    assert ObjectChange.objects.filter(object_id=row.pk, content_type__model="assignment").exists()


def test_the_sweep_marks_absent_30_minutes_after_the_start_and_closes_forgotten_check_outs(cast, d):
    now = timezone.now()
    start = now - datetime.timedelta(hours=12)
    old = d.shift(d.post_a, start=start)  # ended 4 h ago
    absent = Assignment.objects.create(shift=old, staff=d.cadre)
    forgot = Assignment.objects.create(
        shift=old,
        staff=d.volunteer,
        status="on_duty",
        checked_in_at=start + datetime.timedelta(hours=1),
    )
    fresh = d.shift(d.post_b, start=now - datetime.timedelta(minutes=20))
    not_yet = Assignment.objects.create(shift=fresh, staff=d.other)
    assert services.sweep(now) == {"absent": 1, "closed": 1}
    absent.refresh_from_db(), forgot.refresh_from_db(), not_yet.refresh_from_db()
    assert absent.status == "absent" and not_yet.status == "planned"
    assert forgot.status == "done" and forgot.auto_closed and forgot.checked_out_at == old.end
    assert forgot.worked_minutes == 7 * 60  # from check-in to the planned end, not to the sweep
    assert services.sweep(now) == {"absent": 0, "closed": 0}


def test_an_absent_person_arriving_inside_the_window_checks_in_late(cast, d):
    start = timezone.now() - datetime.timedelta(hours=1)
    row = Assignment.objects.create(shift=d.shift(start=start), staff=d.volunteer)
    services.sweep()
    row.refresh_from_db()
    assert row.status == "absent"
    row = services.check_in(d.volunteer_user, row)
    assert row.status == "on_duty" and row.late


def test_hours_add_planned_and_worked_per_person(cast, d):
    now = timezone.now()
    a = d.shift(d.post_a, start=now - datetime.timedelta(hours=30))
    b = d.shift(d.post_b, start=now - datetime.timedelta(hours=14))
    Assignment.objects.create(shift=a, staff=d.volunteer, status="done", worked_minutes=450, late=True)
    Assignment.objects.create(shift=b, staff=d.volunteer, status="absent")
    Assignment.objects.create(shift=a, staff=d.cadre, status="done", worked_minutes=480, auto_closed=True)
    rows = services.hours(Assignment.objects.all(), now - datetime.timedelta(days=2), now)
    by_name = {r["member"].name: r for r in rows}
    assert by_name["李志愿"]["planned"] == 16.0 and by_name["李志愿"]["worked"] == 7.5
    assert by_name["李志愿"]["late"] == 1 and by_name["李志愿"]["absent"] == 1
    assert by_name["王下沉"]["worked"] == 8.0 and by_name["王下沉"]["forgotten"] == 1


def test_gaps_count_needed_minus_assigned_plus_the_absent_of_started_shifts(cast, d):
    now = timezone.now()
    coming = d.shift(d.post_a, start=now + datetime.timedelta(hours=2), needed=3)
    d.on(coming, d.volunteer)
    full = d.shift(d.post_b, start=now + datetime.timedelta(hours=2), needed=1)
    d.on(full, d.other)
    started = d.shift(d.post_b, start=now - datetime.timedelta(hours=4), hours=8, needed=2)
    Assignment.objects.create(shift=started, staff=d.cadre, status="on_duty", checked_in_at=started.start)
    Assignment.objects.create(shift=started, staff=d.volunteer)  # no check-in after 4 h: absent
    found = {
        g["shift"].pk: g
        for g in services.gaps(
            cast.community, now - datetime.timedelta(hours=6), now + datetime.timedelta(hours=12), now
        )
    }
    assert found[coming.pk]["gap"] == 2
    assert full.pk not in found
    assert found[started.pk]["gap"] == 1 and found[started.pk]["absent"] == 1
    # Another area's gaps are not counted.
    assert services.gaps(cast.grid_a, now, now + datetime.timedelta(hours=12), now)[0]["shift"] == coming
    assert all(
        g["post"] != d.post_b
        for g in services.gaps(cast.grid_a, now, now + datetime.timedelta(hours=12), now)
    )


def test_the_short_of_staff_filter_finds_the_shifts_gaps_finds(cast, d):
    """The shift list's "short" filter (and the dashboard tile reading it) agrees with `gaps`."""
    now = timezone.now()
    coming = d.shift(d.post_a, start=now + datetime.timedelta(hours=2), needed=3)
    d.on(coming, d.volunteer)
    full = d.shift(d.post_b, start=now + datetime.timedelta(hours=3), needed=1)
    d.on(full, d.other)
    started = d.shift(d.post_b, start=now - datetime.timedelta(hours=4), hours=8, needed=2)
    Assignment.objects.create(shift=started, staff=d.cadre, status="on_duty", checked_in_at=started.start)
    Assignment.objects.create(shift=started, staff=d.volunteer)  # no check-in after 4 h: absent
    window = (now - datetime.timedelta(hours=6), now + datetime.timedelta(hours=24))
    expected = {g["shift"].pk for g in services.gaps(cast.community, *window, now)}
    shifts = Shift.objects.filter(start__lt=window[1], end__gt=window[0])
    assert set(services.short_of_staff(shifts, now).values_list("pk", flat=True)) == expected
    assert expected == {coming.pk, started.pk}
    filtered = ShiftFilterSet({"short": "true", "upcoming": "true"}, queryset=Shift.objects.all()).qs
    assert set(filtered.values_list("pk", flat=True)) == {coming.pk, started.pk}
    assert full.pk in set(
        ShiftFilterSet({"short": "false"}, queryset=Shift.objects.all()).qs.values_list("pk", flat=True)
    )


def test_tonight_runs_from_18_to_8_and_shows_tonights_empty_places(cast, d):
    tz = timezone.get_current_timezone()
    afternoon = timezone.make_aware(datetime.datetime(2026, 12, 7, 15, 0), tz)
    evening, morning = services.tonight(afternoon)
    assert (evening.hour, morning.hour, (morning - evening).total_seconds()) == (18, 8, 14 * 3600)
    small_hours = timezone.make_aware(datetime.datetime(2026, 12, 8, 2, 0), tz)
    assert services.tonight(small_hours)[1] == morning
    services.plan_shifts(None, d.post_a, datetime.date(2026, 12, 7), 2)
    night = Shift.objects.get(
        post=d.post_a, start=timezone.make_aware(datetime.datetime(2026, 12, 8, 0, 0), tz)
    )
    d.on(night, d.cadre, now=afternoon)
    gaps = services.gaps(cast.district, evening, morning, afternoon)
    spans = {(timezone.localtime(g["start"]).hour, g["gap"]) for g in gaps}
    assert spans == {(16, 2), (0, 1)}


def test_an_inactive_post_has_no_gaps(cast, d):
    d.shift(d.post_a)
    Post.objects.filter(pk=d.post_a.pk).update(is_active=False)
    assert services.gaps(cast.community, hours_from_now(0), hours_from_now(24)) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_planners_cannot_both_fill_the_last_place(cast):
    d = duty(cast)
    shift = d.shift(needed=1)
    barrier = threading.Barrier(2)
    outcomes = {}

    def plan(name, user, member):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = services.assign(user, Shift.objects.get(pk=shift.pk), member)
        except ValidationError as exc:
            outcomes[name] = exc
        finally:
            conn.close()

    threads = [
        threading.Thread(target=plan, args=("a", cast.community_officer, d.volunteer)),
        threading.Thread(target=plan, args=("b", cast.street_officer, d.cadre)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    made = [o for o in outcomes.values() if isinstance(o, Assignment)]
    refusals = [o for o in outcomes.values() if isinstance(o, ValidationError)]
    assert len(made) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].code == "full"
    assert Assignment.objects.filter(shift=shift).count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_planners_cannot_give_one_person_overlapping_shifts(cast):
    d = duty(cast)
    one, two = d.shift(d.post_a, hours_from_now(1)), d.shift(d.post_b, hours_from_now(3))
    barrier = threading.Barrier(2)
    outcomes = {}

    def plan(name, shift):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = services.assign(
                cast.community_officer, Shift.objects.get(pk=shift.pk), d.volunteer
            )
        except ValidationError as exc:
            outcomes[name] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=plan, args=(n, s)) for n, s in (("one", one), ("two", two))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Assignment.objects.filter(staff=d.volunteer).count() == 1, outcomes
    assert [o.code for o in outcomes.values() if isinstance(o, ValidationError)] == ["overlap"]
