"""Report forms sent by records rather than areas (decision 0033): one report a record a day, filed
under its area, rolled up, chased, exported and sent through the same pages and API. Checkpoints
stand in for the enterprises and outlets that register their own kinds."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from epigrid.checkpoints.models import Checkpoint
from epigrid.reports import senders, services
from epigrid.reports.models import ReportForm, Submission
from tests.reports_cast import DAY, at, reports

pytestmark = pytest.mark.django_db


@pytest.fixture
def kind():
    registered = senders.register(
        "test_checkpoint",
        "checkpoints.Checkpoint",
        "checkpoint",
        expected=lambda day: Checkpoint.objects.filter(is_active=True),
        live=lambda form, sender, day: {"vehicles": 7},
    )
    yield registered
    senders.REGISTRY.pop("test_checkpoint", None)


@pytest.fixture
def setup(cast, kind):
    r = reports(cast)
    form = ReportForm.objects.create(
        code="gate_daily",
        name="卡口日报",
        sender_kind="test_checkpoint",
        due_time=datetime.time(16, 0),
        fields=[
            {
                "key": "vehicles",
                "label": {"zh": "车辆", "en": "Vehicles"},
                "type": "int",
                "required": True,
                "min": 0,
            },
            {
                "key": "persons",
                "label": {"zh": "人员", "en": "Persons"},
                "type": "int",
                "required": True,
                "min": 0,
            },
        ],
    )
    gates = {
        "a": Checkpoint.objects.create(name="东门", area=cast.grid_a),
        "b": Checkpoint.objects.create(name="西门", area=cast.grid_a),
        "c": Checkpoint.objects.create(name="南门", area=r.community_2),
        "d": Checkpoint.objects.create(name="街道卡口", area=cast.street),
        "closed": Checkpoint.objects.create(name="停用卡口", area=cast.grid_b, is_active=False),
    }
    return r, form, gates


def send(form, gate, user=None, hour=15, day=DAY, **values):
    raw = {"vehicles": 7, "persons": 3, **values}
    return services.submit(user, form, None, day, raw, now=at(day, hour), sender=gate)


def test_each_record_sends_once_a_day_filed_under_its_area(setup, cast):
    _r, form, gates = setup
    first = send(form, gates["a"])
    assert first.unit == cast.grid_a and first.sender_id == gates["a"].pk
    # Two records of one area each have their own report; a retry changes nothing.
    send(form, gates["b"])
    again = send(form, gates["a"])
    assert again.pk == first.pk and again.revision == 1
    assert Submission.objects.filter(form=form, day=DAY).count() == 2
    late = send(form, gates["c"], hour=18)
    assert late.late


def test_the_live_figures_come_from_the_senders_kind(setup):
    _r, form, gates = setup
    with pytest.raises(ValidationError) as error:
        send(form, gates["a"], vehicles=5)
    assert "vehicles" in error.value.message_dict
    row = services.submit(
        None,
        form,
        None,
        DAY,
        {"vehicles": 5, "persons": 3},
        {"vehicles": "两辆未登记"},
        now=at(DAY, 15),
        sender=gates["a"],
    )
    assert row.live == {"vehicles": 7} and row.explanations == {"vehicles": "两辆未登记"}


def test_it_refuses_a_record_the_user_may_not_see_or_of_another_kind(setup, cast):
    r, form, gates = setup
    with pytest.raises(PermissionDenied):
        send(form, gates["a"], user=r.officer_2)  # another community's officer
    assert send(form, gates["c"], user=r.officer_2).sender_id == gates["c"].pk
    with pytest.raises(ValidationError):
        services.submit(None, form, cast.community, DAY, {"vehicles": 7, "persons": 1}, now=at(DAY, 15))


def test_the_rollup_counts_expected_records_by_child_area_and_names_the_missing(setup, cast):
    r, form, gates = setup
    send(form, gates["a"])
    send(form, gates["c"], hour=17, persons=10)
    rows = {row["area"].code: row for row in services.rollup(form, DAY, cast.street)}
    # The street's own checkpoint has a row of its own; the inactive gate is not expected.
    assert set(rows) == {cast.community.code, r.community_2.code, cast.street.code}
    assert (rows[cast.community.code]["expected"], rows[cast.community.code]["received"]) == (2, 1)
    assert rows[r.community_2.code]["late"] == 1 and rows[r.community_2.code]["sums"]["persons"] == 10
    assert (rows[cast.street.code]["expected"], rows[cast.street.code]["missing"]) == (1, 1)
    # The sums add up to the brute-force total over every report.
    total = services.totals(rows.values(), form)
    brute = sum(s.values["persons"] for s in Submission.objects.filter(form=form, day=DAY))
    assert total["sums"]["persons"] == brute and total["missing"] == 2
    missing = services.missing_units(form, DAY, cast.street, viewer=cast.commander)
    assert [m["sender"] for m in missing] == [gates["d"], gates["b"]]
    exported = services.unit_rows(form, DAY, cast.community)
    assert [(g.name, row is not None) for g, row in exported] == [("东门", True), ("西门", False)]


def test_completeness_counts_days_due_received_and_on_time(setup):
    _r, form, gates = setup
    for offset, hour in ((0, 15), (1, 17)):
        send(form, gates["a"], day=DAY - datetime.timedelta(days=offset), hour=hour)
    found = services.completeness(
        form, [gates["a"].pk, gates["b"].pk], DAY - datetime.timedelta(days=2), DAY, now=at(DAY, 17)
    )
    assert found[gates["a"].pk] == {"expected": 3, "received": 2, "on_time": 1, "late": 1, "zero": 0}
    assert found[gates["b"].pk]["received"] == 0
    values = services.values_by_sender(form, [gates["a"].pk], [DAY])
    assert values == {(gates["a"].pk, DAY): {"vehicles": 7, "persons": 3}}


def test_the_pages_send_and_show_a_records_report(setup, cast):
    _r, form, gates = setup
    client = Client()
    client.force_login(cast.community_officer)
    today = timezone.localdate()
    url = f"/reports/gate_daily/s/{gates['a'].pk}/{today.isoformat()}/"
    with translation.override("en"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200 and "东门" in page.content.decode()
        sent = client.post(url, {"vehicles": 7, "persons": 2}, HTTP_ACCEPT_LANGUAGE="en")
    assert sent.status_code == 302
    assert Submission.objects.get(form=form, sender_id=gates["a"].pk).values["persons"] == 2
    cards = client.get("/reports/today/").content.decode()
    assert "东门" in cards and "南门" not in cards  # another community's gate is not theirs to send
    assert client.get(f"/reports/gate_daily/s/{gates['a'].pk}/history/").status_code == 200
    assert client.get(f"/reports/gate_daily/s/{gates['c'].pk}/history/").status_code == 404
    rollup = client.get(
        f"/reports/rollup/?form=gate_daily&day={today.isoformat()}&area={cast.community.code}"
    )
    assert rollup.status_code == 200 and "西门" in rollup.content.decode()  # missing, by name


def test_the_api_sends_by_sender_idempotently(setup, cast):
    r, form, gates = setup
    client = APIClient()
    client.force_authenticate(cast.community_officer)
    body = {
        "form": "gate_daily",
        "sender": gates["a"].pk,
        "day": DAY.isoformat(),
        "values": {"vehicles": 7, "persons": 1},
    }
    assert client.post("/api/v1/reports/", body, format="json").status_code == 201
    again = client.post("/api/v1/reports/", body, format="json")
    assert again.status_code == 200 and again.json()["sender_id"] == gates["a"].pk
    assert (
        client.post("/api/v1/reports/", {**body, "sender": gates["c"].pk}, format="json").status_code == 404
    )
    no_sender = client.post(
        "/api/v1/reports/", {k: v for k, v in body.items() if k != "sender"}, format="json"
    )
    assert no_sender.status_code == 400
    rollup = client.get(
        f"/api/v1/reports/rollup/?form=gate_daily&day={DAY.isoformat()}&area={cast.community.code}"
    )
    assert [m["sender_name"] for m in rollup.json()["missing"]] == ["西门"]


def test_a_form_naming_an_unregistered_kind_is_refused(setup):
    _r, form, _gates = setup
    form.sender_kind = "no_such_kind"
    with pytest.raises(ValidationError):
        services.check_form(form)


@pytest.fixture
def written(kind):
    """The sender kind again, with an `on_submit` that notes each call (and fails on demand)."""
    calls = []

    def on_submit(form, submission):
        calls.append((form.code, submission.sender_id, submission.revision))
        if submission.note == "fail":
            raise ValidationError("the sender's app refused")

    senders.register(kind.kind, kind.model_label, kind.label, expected=kind.expected, on_submit=on_submit)
    return calls


def test_on_submit_runs_once_per_new_or_changed_report_never_for_a_retry(setup, written):
    _r, form, gates = setup
    send(form, gates["a"])
    send(form, gates["a"])  # an identical retry
    assert written == [("gate_daily", gates["a"].pk, 1)]
    send(form, gates["a"], persons=4)  # a correction
    assert written == [("gate_daily", gates["a"].pk, 1), ("gate_daily", gates["a"].pk, 2)]


def test_on_submit_is_not_run_again_when_a_concurrent_tap_wrote_the_same_report(setup, written, monkeypatch):
    _r, form, gates = setup
    send(form, gates["a"])
    # The race: this tap reads no row, then its insert meets the other tap's (IntegrityError) and
    # the write is retried, finding the same report.
    real = services.submission_for
    reads = []

    def first_read_misses(*args):
        reads.append(args)
        return real(*args).none() if len(reads) == 1 else real(*args)

    monkeypatch.setattr(services, "submission_for", first_read_misses)
    again = send(form, gates["a"])
    assert len(reads) == 2 and again.revision == 1
    assert written == [("gate_daily", gates["a"].pk, 1)]


def test_what_on_submit_refuses_leaves_no_report(setup, written):
    _r, form, gates = setup
    with pytest.raises(ValidationError):
        services.submit(
            None,
            form,
            None,
            DAY,
            {"vehicles": 7, "persons": 3},
            note="fail",
            now=at(DAY, 15),
            sender=gates["a"],
        )
    assert not Submission.objects.filter(form=form, sender_id=gates["a"].pk).exists()
