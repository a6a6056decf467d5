"""Shared test fixtures and generic test mixins (style habits 8 and 9).

The cast: a district with one street, one community and two grids (A and B); a user per role;
`grid_worker_b` is the outsider who must see nothing of grid A.
"""

import datetime
import itertools

from django.test import Client

from epigrid.core.identity import make_resident_id

_sequence = itertools.count(1)

CAST_ROLES = {
    "commander": ("district_commander", "district"),
    "street_officer": ("street_officer", "street"),
    "community_officer": ("community_officer", "community"),
    "grid_worker": ("grid_worker", "grid_a"),
    "grid_worker_b": ("grid_worker", "grid_b"),
    "checkpoint": ("checkpoint_staff", "community"),
    "lab": ("lab_staff", "district"),
    "auditor": ("auditor", "district"),
    "admin": ("system_admin", "city"),
}
PASSWORD = "epigrid-test-pass"


class Cast:
    """Builds the fixed cast in the test database; attributes are areas and users."""

    def __init__(self):
        from epigrid.accounts.models import Grant, User
        from epigrid.areas.models import Area, Building, Household, Level

        self.city = Area.objects.create(code="620100", name="兰州市", level=Level.CITY)
        self.district = Area.objects.create(
            code="620102", name="城关区", level=Level.DISTRICT, parent=self.city
        )
        self.street = Area.objects.create(
            code="620102001000", name="九州街道", level=Level.STREET, parent=self.district
        )
        self.community = Area.objects.create(
            code="620102001001", name="九州社区", level=Level.COMMUNITY, parent=self.street
        )
        self.grid_a = Area.objects.create(
            code="620102001001001", name="第一网格", level=Level.GRID, parent=self.community
        )
        self.grid_b = Area.objects.create(
            code="620102001001002", name="第二网格", level=Level.GRID, parent=self.community
        )
        self.building_a = Building.objects.create(area=self.grid_a, name="1号楼")
        self.building_b = Building.objects.create(area=self.grid_b, name="9号楼")
        self.household_a = Household.objects.create(building=self.building_a, unit="1", room="101")
        self.household_b = Household.objects.create(building=self.building_b, unit="2", room="202")
        for username, (role, area_attr) in CAST_ROLES.items():
            user = User.objects.create_user(username, password=PASSWORD)
            Grant.objects.create(user=user, role=role, area=getattr(self, area_attr))
            setattr(self, username, user)
        self.nobody = User.objects.create_user("nobody", password=PASSWORD)

    def client_for(self, user):
        client = Client()
        client.force_login(user)
        return client


def make_person(area=None, household=None, name="张三", birth=datetime.date(1980, 5, 17), **fields):
    """A person with a fresh valid resident ID."""
    from epigrid.people.models import Person

    seq = next(_sequence)
    fields.setdefault("doc_number", make_resident_id("620102", birth, seq))
    person = Person(name=name, area=area or household.area, household=household, **fields)
    person.save()
    return person


def full_numbers():
    """Every full document number and phone in the test database: what a role without the
    reveal right must never receive."""
    from epigrid.people.models import Person

    found = set()
    for number, phone in Person.objects.values_list("doc_number", "phone"):
        found.add(number)
        if phone:
            found.update({phone, phone.removeprefix("+86")})
    return found


def assert_no_full_numbers(body):
    leaked = [n for n in full_numbers() if n in body]
    assert not leaked, f"full personal data in the answer: {leaked}"


