"""Pass services: issuing (one household pass in force, a zone's households at once, special passes
for a named person), the quota window at local day boundaries, every refusal at the gate, retries by
client id, revocation, and two gates racing for the last exit (PostgreSQL)."""

import datetime
import threading
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from epigrid.control import services as control_services
from epigrid.control.models import Category
from epigrid.passes import codes, services
from epigrid.passes.models import HouseholdPass, PassUse, PassWindow
from epigrid.people.models import Person
from tests.scoping import CAST_ROLES
from tests.test_passes_cast import local, passes


@pytest.fixture
def ps(cast):
    return passes(cast)


def test_it_issues_one_household_pass_with_the_seed_rule(cast, ps):
    hp = ps.household_pass()
    assert (hp.persons_per_window, hp.window_days, hp.area, hp.status) == (1, 2, cast.grid_a, "active")
    with pytest.raises(ValidationError) as exc:
        ps.household_pass()
    assert exc.value.code == "exists"


def test_it_issues_for_a_zone_once_per_household(cast, ps):
    created, kept = services.issue_for_zone(cast.community_officer, ps.zone, 1, 2)
    assert {p.household for p in created} == {cast.household_a, cast.household_b} and kept == 0
    created, kept = services.issue_for_zone(cast.community_officer, ps.zone, 1, 2)
    assert (created, kept) == ([], 2)


def test_a_grid_scoped_issuer_issues_only_for_its_grid(cast, ps):
    issuer = ps._user("grid_a_officer", "community_officer", cast.grid_a)
    created, _kept = services.issue_for_zone(issuer, ps.zone)
    assert [p.household for p in created] == [cast.household_a]
    with pytest.raises(PermissionDenied):
        services.issue_for_zone(ps.other_officer, ps.zone)


def test_it_issues_nothing_for_a_zone_no_longer_controlled(cast, ps):
    low = control_services.draw_zone(cast.community, "low", datetime.date(2026, 3, 1))
    with pytest.raises(ValidationError):
        services.issue_for_zone(cast.community_officer, low)


def test_gate_staff_and_auditors_cannot_issue(cast, ps):
    for user in (cast.checkpoint, cast.auditor, cast.grid_worker):
        with pytest.raises(PermissionDenied):
            services.issue(user, cast.household_a)


def test_it_lets_one_person_out_per_two_days_counted_in_local_days(cast, ps):
    hp = ps.household_pass()  # from 2026-03-01 09:30 local: windows 03-01..02, 03-03..04, ...
    first = ps.scan(hp, ps.mother, at=local(2026, 3, 1, 10, 0))
    assert first.allowed and first.remaining == 0 and first.use.window_starts_on == datetime.date(2026, 3, 1)
    ps.scan(hp, ps.mother, "return", at=local(2026, 3, 1, 12, 0))
    # A return does not give the exit back; 23:59 of the window's second day is still inside it.
    late = ps.scan(hp, ps.son, at=local(2026, 3, 2, 23, 59))
    assert (late.allowed, late.reason, late.next_window) == (False, "quota_used", datetime.date(2026, 3, 3))
    assert "2026-03-03" in late.message
    # 00:00 local opens the next window (16:00 UTC of the day before).
    midnight = ps.scan(hp, ps.son, at=local(2026, 3, 3, 0, 0))
    assert midnight.allowed and midnight.use.window_starts_on == datetime.date(2026, 3, 3)


def test_the_window_follows_the_local_day_not_utc(cast, ps):
    hp = ps.household_pass(valid_from=local(2026, 3, 1, 0, 0))
    # 07:59 local on 03-03 is 23:59 UTC on 03-02: still the second window by the local day.
    assert services.window_start(hp, local(2026, 3, 3, 7, 59)) == datetime.date(2026, 3, 3)
    assert services.window_start(hp, local(2026, 3, 2, 23, 59)) == datetime.date(2026, 3, 1)


