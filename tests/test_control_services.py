"""Key persons and their measures: registration, plans, transitions, handover, protocol switch."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from epigrid.audit.services import history
from epigrid.control import services
from epigrid.control.models import ControlMeasure, KeyPerson, Protocol
from tests.scoping import make_person

TODAY = timezone.localdate()


@pytest.fixture
def person(cast):
    return make_person(household=cast.household_a, name="密接甲")


def register(cast, person, category="close_contact", exposure=None, **kw):
    exposure = exposure or TODAY - datetime.timedelta(days=1)
    return services.register_key_person(person, category, cast.grid_a, last_exposure=exposure, **kw)


def steps(entry):
    return [(m.kind, m.status, m.start, m.planned_end) for m in entry.measures.order_by("sequence")]


def test_it_plans_a_close_contact_under_the_active_ninth_edition(cast, person):
    entry, created = register(cast, person, exposure=TODAY)
    assert created and entry.protocol.code == "v9"
    assert steps(entry) == [
        ("centralized", "planned", TODAY + datetime.timedelta(days=1), TODAY + datetime.timedelta(days=7)),
        (
            "home_monitoring",
            "planned",
            TODAY + datetime.timedelta(days=8),
            TODAY + datetime.timedelta(days=10),
        ),
    ]
    assert entry.measures.first().test_dates[0] == (TODAY + datetime.timedelta(days=1)).isoformat()


def test_it_opens_the_existing_entry_instead_of_a_second_one(cast, person):
    first, _ = register(cast, person)
    again, created = register(cast, person, category="fever")
    assert (again, created) == (first, False) and KeyPerson.objects.count() == 1


def test_it_starts_the_measure_that_has_begun(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=3))
    assert [m.status for m in entry.measures.order_by("sequence")] == ["active", "planned"]


def test_it_refuses_a_transition_the_workflow_does_not_allow(cast, person):
    entry, _ = register(cast, person)
    measure = entry.measures.get(sequence=2)
    with pytest.raises(ValidationError) as exc:
        measure.transition("completed")
    assert exc.value.code == "invalid_transition"
    measure.refresh_from_db()
    assert measure.status == "planned"


def test_it_records_each_transition_in_the_history(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=3))
    measure = entry.measures.get(sequence=1)
    services.release_early(measure, "阴性，专家评估解除")
    rows = list(history(measure).values_list("source", "target", "note"))
    assert rows == [("active", "released_early", "阴性，专家评估解除")]


def test_it_refuses_an_early_release_without_a_reason(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=3))
    with pytest.raises(ValidationError):
        services.release_early(entry.measures.get(sequence=1), "  ")


def test_it_extends_a_measure_and_moves_the_rest_of_the_chain(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=3))
    first = entry.measures.get(sequence=1)
    services.extend(first, 2, "第5天阳性复核")
    second = entry.measures.get(sequence=2)
    assert first.planned_end == TODAY + datetime.timedelta(days=6)
    assert (second.start, second.planned_end) == (
        TODAY + datetime.timedelta(days=7),
        TODAY + datetime.timedelta(days=9),
    )


def test_it_refuses_release_before_the_plan_is_over(cast, person):
    entry, _ = register(cast, person)
    with pytest.raises(ValidationError):
        services.release(entry)
    entry.refresh_from_db()
    assert entry.status == "open"


def test_it_releases_when_every_step_is_over(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=10))
    services.release(entry, "期满解除")
    entry.refresh_from_db()
    assert entry.status == "released"
    assert set(entry.measures.values_list("status", flat=True)) == {"completed"}


def test_it_hands_an_entry_over_to_the_receiving_area(cast, person):
    entry, _ = register(cast, person)
    services.hand_over(entry, cast.grid_b, "搬至9号楼")
    assert KeyPerson.objects.restrict(cast.grid_worker_b).filter(pk=entry.pk).exists()
    assert not KeyPerson.objects.restrict(cast.grid_worker).filter(pk=entry.pk).exists()


def test_it_previews_and_applies_a_protocol_switch(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=2))
    twenty = Protocol.objects.get(code="twenty")
    preview = services.switch_preview(twenty)
    assert [(e.pk, new[0][2]) for e, _old, new in preview] == [(entry.pk, TODAY + datetime.timedelta(days=3))]
    services.activate(twenty)
    entry.refresh_from_db()
    live = entry.measures.filter(status__in=ControlMeasure.OPEN).order_by("sequence")
    assert entry.protocol == twenty
    assert [(m.kind, m.planned_end) for m in live] == [
        ("centralized", TODAY + datetime.timedelta(days=3)),
        ("home_isolation", TODAY + datetime.timedelta(days=6)),
    ]
    assert Protocol.objects.get(is_active=True) == twenty


def test_it_closes_entries_a_new_protocol_no_longer_manages(cast, person):
    entry, _ = register(cast, person, category="secondary_contact")
    services.activate(Protocol.objects.get(code="twenty"))
    entry.refresh_from_db()
    assert entry.status == "closed"


def test_it_refuses_to_register_a_category_the_active_protocol_dropped(cast, person):
    services.activate(Protocol.objects.get(code="twenty"))
    with pytest.raises(ValidationError):
        register(cast, person, category="secondary_contact")


def test_it_never_edits_a_protocol_in_use(cast, person):
    register(cast, person)
    v9 = Protocol.objects.get(code="v9")
    v9.rules["categories"]["close_contact"]["chain"][0]["days"] = 5
    with pytest.raises(ValidationError):
        v9.full_clean()


def test_it_computes_the_assistance_request_deadline(cast, person):
    received = timezone.now()
    entry, _ = register(
        cast, person, source="assistance", assistance_received_at=received, assistance_in_province=False
    )
    assert entry.assistance_deadline == received + datetime.timedelta(hours=48)


def test_it_keeps_the_reason_of_an_extension_in_the_history(cast, person):
    entry, _ = register(cast, person, exposure=TODAY - datetime.timedelta(days=3))
    first = entry.measures.get(sequence=1)
    services.extend(first, 2, "第5天阳性复核")
    assert "第5天阳性复核" in history(first).get().note


def test_it_starts_planned_steps_when_their_day_comes(cast, person):
    entry, _ = register(cast, person, exposure=TODAY)
    assert services.advance(TODAY + datetime.timedelta(days=1)) == 1
    assert [m.status for m in entry.measures.order_by("sequence")] == ["active", "planned"]
    assert services.advance(TODAY + datetime.timedelta(days=1)) == 0


def test_it_stops_counting_a_cleared_assistance_request_as_overdue(cast, person):
    received = timezone.now() - datetime.timedelta(hours=30)
    entry, _ = register(cast, person, source="assistance", assistance_received_at=received)
    assert entry.assistance_overdue(timezone.now())
    services.clear_assistance(entry, "已回复协查函")
    assert not entry.assistance_overdue(timezone.now())
