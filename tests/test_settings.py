"""Settings from the environment fail loudly on bad values."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from epigrid.core.env import env_bool, env_choice, env_int, env_list


def test_it_reads_booleans_in_their_usual_spellings(monkeypatch):
    monkeypatch.setenv("X_FLAG", "Yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "0")
    assert env_bool("X_FLAG", True) is False


def test_it_refuses_a_boolean_it_cannot_read(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")


def test_it_refuses_a_non_integer(monkeypatch):
    monkeypatch.setenv("X_PORT", "80a")
    with pytest.raises(ImproperlyConfigured, match="X_PORT"):
        env_int("X_PORT", 1)


def test_it_refuses_an_unknown_choice(monkeypatch):
    monkeypatch.setenv("X_MODE", "fast")
    with pytest.raises(ImproperlyConfigured, match="db, immediate"):
        env_choice("X_MODE", ["db", "immediate"], "db")


def test_it_splits_lists_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("X_HOSTS", "a.example, ,b.example")
    assert env_list("X_HOSTS") == ["a.example", "b.example"]


def test_it_defaults_to_chinese_and_shanghai_time(settings):
    assert (settings.LANGUAGE_CODE, settings.TIME_ZONE) == ("zh-hans", "Asia/Shanghai")