def test_a_rule_of_two_persons_lets_two_out(cast, ps):
    hp = ps.household_pass(persons=2, days=3)
    assert ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0)).remaining == 1
    assert ps.scan(hp, ps.son, at=local(2026, 3, 3, 8, 0)).remaining == 0
    assert services.remaining(hp, local(2026, 3, 4, 8, 0)) == 2


def test_it_refuses_someone_already_out_until_they_return(cast, ps):
    hp = ps.household_pass(persons=2)
    ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0))
    again = ps.scan(hp, ps.mother, at=local(2026, 3, 2, 9, 0), user=ps.gate_b_staff, checkpoint=ps.gate_b)
    assert (again.allowed, again.reason) == (False, "already_out")
    back = ps.scan(
        hp, ps.mother, "return", at=local(2026, 3, 2, 11, 0), user=ps.gate_b_staff, checkpoint=ps.gate_b
    )
    assert back.allowed and back.use.exit.direction == "exit"
    assert ps.scan(hp, ps.mother, "return", at=local(2026, 3, 2, 12, 0)).reason == "not_out"


def test_it_refuses_a_person_of_another_household(cast, ps):
    outcome = ps.scan(ps.household_pass(), ps.neighbour, at=local(2026, 3, 2, 8, 0))
    assert (outcome.allowed, outcome.reason) == (False, "not_member")


def test_it_refuses_a_person_under_home_isolation(cast, ps):
    entry, _created = control_services.register_key_person(ps.son, Category.SECONDARY_CONTACT, cast.grid_a)
    entry.measures.filter(kind="home_isolation").update(status="active")
    outcome = ps.scan(ps.household_pass(), ps.son, at=local(2026, 3, 2, 8, 0))
    assert (outcome.allowed, outcome.reason) == (False, "isolating")
    assert outcome.status_label and "王" in outcome.message and "王小明" not in outcome.message


def test_it_refuses_when_the_zone_is_lifted(cast, ps):
    hp = ps.household_pass()
    ps.zone.status = "lifted"
    ps.zone.save()
    assert ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0)).reason == "zone_lifted"


def test_it_refuses_outside_the_validity(cast, ps):
    hp = ps.household_pass()
    assert ps.scan(hp, ps.mother, at=local(2026, 2, 28, 8, 0)).reason == "not_yet_valid"
    assert ps.scan(hp, ps.mother, at=local(2026, 4, 1, 0, 0)).reason == "expired"


def test_it_refuses_unknown_and_forged_codes_without_recording(cast, ps):
    hp = ps.household_pass()
    forged = codes.make_code(hp)[:-2] + "xx"
    outcome = services.scan(cast.checkpoint, forged, ps.mother, "exit", checkpoint=ps.gate)
    assert (outcome.allowed, outcome.reason) == (False, "unknown")
    assert services.scan(cast.checkpoint, "hello", ps.mother, "exit", checkpoint=ps.gate).reason == "unknown"
    assert PassUse.objects.count() == 0


def test_revoking_stops_the_printed_card(cast, ps):
    hp = ps.household_pass()
    old_code = codes.make_code(hp)
    services.revoke(cast.community_officer, hp, "卡片遗失")
    outcome = services.scan(
        cast.checkpoint, old_code, ps.mother, "exit", checkpoint=ps.gate, at=local(2026, 3, 2)
    )
    assert (outcome.allowed, outcome.reason) == (False, "revoked")
    assert ps.household_pass().status == "active"  # a new pass may be issued after revocation
    with pytest.raises(ValidationError):
        services.revoke(cast.community_officer, hp, "")


def test_a_person_out_on_a_revoked_pass_still_returns(cast, ps):
    hp = ps.household_pass()
    ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0))
    services.revoke(cast.community_officer, hp, "换发新证")
    hp.refresh_from_db()
    assert ps.scan(hp, ps.mother, "return", at=local(2026, 3, 2, 10, 0)).allowed


def test_a_retried_scan_answers_as_the_first(cast, ps):
    hp = ps.household_pass()
    client_id = uuid.uuid4()
    first = ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0), client_id=client_id)
    again = ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 1), client_id=str(client_id))
    assert first.allowed and again.allowed and again.replayed and again.use == first.use
    assert PassUse.objects.count() == 1 and PassWindow.objects.get().used == 1


