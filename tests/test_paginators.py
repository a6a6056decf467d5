"""The capped paginator every list page uses: exact counts below the cap, "N+" above it, and page
links that keep working past the cap."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from epigrid.core.paginators import CappedPaginator
from epigrid.core.views import ObjectListView
from epigrid.people.models import Person
from tests.scoping import make_person


def test_it_counts_exactly_below_the_cap():
    paginator = CappedPaginator(list(range(95)), 10, cap=100)
    assert (paginator.count, paginator.capped, paginator.shown_count, paginator.num_pages) == (
        95,
        False,
        95,
        10,
    )
    assert list(paginator.page(10).object_list) == list(range(90, 95))


def test_it_counts_exactly_at_the_cap():
    paginator = CappedPaginator(list(range(100)), 10, cap=100)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (100, False, 10)
    assert not paginator.page(10).has_next()


def test_it_stops_counting_past_the_cap():
    paginator = CappedPaginator(list(range(1000)), 10, cap=100)
    page = paginator.page(1)
    assert (paginator.capped, paginator.shown_count) == (True, 100)
    assert page.has_next() and paginator.num_pages == 11


def test_it_gives_full_pages_and_a_next_link_past_the_cap():
    paginator = CappedPaginator(list(range(1000)), 10, cap=100)
    page = paginator.page(11)
    assert list(page.object_list) == list(range(100, 110))
    assert page.has_next() and paginator.shown_count == 110
    deep = CappedPaginator(list(range(1000)), 10, cap=100).page(60)
    assert list(deep.object_list) == list(range(590, 600)) and deep.has_next()


def test_it_ends_at_the_real_last_page_past_the_cap():
    paginator = CappedPaginator(list(range(1005)), 10, cap=100)
    page = paginator.page(101)
    assert list(page.object_list) == list(range(1000, 1005))
    assert not page.has_next() and not paginator.capped and paginator.count == 1005


def test_it_counts_again_when_a_deeper_page_is_asked_after_counting():
    paginator = CappedPaginator(list(range(1000)), 10, cap=100)
    assert paginator.count == 101
    assert list(paginator.page(30).object_list) == list(range(290, 300))


@pytest.mark.django_db
def test_it_counts_a_queryset_with_one_limited_query(cast):
    for i in range(7):
        make_person(household=cast.household_a, name=f"甲{i}")
    queryset = Person.objects.select_related("area").order_by("name")
    paginator = CappedPaginator(queryset, 2, cap=4)
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 5 and paginator.capped
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    assert "LIMIT 5" in sql and "ORDER BY" not in sql
    assert CappedPaginator(queryset, 2, cap=10).count == 7


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(CappedPaginator, "cap", 4)


def _count_queries(queries):
    return [q for q in queries if "COUNT(" in q["sql"].upper()]


def test_it_counts_each_list_once(cast):
    make_person(household=cast.household_a, name="甲")
    client = cast.client_for(cast.grid_worker)
    client.get("/people/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/people/")
    assert response.status_code == 200
    assert len(_count_queries(queries)) == 1
    assert issubclass(ObjectListView.paginator_class, CappedPaginator)


def test_it_shows_an_exact_count_below_the_cap(cast, small_cap):
    for i in range(3):
        make_person(household=cast.household_a, name=f"甲{i}")
    client = cast.client_for(cast.grid_worker)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert 'data-testid="result-count">3 results<' in client.get("/people/").content.decode()


def test_it_shows_the_cap_with_a_plus_and_keeps_paging(cast, small_cap, monkeypatch):
    monkeypatch.setattr(ObjectListView, "paginate_by", 2)
    people = [make_person(household=cast.household_a, name=f"甲{i:02d}") for i in range(9)]
    client = cast.client_for(cast.grid_worker)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/people/").content.decode()
    assert 'data-testid="result-count">4+ results<' in html
    assert "?page=2" in html and "?page=3" in html  # page links and "next"
    page3 = client.get("/people/", {"page": 3}).content.decode()
    assert people[4].name in page3 and people[5].name in page3 and people[3].name not in page3
    assert "?page=4" in page3  # next, past the cap
    last = client.get("/people/", {"page": 5}).content.decode()
    assert people[8].name in last and "?page=6" not in last
    assert 'data-testid="result-count">9 results<' in last  # the end is reached: exact
