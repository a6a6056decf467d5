"""API tokens known for a few seconds per process (decision 0040): a phone's repeated requests do
not read its token and grants again, and a change of either holds at the next request — in the
process that saved it through the signals, in the others through the shared cache's auth epoch."""

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from epigrid.accounts.models import Grant
from epigrid.accounts.throttle import EPOCH_KEY
from tests.scoping import make_person


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _tables_read(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return " ".join(q["sql"] for q in queries.captured_queries)


def test_a_repeated_request_reads_neither_the_token_nor_the_grants_again(cast):
    person = make_person(household=cast.household_a)
    client = _client(cast.grid_worker)
    first = _tables_read(client, f"/api/v1/persons/{person.pk}/")
    again = _tables_read(client, f"/api/v1/persons/{person.pk}/")
    assert "authtoken_token" in first and "accounts_grant" in first
    assert "authtoken_token" not in again and "accounts_grant" not in again


def test_a_grant_moved_here_holds_at_the_next_request(cast):
    person = make_person(household=cast.household_a)
    client = _client(cast.grid_worker)
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 200
    grant = Grant.objects.get(user=cast.grid_worker)
    grant.area = cast.grid_b
    grant.save()
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 404


def test_a_grant_moved_by_another_process_holds_once_the_epoch_moves(cast):
    person = make_person(household=cast.household_a)
    client = _client(cast.grid_worker)
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 200
    # Another process saved the grant: this process got no signal, only the shared cache's epoch.
    Grant.objects.filter(user=cast.grid_worker).update(area=cast.grid_b)
    cache.add(EPOCH_KEY, 0, None)
    cache.incr(EPOCH_KEY)
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 404


def test_a_deleted_token_or_a_deactivated_user_is_refused_at_the_next_request(cast):
    person = make_person(household=cast.household_a)
    client = _client(cast.grid_worker)
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 200
    Token.objects.filter(user=cast.grid_worker).delete()
    assert client.get(f"/api/v1/persons/{person.pk}/").status_code == 401

    other = _client(cast.grid_worker)
    assert other.get(f"/api/v1/persons/{person.pk}/").status_code == 200
    cast.grid_worker.is_active = False
    cast.grid_worker.save()
    assert other.get(f"/api/v1/persons/{person.pk}/").status_code == 401


def test_a_gate_taken_from_its_staff_by_another_process_refuses_their_next_scan(cast):
    from epigrid.checkpoints.models import Checkpoint
    from tests.checkpoint_cast import gates

    g = gates(cast)
    client = _client(g.staff_a)

    def send():
        scan = g.scan(g.gate_a, g.person())
        response = client.post("/api/v1/passages/batch/", {"scans": [scan]}, format="json")
        assert response.status_code == 200
        return response.json()[0]["outcome"]

    assert send() == "accepted"
    assert send() == "accepted"  # the post is kept with the token now
    # Another process took the gate from them: no signal here, only the shared epoch.
    Checkpoint.staff.through.objects.filter(checkpoint=g.gate_a, user=g.staff_a)._raw_delete("default")
    cache.add(EPOCH_KEY, 0, None)
    cache.incr(EPOCH_KEY)
    assert send() == "refused"


def test_the_epoch_moves_when_the_change_commits_not_before(cast, django_capture_on_commit_callbacks):
    grant = Grant.objects.get(user=cast.grid_worker)
    before = cache.get(EPOCH_KEY, 0)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        grant.area = cast.grid_b
        grant.save()
        assert cache.get(EPOCH_KEY, 0) == before  # another process still reads the old rows
    for callback in callbacks:
        callback()
    assert cache.get(EPOCH_KEY, 0) > before


def test_a_login_changes_no_right_and_keeps_the_tokens_known(cast, client):
    person = make_person(household=cast.household_a)
    api = _client(cast.grid_worker)
    assert api.get(f"/api/v1/persons/{person.pk}/").status_code == 200
    last_login = cast.grid_worker.last_login
    client.force_login(cast.grid_worker)  # stamps last_login (a save of the user)
    cast.grid_worker.refresh_from_db()
    assert cast.grid_worker.last_login != last_login
    assert "authtoken_token" not in _tables_read(api, f"/api/v1/persons/{person.pk}/")
