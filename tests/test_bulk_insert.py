"""The bulk writer of imports (core.imports.bulk_insert: COPY on PostgreSQL, bulk_create elsewhere)
and the short cuts the resident ledger takes to import 100,000 rows in time."""

import datetime
import uuid

import pytest
from django.core.exceptions import ValidationError

from epigrid.audit.models import Action, ObjectChange
from epigrid.audit.services import build_change
from epigrid.core import identity
from epigrid.core.context import change_context
from epigrid.core.identity import make_resident_id
from epigrid.core.imports import bulk_insert, run_import
from epigrid.core.tabular import write_xlsx
from epigrid.people.imports import COLUMNS, ResidentResource
from epigrid.people.models import Person

pytestmark = pytest.mark.django_db


def test_it_inserts_objects_with_their_keys_and_timestamps(cast):
    people = [
        Person(name=f"甲{i}", doc_number=make_resident_id("620102", datetime.date(1990, 1, 2), 500 + i))
        for i in range(3)
    ]
    for person in people:
        person.household = cast.household_a
        person.fill_derived_fields()
    bulk_insert(Person, people)
    assert all(p.pk and not p._state.adding for p in people)
    stored = Person.objects.get(pk=people[1].pk)
    assert (stored.name, stored.doc_number, stored.area, stored.household) == (
        "甲1",
        people[1].doc_number,
        cast.grid_a,
        cast.household_a,
    )
    assert stored.created and stored.last_updated and stored.birth_date == datetime.date(1990, 1, 2)


def test_it_writes_json_and_uuid_columns(cast):
    request_id = uuid.uuid4()
    with change_context(user=cast.commander, source="import", request_id=request_id):
        change = build_change(cast.household_a, Action.CREATE, None, {"rooms": [1, "二"], "ok": True})
    bulk_insert(ObjectChange, [change])
    stored = ObjectChange.objects.get(pk=change.pk)
    assert stored.postchange_data == {"rooms": [1, "二"], "ok": True} and stored.prechange_data is None
    assert (stored.request_id, stored.user, stored.area_path) == (
        request_id,
        cast.commander,
        cast.grid_a.path,
    )


def test_it_files_each_imported_row_under_its_grid_in_the_audit_log(cast, tmp_path):
    number = make_resident_id("620102", datetime.date(1970, 5, 6), 41)
    path = tmp_path / "ledger.xlsx"
    row = {c.field: "" for c in COLUMNS} | {
        "name": "赵敏",
        "doc_number": number,
        "grid_code": cast.grid_b.code,
        "building": "7号楼",
        "unit": "1",
        "room": "301",
    }
    write_xlsx(path, [c.header for c in COLUMNS], [[row[c.field] for c in COLUMNS]])
    officer = cast.community_officer
    with change_context(user=officer, source="import"):
        result = run_import(ResidentResource(officer, cast.community), path, dry_run=False)
    assert result.created == 1
    person = Person.objects.get(doc_number=number)
    creations = ObjectChange.objects.filter(action=Action.CREATE, area_path=cast.grid_b.path)
    assert {c.content_type.model for c in creations} >= {"person", "household", "building"}
    assert creations.get(content_type__model="person").object_id == person.pk


@pytest.mark.parametrize(
    "text",
    [
        "13912345678",
        "13812345678",
        "17412345678",
        "14012345678",
        "12012345678",
        "19912345678",
        "8613912345678",
    ],
)
def test_it_takes_the_mobile_short_cut_only_where_phonenumbers_agrees(text):
    try:
        expected = identity.normalise_phone_by_parsing(text)
    except ValidationError:
        with pytest.raises(ValidationError):
            identity.normalise_phone(text)
    else:
        assert identity.normalise_phone(text) == expected