def test_each_scan_has_its_change_log_row(cast, ps):
    """A pass use is written with its change-log row (one statement on PostgreSQL): the row names
    the use by key and holds what the use holds; a retry writes neither again."""
    from epigrid.audit.models import ObjectChange

    hp = ps.household_pass()
    client_id = uuid.uuid4()
    first = ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0), client_id=client_id)
    ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 1), client_id=client_id)
    use = PassUse.objects.get()
    (row,) = ObjectChange.objects.filter(action="create", content_type__model="passuse")
    assert (row.object_id, first.use.pk) == (use.pk, use.pk)
    assert row.postchange_data == first.use.serialize_for_log() and row.area_path == hp.area.path


def test_a_refused_scan_is_recorded_for_the_statistics(cast, ps):
    hp = ps.household_pass()
    ps.scan(hp, ps.mother, at=local(2026, 3, 2, 8, 0))
    ps.scan(hp, ps.son, at=local(2026, 3, 2, 9, 0))
    refused = PassUse.objects.get(outcome="refused")
    assert (refused.reason, refused.checkpoint, refused.window_starts_on) == ("quota_used", ps.gate, None)


def test_a_medical_pass_names_its_holder_and_has_its_own_validity(cast, ps):
    hp = services.issue(
        cast.community_officer,
        cast.household_a,
        HouseholdPass.Kind.MEDICAL,
        holder=ps.mother,
        valid_from=local(2026, 3, 5, 7, 0),
        valid_until=local(2026, 3, 5, 18, 0),
    )
    assert hp.persons_per_window is None
    assert ps.scan(hp, ps.son, at=local(2026, 3, 5, 8, 0)).reason == "not_member"
    assert ps.scan(hp, ps.mother, at=local(2026, 3, 5, 6, 59)).reason == "not_yet_valid"
    assert ps.scan(hp, ps.mother, at=local(2026, 3, 5, 8, 0)).allowed
    ps.scan(hp, ps.mother, "return", at=local(2026, 3, 5, 11, 0))
    assert ps.scan(hp, ps.mother, at=local(2026, 3, 5, 12, 0)).allowed  # no quota of its own
    assert ps.scan(hp, ps.mother, at=local(2026, 3, 5, 18, 1)).reason in ("expired", "already_out")


def test_a_medical_pass_lets_a_home_isolated_patient_go_to_hospital(cast, ps):
    entry, _created = control_services.register_key_person(ps.mother, Category.SECONDARY_CONTACT, cast.grid_a)
    entry.measures.filter(kind="home_isolation").update(status="active")
    hp = services.issue(
        cast.community_officer, cast.household_a, HouseholdPass.Kind.MEDICAL, holder=ps.mother
    )
    assert services.scan(cast.checkpoint, codes.make_code(hp), ps.mother, "exit", checkpoint=ps.gate).allowed


def test_a_special_pass_needs_a_holder_of_the_household(cast, ps):
    with pytest.raises(ValidationError):
        services.issue(
            cast.community_officer, cast.household_a, HouseholdPass.Kind.STAFF, holder=ps.neighbour
        )


def test_gate_staff_scan_only_at_their_own_gate(cast, ps):
    hp = ps.household_pass()
    at = local(2026, 3, 2, 8, 0)
    with pytest.raises(PermissionDenied):
        ps.scan(hp, ps.mother, at=at, user=cast.checkpoint, checkpoint=ps.gate_b)
    with pytest.raises(PermissionDenied):
        services.scan(cast.checkpoint, codes.make_code(hp), ps.mother, "exit", at=at)
    assert PassUse.objects.count() == 0 and PassWindow.objects.filter(used__gt=0).count() == 0
    assert ps.scan(hp, ps.mother, at=at).allowed


