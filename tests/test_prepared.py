"""core.prepared: a queryset built once and run with other values gives what the ORM gives."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from epigrid.checkpoints.services import _persons_by, gate_persons_by
from epigrid.control import services as control_services
from epigrid.core.prepared import Prepared
from epigrid.people.models import Person
from tests.scoping import make_person

COLUMNS = (
    "pk",
    "name",
    "doc_number",
    "area_id",
    "household_id",
    "merged_into_id",
    "gate_entry_id",
    "latest_columns_result",
    "latest_columns_sampled_at",
)


@pytest.fixture
def persons(cast):
    first = make_person(household=cast.household_a, name="甲")
    second = make_person(household=cast.household_b, name="乙")
    third = make_person(area=cast.grid_a, name="丙")  # no household
    entry, _created = control_services.register_key_person(second, "close_contact", cast.grid_a)
    return first, second, third, entry


def _rows(found):
    return [tuple(getattr(p, column) for column in COLUMNS) for p in found]


@pytest.mark.parametrize(
    "shape",
    [("doc",), ("pk",), ("pk", "pk"), ("pk", "doc", "doc"), ()],
)
def test_the_prepared_persons_are_the_orms(persons, shape, django_assert_num_queries):
    first, second, third, entry = persons
    who = [first, second, third]
    pks = [who[i].pk for i, how in enumerate(shape) if how == "pk"]
    docs = [who[i].doc_number for i, how in enumerate(shape) if how == "doc"]
    expected = list(_persons_by(pks, docs)) if pks or docs else []
    found = gate_persons_by(pks=pks, docs=docs)
    assert _rows(found) == _rows(expected)
    assert len(found) == len(shape)
    if second in found:
        assert next(p for p in found if p.pk == second.pk).gate_entry_id == entry.pk
    # The home, its area and the person's area came with the row (select_related), not later.
    with django_assert_num_queries(0):
        for person in found:
            _ = person.area.path
            if person.household_id:
                _ = person.household.area.path


def test_other_values_run_the_same_sql_and_answer_for_themselves(persons):
    first, second, _third, _entry = persons
    prepared = Prepared(_persons_by, pks=Person._meta.pk, docs=Person._meta.get_field("doc_number"))
    with CaptureQueriesContext(connection) as queries:
        a = prepared(pks=[], docs=[first.doc_number])
        b = prepared(pks=[], docs=[second.doc_number])
        missing = prepared(pks=[], docs=["110101199003070011"])
    assert [p.pk for p in a] == [first.pk]
    assert [p.pk for p in b] == [second.pk]
    assert missing == []
    assert len(prepared._plans) == 1
    sql = {q["sql"].replace(first.doc_number, "?").replace(second.doc_number, "?") for q in queries}
    assert len({s.replace("110101199003070011", "?") for s in sql}) == 1


def test_a_value_the_orm_changes_on_the_way_is_refused_when_built(persons):
    # contains wraps the value in LIKE's wildcards: the marker is not among the parameters as
    # given, so it could not be swapped for the next value.
    prepared = Prepared(
        lambda names: Person.objects.filter(name__contains=names[0]), names=Person._meta.get_field("name")
    )
    with pytest.raises(ValueError, match="not once"):
        prepared(names=["甲"])


def test_postgresql_prepares_the_statement_once_and_runs_it_again(persons):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's (elsewhere an ordinary cursor)")
    first, second, *_rest = persons
    prepared = Prepared(
        lambda docs: Person.objects.filter(doc_number__in=docs).order_by("-pk"),
        docs=Person._meta.get_field("doc_number"),
    )

    def kept():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return cursor.fetchone()[0]

    before = kept()
    assert [p.pk for p in prepared(docs=[first.doc_number, second.doc_number])] == [second.pk, first.pk]
    assert [p.pk for p in prepared(docs=[second.doc_number, first.doc_number])] == [second.pk, first.pk]
    assert kept() == before + 1


# Kept INSERTs (core.prepared.insert_rows, decision 0042)


def test_kept_inserts_write_what_bulk_create_writes(cast):
    from django.contrib.contenttypes.models import ContentType

    from epigrid.audit.models import Action, ObjectChange
    from epigrid.core.prepared import insert_rows

    person_type = ContentType.objects.get_for_model(Person)

    def rows(tag):
        return [
            ObjectChange(
                user=cast.checkpoint,
                user_name="gate",
                action=Action.LOOKUP,
                content_type=person_type,
                object_id=0,
                object_repr=f"{tag}{n}",
                area_path=cast.community.path,
                postchange_data={"term": f"{tag}{n}", "nested": [1, "二"]},
            )
            for n in range(3)
        ]

    kept, plain = insert_rows(ObjectChange, rows("kept")), ObjectChange.objects.bulk_create(rows("plain"))
    assert all(obj.pk and not obj._state.adding for obj in kept)
    fields = ("user_id", "user_name", "action", "content_type_id", "area_path")
    stored = {o.object_repr: o for o in ObjectChange.objects.filter(pk__in=[o.pk for o in kept + plain])}
    for a, b in zip(kept, plain, strict=True):
        a_row, b_row = stored[a.object_repr], stored[b.object_repr]
        assert [getattr(a_row, f) for f in fields] == [getattr(b_row, f) for f in fields]
        assert a_row.postchange_data == {"term": a.object_repr, "nested": [1, "二"]}
        assert a_row.time is not None  # auto_now_add filled as save() fills it
    with pytest.raises(ValueError):
        insert_rows(ObjectChange, [rows("x")[0], ObjectChange(pk=10**9, user_name="")])


def test_known_client_ids_answers_for_the_recorded_ones_only(cast):
    import uuid

    from epigrid.checkpoints import services as checkpoints
    from epigrid.checkpoints.models import Checkpoint

    gate = Checkpoint.objects.create(name="北门", kind=Checkpoint.Kind.COMMUNITY_GATE, area=cast.community)
    person = make_person(household=cast.household_a)
    recorded = [str(uuid.uuid4()) for _ in range(3)]
    scans = [
        {"client_id": c, "checkpoint": gate.pk, "direction": "in", "health_code": "green", "person": {"doc_number": person.doc_number}}
        for c in recorded
    ]
    outcomes = checkpoints.record(None, scans, posts={gate.pk: gate})
    assert [o["outcome"] for o in outcomes] == ["accepted"] * 3, outcomes
    fresh = str(uuid.uuid4())
    assert checkpoints.known_client_ids([fresh, *recorded[:2]]) == set(recorded[:2])
    assert checkpoints.known_client_ids([fresh]) == set() and checkpoints.known_client_ids([]) == set()


def test_a_single_scan_writes_its_passage_and_change_row_as_a_batch_does(cast):
    """audit.insert_logged (one statement on PostgreSQL): the change-log row names the new passage
    by key in its column and its data, as log_bulk_create does for a batch; a client id sent
    again raises IntegrityError and writes neither row."""
    import uuid

    from django.db import IntegrityError

    from epigrid.audit.models import ObjectChange
    from epigrid.audit.services import insert_logged
    from epigrid.checkpoints import services as checkpoints
    from epigrid.checkpoints.models import Checkpoint, Passage

    gate = Checkpoint.objects.create(name="北门", kind=Checkpoint.Kind.COMMUNITY_GATE, area=cast.community)
    people = [make_person(household=cast.household_a, name=n) for n in ("甲", "乙", "丙")]

    def scan(person):
        return {
            "client_id": str(uuid.uuid4()),
            "checkpoint": gate.pk,
            "direction": "in",
            "health_code": "green",
            "temperature": "36.6",
            "person": {"doc_number": person.doc_number},
        }

    (single,) = checkpoints.record(None, [scan(people[0])], posts={gate.pk: gate})
    batch = checkpoints.record(None, [scan(p) for p in people[1:]], posts={gate.pk: gate})
    assert [o["outcome"] for o in [single, *batch]] == ["accepted"] * 3
    changes = {}
    for outcome in [single, *batch]:
        passage = Passage.objects.get(pk=outcome["passage"])
        change = ObjectChange.objects.get(action="create", object_id=passage.pk, content_type__model="passage")
        assert change.postchange_data == passage.serialize_for_log()
        assert change.postchange_data["id"] == passage.pk and change.area_path == cast.community.path
        changes[outcome["passage"]] = change
    one, other = changes[single["passage"]], changes[batch[0]["passage"]]
    assert set(one.postchange_data) == set(other.postchange_data)
    assert (one.action, one.object_repr.split()[-1], one.user_name) == (
        other.action,
        other.object_repr.split()[-1],
        other.user_name,
    )

    again = Passage.objects.get(pk=single["passage"])
    passages, rows = Passage.objects.count(), ObjectChange.objects.count()
    copy = Passage(**{f.attname: getattr(again, f.attname) for f in Passage._meta.concrete_fields if not f.primary_key})
    with pytest.raises(IntegrityError):
        insert_logged([copy])
    assert (Passage.objects.count(), ObjectChange.objects.count()) == (passages, rows)