class ScopedViewTests:
    """Generic page tests. A subclass declares:
    model; list_url; make_object(cast, grid) -> object in that grid; edit_data(cast, obj) -> dict
    of valid form data for the edit page; `readonly_user` name (in scope, cannot change)."""

    model = None
    list_url = None
    readonly_user = "auditor"
    # Who sees an object made in grid A, and who must not (cast attribute names). Models bound to
    # posts (core.scoping `scope_binding`) name users made in make_object, e.g. two samplers.
    viewer = "grid_worker"
    outsider = "grid_worker_b"
    # A role without the reveal right that sees the object (for the no-full-number probe).
    unrevealing = "grid_worker"

    def make_object(self, cast, grid):
        raise NotImplementedError

    def edit_data(self, cast, obj):
        raise NotImplementedError

    def detail_url(self, obj):
        return obj.get_absolute_url()

    def list_text(self, obj):
        return str(obj)

    def edit_url(self, obj):
        from django.urls import reverse

        meta = obj._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_edit", args=[obj.pk])

    def test_it_lists_the_object_for_its_grid_worker(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        response = cast.client_for(getattr(cast, self.viewer)).get(self.list_url)
        assert response.status_code == 200
        assert self.list_text(obj) in response.content.decode()

    def test_it_hides_the_object_from_another_grid(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = cast.client_for(getattr(cast, self.outsider))
        assert self.list_text(obj) not in client.get(self.list_url).content.decode()
        assert client.get(self.detail_url(obj)).status_code == 404
        assert client.get(self.edit_url(obj)).status_code == 404

    def test_it_refuses_changes_from_a_read_only_role(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = cast.client_for(getattr(cast, self.readonly_user))
        assert client.get(self.detail_url(obj)).status_code == 200
        assert client.post(self.edit_url(obj), self.edit_data(cast, obj)).status_code == 403

    def test_it_saves_a_change_in_scope(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        response = cast.client_for(cast.admin).post(self.edit_url(obj), self.edit_data(cast, obj))
        assert response.status_code == 302, (
            getattr(response, "context", None) and response.context["form"].errors
        )

    def test_it_requires_login(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        assert Client().get(self.detail_url(obj)).status_code == 302

    def test_it_shows_no_full_number_to_a_role_without_reveal(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = cast.client_for(getattr(cast, self.unrevealing))
        for url in (self.list_url, self.detail_url(obj), self.edit_url(obj)):
            response = client.get(url)
            assert response.status_code in (200, 403)
            assert_no_full_numbers(response.content.decode())


class ScopedAPITests:
    """Generic API tests. A subclass declares: model; api_list_url; make_object(cast, grid);
    `readonly_user`; write_data(cast, obj) -> dict for PATCH that keeps the object in scope."""

    model = None
    api_list_url = None
    readonly_user = "auditor"
    viewer = "grid_worker"  # as in ScopedViewTests
    outsider = "grid_worker_b"
    unrevealing = "grid_worker"
    # Read-only viewsets whose writes are actions name one ("accept"): the write probes POST to it.
    write_action = None
    # Read-only viewsets without any write: every write answers 405, telling nothing about the row.
    read_only = False

    def make_object(self, cast, grid):
        raise NotImplementedError

    def write_data(self, cast, obj):
        raise NotImplementedError

    def write(self, client, obj, data):
        if self.read_only:
            response = client.patch(self.detail(obj), data, format="json")
            assert response.status_code == 405
            # Stands for the refusal the probe expects: visible → 403, invisible → 404.
            response.status_code = 403 if client.get(self.detail(obj)).status_code == 200 else 404
            return response
        if self.write_action:
            return client.post(f"{self.detail(obj)}{self.write_action}/", data, format="json")
        return client.patch(self.detail(obj), data, format="json")

    def api_client(self, user):
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(user)
        return client

    def detail(self, obj):
        return f"{self.api_list_url}{obj.pk}/"

    def test_it_lists_in_scope_objects_through_the_api(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        data = self.api_client(getattr(cast, self.viewer)).get(self.api_list_url).json()
        assert obj.pk in [row["id"] for row in data["results"]]

    def test_it_hides_another_grids_object_from_the_api(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = self.api_client(getattr(cast, self.outsider))
        assert obj.pk not in [row["id"] for row in client.get(self.api_list_url).json()["results"]]
        assert client.get(self.detail(obj)).status_code == 404
        assert self.write(client, obj, self.write_data(cast, obj)).status_code == 404

    def test_it_refuses_api_changes_from_a_read_only_role(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = self.api_client(getattr(cast, self.readonly_user))
        assert client.get(self.detail(obj)).status_code == 200
        assert self.write(client, obj, self.write_data(cast, obj)).status_code == 403

    def test_it_answers_no_full_number_to_a_role_without_reveal(self, cast):
        obj = self.make_object(cast, cast.grid_a)
        client = self.api_client(getattr(cast, self.unrevealing))
        for url in (self.api_list_url, self.detail(obj)):
            response = client.get(url)
            assert response.status_code == 200
            assert_no_full_numbers(response.content.decode())

    def test_it_requires_authentication(self, cast):
        from rest_framework.test import APIClient

        assert APIClient().get(self.api_list_url).status_code in (401, 403)


class TransitionViewTests:
    """Generic tests of a move page (core.views.TransitionView). A subclass declares:
    url_name; make_ready(cast) -> a record in grid A the move applies to; make_refused(cast) -> one
    the service refuses it for; state(obj) -> what the move changes; valid_data and invalid_data
    (form errors); next_data and next_url (where the form's `next` leads); and who tries it, each a
    cast attribute name or a callable of the cast: `mover` may, `forbidden` sees the record without
    the right, `outsider` holds the right elsewhere only."""

    url_name = None
    mover = "grid_worker"
    forbidden = "auditor"
    outsider = "grid_worker_b"
    valid_data = {}
    invalid_data = None  # None: the move has no fields to get wrong
    refused_message = None  # the service's words for make_refused's record (English)
    next_data = None
    next_url = None

    def make_ready(self, cast):
        raise NotImplementedError

    def make_refused(self, cast):
        raise NotImplementedError

    def state(self, obj):
        raise NotImplementedError

    def client(self, cast, who):
        return cast.client_for(who(cast) if callable(who) else getattr(cast, who))

    def post(self, cast, who, obj, data):
        from django.urls import reverse

        return self.client(cast, who).post(
            reverse(self.url_name, args=[obj.pk]), data, HTTP_ACCEPT_LANGUAGE="en"
        )

    def fresh(self, obj):
        return self.state(type(obj).objects.get(pk=obj.pk))

    def messages(self, response):
        from django.contrib.messages import get_messages

        return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]

    def test_it_hides_the_record_from_a_user_of_another_area(self, cast):
        obj = self.make_ready(cast)
        before = self.fresh(obj)
        assert self.post(cast, self.outsider, obj, self.valid_data).status_code == 404
        assert self.fresh(obj) == before

    def test_it_forbids_the_move_without_the_right(self, cast):
        obj = self.make_ready(cast)
        before = self.fresh(obj)
        assert self.post(cast, self.forbidden, obj, self.valid_data).status_code == 403
        assert self.fresh(obj) == before

    def test_it_shows_form_errors_as_messages_and_changes_nothing(self, cast):
        if self.invalid_data is None:
            return
        obj = self.make_ready(cast)
        before = self.fresh(obj)
        response = self.post(cast, self.mover, obj, self.invalid_data)
        assert response.status_code == 302 and response.url == obj.get_absolute_url()
        assert [level for level, _ in self.messages(response)] == ["error"]
        assert self.fresh(obj) == before

    def test_it_shows_a_refused_move_as_a_message_and_changes_nothing(self, cast):
        obj = self.make_refused(cast)
        before = self.fresh(obj)
        response = self.post(cast, self.mover, obj, self.valid_data)
        assert response.status_code == 302 and response.url == obj.get_absolute_url()
        assert self.messages(response) == [("error", self.refused_message)]
        assert self.fresh(obj) == before

    def test_it_moves_the_record_and_comes_back_to_it(self, cast):
        obj = self.make_ready(cast)
        before = self.fresh(obj)
        response = self.post(cast, self.mover, obj, self.valid_data)
        assert response.status_code == 302 and response.url == obj.get_absolute_url()
        assert [level for level, _ in self.messages(response)] == ["success"]
        assert self.fresh(obj) != before

    def test_it_goes_where_the_form_says_next(self, cast):
        if self.next_data is None:
            return
        obj = self.make_ready(cast)
        response = self.post(cast, self.mover, obj, {**self.valid_data, **self.next_data})
        assert response.status_code == 302 and response.url == self.next_url
