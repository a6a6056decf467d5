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
