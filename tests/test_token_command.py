"""`epigrid token USERNAME` prints the user's API token."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token


def _token(username):
    out = StringIO()
    call_command("token", username, stdout=out)
    return out.getvalue().strip()


def test_it_creates_and_prints_a_token(cast):
    assert _token("grid_worker") == Token.objects.get(user=cast.grid_worker).key


def test_it_prints_the_same_token_again(cast):
    assert _token("grid_worker") == _token("grid_worker")


def test_it_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="no-such-user"):
        call_command("token", "no-such-user")
