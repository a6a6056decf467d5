"""Issue 8: person lists in pinyin order, Latin and Chinese names together, on an index."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from epigrid.people.models import Person, name_key
from tests.scoping import make_person


def test_it_spells_names_in_pinyin_within_plain_letters():
    assert name_key("张三") == "zhang0san"
    assert name_key("Zhang Wei") == "zhang0wei"
    assert name_key("Émile Zola") == "emile0zola"
    assert name_key("西安") < name_key("先")  # syllables before longer syllables


def test_it_lists_persons_in_pinyin_order_with_latin_names_among_them(cast):
    for name in ["张伟", "Adams", "安娜", "Zimmer", "白雪", "Brown"]:
        make_person(household=cast.household_a, name=name)
    assert list(Person.objects.values_list("name", flat=True)) == [
        "Adams",
        "安娜",
        "白雪",
        "Brown",
        "张伟",
        "Zimmer",
    ]
    html = cast.client_for(cast.grid_worker).get("/people/").content.decode()
    assert html.index("安娜") < html.index("Brown") < html.index("张伟") < html.index("Zimmer")


def test_it_keeps_the_key_when_the_name_changes(cast):
    person = make_person(household=cast.household_a, name="李四")
    person.name = "王五"
    person.save()
    person.refresh_from_db()
    assert person.name_key == "wang0wu"


def test_it_orders_the_list_on_the_name_key_index(cast):
    with CaptureQueriesContext(connection) as queries:
        list(Person.objects.all()[:10])
    assert 'ORDER BY "people_person"."name_key" ASC, "people_person"."id" ASC' in queries[-1]["sql"]
