"""Supervision's services: the workflow and who may make each move, evidence, escalation up the
area tree, raise_item / resolve_source for other apps, the on-time figures, and the race of two
officers deciding one item (PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from epigrid.audit.services import history
from epigrid.supervision import services
from epigrid.supervision.models import Item, ItemPhoto
from tests.supervision_cast import png, supervision

S = Item.Status


@pytest.fixture
def sv(cast):
    return supervision(cast)


def test_an_item_with_a_responsible_person_is_assigned_at_the_raisers_level(cast, sv):
    item = sv.item()
    assert item.status == S.ASSIGNED
    assert item.raised_in == cast.street  # raised by the street for a grid: the street signs off
    assert [(h.source, h.target) for h in history(item)] == [("", "assigned")]


def test_an_item_without_a_responsible_person_waits_to_be_assigned(cast, sv):
    item = sv.item(responsible=None)
    assert item.status == S.NEW
    with (
        override("en"),
        pytest.raises(ValidationError, match="Assign the item to a responsible person first"),
    ):
        services.start(cast.grid_worker, item)
    item = services.assign(cast.street_officer, item, cast.grid_worker)
    assert item.status == S.ASSIGNED and item.responsible == cast.grid_worker


def test_the_whole_way_to_sign_off(cast, sv):
    item = sv.item(category="checkpoint")
    item = services.start(cast.grid_worker, item)
    assert item.status == S.RECTIFYING and item.started_at
    item = services.submit(cast.grid_worker, item, "已设置测温点并补齐登记", photos=[png()])
    assert item.status == S.SUBMITTED and item.evidence_note == "已设置测温点并补齐登记"
    assert item.photos.filter(kind=ItemPhoto.Kind.EVIDENCE).count() == 1
    item = services.sign_off(sv.street_b, item, "现场复核通过")
    assert item.status == S.SIGNED_OFF and item.signed_off_by == sv.street_b and item.on_time
    assert [h.target for h in history(item).order_by("pk")] == [
        "assigned",
        "rectifying",
        "submitted",
        "signed_off",
    ]


def test_refused_moves_say_what_comes_first(cast, sv):
    item = sv.item()
    with override("en"):
        with pytest.raises(ValidationError, match="Start the rectification first"):
            services.submit(cast.grid_worker, item, "done it")
        with pytest.raises(ValidationError, match="Only an item submitted with evidence"):
            services.sign_off(cast.street_officer, item)
        services.start(cast.grid_worker, item)
        with pytest.raises(ValidationError, match="Rectification has started already"):
            services.start(cast.grid_worker, item)
        item = services.submit(cast.grid_worker, item, "补齐了")
        with pytest.raises(ValidationError, match="submitted already"):
            services.submit(cast.grid_worker, item, "again")
        services.sign_off(cast.street_officer, item)
        with pytest.raises(ValidationError, match="signed off already"):
            services.send_back(cast.street_officer, item, "不行")
        with pytest.raises(ValidationError, match="signed off already"):
            services.cancel(cast.street_officer, item, "重复")


def test_only_the_responsible_person_works_on_the_item(cast, sv):
    item = sv.item()
    with override("en"), pytest.raises(PermissionDenied, match="Only the responsible person"):
        services.start(cast.community_officer, item)


def test_the_responsible_person_must_hold_a_right_over_the_area(cast, sv):
    with override("en"), pytest.raises(ValidationError, match="holds no right over"):
        sv.item(responsible="grid_worker_b")  # grid B's worker for a grid A problem


def test_evidence_needs_a_note_and_for_site_problems_a_photo(cast, sv):
    item = services.start(cast.grid_worker, sv.item(category="disinfection"))
    with override("en"):
        with pytest.raises(ValidationError, match="Say what was done"):
            services.submit(cast.grid_worker, item, " . ")
        with pytest.raises(ValidationError, match="A photo of the fix is needed"):
            services.submit(cast.grid_worker, item, "已消杀")
    assert Item.objects.get(pk=item.pk).status == S.RECTIFYING
    # A report's problem is shown fixed by the record: the note is enough.
    report = services.start(cast.grid_worker, sv.item(category="reporting"))
    assert services.submit(cast.grid_worker, report, "已补报日报").status == S.SUBMITTED


def test_a_photo_that_is_not_an_image_is_refused(cast, sv):
    from django.core.files.uploadedfile import SimpleUploadedFile

    item = services.start(cast.grid_worker, sv.item(category="supplies"))
    fake = SimpleUploadedFile("fix.png", b"%PDF-1.4 not an image", content_type="image/png")
    with override("en"), pytest.raises(ValidationError, match="not a JPEG or PNG"):
        services.submit(cast.grid_worker, item, "补齐物资", photos=[fake])
    assert not ItemPhoto.objects.exists()


def test_sign_off_is_by_someone_else_at_the_raising_level_or_above(cast, sv):
    item = sv.submitted()
    with override("en"):
        with pytest.raises(PermissionDenied, match="cannot sign off or send back their own"):
            services.sign_off(cast.grid_worker, item)
        # The community sits below the street that raised it.
        with pytest.raises(PermissionDenied, match="Only the level that raised this item"):
            services.sign_off(cast.community_officer, item)
    assert services.sign_off(cast.commander, item).status == S.SIGNED_OFF


def test_the_raiser_may_sign_off_when_someone_else_fixed_it(cast, sv):
    item = sv.submitted()
    assert services.sign_off(cast.street_officer, item).signed_off_by == cast.street_officer


def test_a_sent_back_item_counts_a_reopening_and_needs_fresh_evidence(cast, sv):
    item = sv.submitted(category="checkpoint")
    with override("en"), pytest.raises(ValidationError, match="Say why"):
        services.send_back(sv.street_b, item, "")
    item = services.send_back(sv.street_b, item, "测温点无人值守")
    assert item.status == S.RECTIFYING and item.reopen_count == 1
    assert history(item).order_by("-pk").first().note == "测温点无人值守"
    with override("en"), pytest.raises(ValidationError, match="A photo of the fix is needed"):
        services.submit(cast.grid_worker, item, "已安排专人")  # the first round's photo does not count
    item = services.submit(cast.grid_worker, item, "已安排专人", photos=[png()])
    assert services.sign_off(sv.street_b, item).status == S.SIGNED_OFF


def test_the_raiser_cancels_with_a_reason_and_nobody_else_does(cast, sv):
    item = sv.item()
    with override("en"):
        with pytest.raises(PermissionDenied, match="Only the one who raised"):
            services.cancel(sv.street_b, item, "重复登记")
        with pytest.raises(ValidationError, match="Say why"):
            services.cancel(cast.street_officer, item, "")
    item = services.cancel(cast.street_officer, item, "重复登记")
    assert item.status == S.CANCELLED and item.cancel_reason == "重复登记"


def test_raising_needs_the_right_over_the_area_and_a_future_deadline(cast, sv):
    with pytest.raises(PermissionDenied):
        sv.item(by=cast.grid_worker)
    with override("en"), pytest.raises(ValidationError, match="deadline must lie in the future"):
        sv.item(hours=-1)


# -- escalation -----------------------------------------------------------------------------------


def _overdue(sv, grid, hours_late=2, by=None):
    item = sv.item(grid=grid, responsible=None, by=by)
    Item.objects.filter(pk=item.pk).update(due_at=timezone.now() - datetime.timedelta(hours=hours_late))
    return Item.objects.get(pk=item.pk)


def test_an_overdue_item_escalates_one_level_then_the_next_after_the_grace(cast, sv, settings):
    settings.EPIGRID_SUPERVISION_GRACE_HOURS = 24
    item = _overdue(sv, cast.grid_a)
    now = timezone.now()
    assert services.escalate_overdue(now) == 1
    item.refresh_from_db()
    assert (item.escalated_to, item.escalation_level, item.escalated_at) == (cast.community, 1, now)
    # Run again at once (or twice from two timers): nothing changes.
    assert services.escalate_overdue(now) == 0
    assert services.escalate_overdue(now + datetime.timedelta(hours=23)) == 0
    assert services.escalate_overdue(now + datetime.timedelta(hours=24)) == 1
    item.refresh_from_db()
    assert (item.escalated_to, item.escalation_level) == (cast.street, 2)
    notes = [h.note for h in history(item).order_by("pk") if h.source == h.target]
    assert notes == [f"↑ {cast.community.name}", f"↑ {cast.street.name}"]


def test_items_on_time_or_closed_do_not_escalate(cast, sv):
    sv.item()  # due tomorrow
    closed = _overdue(sv, cast.grid_a)
    services.cancel(cast.street_officer, closed, "误报")
    assert services.escalate_overdue() == 0


def test_escalation_stops_at_the_top_of_the_tree(cast, sv, settings):
    settings.EPIGRID_SUPERVISION_GRACE_HOURS = 1
    _overdue(sv, cast.district, by=cast.commander)
    item = services.raise_item(
        area=cast.city,
        title="市级物资",
        category="supplies",
        deadline=timezone.now() - datetime.timedelta(hours=1),
    )
    assert services.escalate_overdue() == 1  # the district's item to the city; the city's has no one above
    assert Item.objects.get(pk=item.pk).escalation_level == 0


def test_the_overdue_filter_is_live_before_escalation_runs(cast, sv):
    late = _overdue(sv, cast.grid_a, hours_late=0)
    sv.item()
    assert list(Item.objects.filter(services.overdue_q())) == [late]


def test_escalated_items_are_listed_at_the_level_they_reached(cast, sv):
    item = _overdue(sv, cast.grid_a)
    services.escalate_overdue()
    assert list(services.escalated_to_user(cast.community_officer)) == [item]
    assert not services.escalated_to_user(cast.street_officer).exists()
    assert not services.escalated_to_user(cast.grid_worker).exists()


# -- for other apps -------------------------------------------------------------------------------


def test_raise_item_is_idempotent_per_open_source_and_resolve_source_closes_it(cast):
    source = cast.household_a  # any record: a missing report, a late box
    first = services.raise_item(
        area=cast.grid_a, title="日报未报", category="reporting", deadline=timezone.localdate(), source=source
    )
    again = services.raise_item(
        area=cast.grid_a, title="日报未报", category="reporting", deadline=timezone.localdate(), source=source
    )
    assert again.pk == first.pk and Item.objects.count() == 1
    assert first.found_by == "system" and first.raised_in == cast.community and first.source_label
    closed = services.resolve_source(source, "日报已补报")
    assert (
        closed.status == S.SIGNED_OFF and closed.signed_off_by is None and closed.signoff_note == "日报已补报"
    )
    assert services.resolve_source(source, "again") is None
    # The condition comes back: a new item.
    third = services.raise_item(
        area=cast.grid_a, title="日报未报", category="reporting", deadline=timezone.localdate(), source=source
    )
    assert third.pk != first.pk


def test_a_day_as_deadline_means_the_end_of_that_day(cast):
    day = timezone.localdate() + datetime.timedelta(days=2)
    item = services.raise_item(area=cast.grid_a, title="物资短缺", category="supplies", deadline=day)
    assert timezone.localtime(item.due_at).date() == day and timezone.localtime(item.due_at).hour == 23


# -- figures --------------------------------------------------------------------------------------


def test_on_time_figures_per_area_and_person(cast, sv):
    on_time = sv.submitted()
    services.sign_off(sv.street_b, on_time)
    late = sv.submitted()
    services.send_back(sv.street_b, late, "不合格")
    Item.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    sv.item(grid=cast.grid_b, responsible="grid_worker_b")
    services.cancel(cast.street_officer, sv.item(), "重复")  # cancelled: not counted
    rows = {r["area"].code: r for r in services.stats_by_area(Item.objects.all(), cast.community)}
    a, b = rows[cast.grid_a.code], rows[cast.grid_b.code]
    assert (a["received"], a["signed_off"], a["on_time"], a["overdue"], a["reopened"]) == (2, 1, 1, 1, 1)
    assert a["on_time_rate"] == 50.0
    assert (b["received"], b["overdue"]) == (1, 0)
    people = {r["person"]: r for r in services.stats_by_person(Item.objects.all())}
    assert people[cast.grid_worker]["received"] == 2 and people[cast.grid_worker_b]["received"] == 1


# -- the race -------------------------------------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_one_item_at_once_give_one_decision(cast):
    sv = supervision(cast)
    item = sv.submitted()
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(name, fn):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes[name] = fn(Item.objects.get(pk=item.pk))
        except (ValidationError, PermissionDenied) as exc:
            outcomes[name] = exc
        finally:
            conn.close()

    threads = [
        threading.Thread(target=decide, args=("off", lambda i: services.sign_off(cast.street_officer, i))),
        threading.Thread(
            target=decide, args=("back", lambda i: services.send_back(sv.street_b, i, "照片不清"))
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    won = [o for o in outcomes.values() if isinstance(o, Item)]
    lost = [o for o in outcomes.values() if isinstance(o, ValidationError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    final = Item.objects.get(pk=item.pk)
    assert final.status == won[0].status
    assert final.reopen_count == (1 if final.status == S.RECTIFYING else 0)
    assert history(final).filter(source="submitted").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_processes_raising_for_one_source_at_once_make_one_item(cast):
    barrier = threading.Barrier(2)
    outcomes = []

    def raise_it():
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes.append(
                services.raise_item(
                    area=cast.grid_a,
                    title="日报未报",
                    category="reporting",
                    deadline=timezone.localdate(),
                    source=cast.household_a,
                ).pk
            )
        finally:
            conn.close()

    threads = [threading.Thread(target=raise_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 2 and len(set(outcomes)) == 1
    assert Item.objects.count() == 1


def test_the_escalation_command_escalates_and_says_how_many(cast, sv):
    import io

    from django.core.management import call_command

    _overdue(sv, cast.grid_a)
    out = io.StringIO()
    call_command("supervision_escalate", stdout=out)
    assert out.getvalue().strip() == "1 item(s) escalated"
    call_command("supervision_escalate", stdout=out)
    assert out.getvalue().strip().endswith("0 item(s) escalated")


def test_reassigning_keeps_the_state_and_writes_history(cast, sv):
    from epigrid.accounts.models import Grant, User

    other = User.objects.create_user("grid_a_2", password="x")
    Grant.objects.create(user=other, role="grid_worker", area=cast.grid_a)
    item = services.start(cast.grid_worker, sv.item())
    item = services.assign(cast.street_officer, item, other)
    assert item.status == S.RECTIFYING and item.responsible == other
    assert history(item).order_by("-pk").first().note == "→ grid_a_2"
    with pytest.raises(PermissionDenied):
        services.assign(cast.grid_worker, item, cast.grid_worker)


def test_an_unknown_category_from_another_app_is_refused(cast):
    with override("en"), pytest.raises(ValidationError, match="Unknown category"):
        services.raise_item(area=cast.grid_a, title="日报未报", category="daily", deadline=timezone.localdate())