def test_officials_do_not_scan_and_gate_staff_of_another_community_do_not_see_the_pass(cast, ps):
    hp = ps.household_pass()
    with pytest.raises(PermissionDenied):
        services.scan(cast.community_officer, codes.make_code(hp), ps.mother, "exit")
    stranger = ps._user("gate_other", "checkpoint_staff", ps.other_community)
    assert services.scan(stranger, codes.make_code(hp), ps.mother, "exit").reason == "unknown"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_gates_scanning_the_last_exit_at_once_let_one_person_out(cast):
    ps = passes(cast)
    hp = ps.household_pass()
    at = local(2026, 3, 2, 8, 0)
    barrier = threading.Barrier(2)
    outcomes = {}

    def scan(name, user, gate, person):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = services.scan(user, codes.make_code(hp), person, "exit", checkpoint=gate, at=at)
        finally:
            conn.close()

    threads = [
        threading.Thread(target=scan, args=("north", cast.checkpoint, ps.gate, ps.mother)),
        threading.Thread(target=scan, args=("south", ps.gate_b_staff, ps.gate_b, ps.son)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.allowed for o in outcomes.values()) == [False, True], outcomes
    assert [o.reason for o in outcomes.values() if not o.allowed] == ["quota_used"]
    assert PassUse.objects.filter(outcome="allowed").count() == 1
    assert PassWindow.objects.get().used == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent scans need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_person_scanned_at_two_gates_at_once_goes_out_once(cast):
    ps = passes(cast)
    hp = ps.household_pass(persons=3)
    at = local(2026, 3, 2, 8, 0)
    barrier = threading.Barrier(2)
    outcomes = {}

    def scan(name, user, gate):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = services.scan(
                user, codes.make_code(hp), ps.mother, "exit", checkpoint=gate, at=at
            )
        finally:
            conn.close()

    threads = [
        threading.Thread(target=scan, args=("north", cast.checkpoint, ps.gate)),
        threading.Thread(target=scan, args=("south", ps.gate_b_staff, ps.gate_b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(o.reason for o in outcomes.values()) == ["", "already_out"], outcomes
    assert services.remaining(hp, at) == 2


def test_the_in_memory_scope_check_agrees_with_the_query_for_every_user_and_use(cast, ps):
    # A gate's scan decides its scope in memory (core.scoping.may_path with the gate's staff kept
    # per process); it must give restrict()'s answer for bound and unbound roles alike.
    from epigrid.checkpoints import services as checkpoints
    from epigrid.core.scoping import may, may_path

    hp_a, hp_b = ps.household_pass(), ps.household_pass(household=cast.household_b)
    at = local(2026, 3, 2, 8, 0)
    uses = [
        ps.scan(hp_a, ps.mother, at=at).use,
        ps.scan(hp_b, ps.neighbour, at=at, user=ps.gate_b_staff, checkpoint=ps.gate_b).use,
        ps.scan(hp_a, ps.son, direction="return", at=at, user=cast.admin).use,
    ]
    users = [getattr(cast, name) for name in CAST_ROLES] + [ps.gate_b_staff, ps.other_officer, cast.nobody]
    answers = set()
    for user in users:
        for use in uses:
            posted = use.checkpoint_id in checkpoints.posts_of(user)
            for action in ("view", "add", "change"):
                expected = may(user, use, action)
                path = use.household_pass.area.path
                assert may_path(user, PassUse, path, action, posted=posted) == expected, (user, use, action)
                answers.add(expected)
        for person in (ps.mother, ps.neighbour):  # and locks its person the same way
            assert may_path(user, Person, person.area.path, "view") == may(user, person, "view"), (user, person)
        for hp in (hp_a, hp_b):  # the scan reads its pass the same way
            for action in ("view", "change"):
                assert may_path(user, HouseholdPass, hp.area.path, action) == may(user, hp, action), (user, hp)
    assert answers == {True, False}


def test_a_gate_worker_taken_off_the_gate_can_no_longer_scan_there(cast, ps):
    hp = ps.household_pass()
    at = local(2026, 3, 2, 8, 0)
    assert ps.scan(hp, ps.mother, at=at).allowed
    ps.gate.staff.remove(cast.checkpoint)
    with pytest.raises(PermissionDenied):
        ps.scan(hp, ps.mother, direction="return", at=at, checkpoint=ps.gate)
