import datetime

import pytest
from django.utils import timezone

from tests.scoping import Cast


@pytest.fixture
def cast(db):
    return Cast()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The cast creates a dozen users per test; PBKDF2 would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings):
    # Jobs run as soon as their transaction commits, in the test's own thread.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _connection_in_autocommit(django_db_blocker):
    """Outside any transaction the test connection must be in autocommit: a live server shares
    the in-memory SQLite connection with the test's thread, and a request cut short by the end of
    an earlier test can leave it in manual mode, failing the next test's first on_commit(). The
    leak is the harness's (production requests get their own connections), so it is repaired
    here rather than in the code."""
    from django.db import connection

    if connection.connection is not None and not connection.in_atomic_block and not connection.autocommit:
        with django_db_blocker.unblock():
            connection.set_autocommit(True)
    yield


@pytest.fixture(autouse=True)
def _dashboard_counted_live(settings):
    # A test reads the figures of the data it just wrote: no city snapshot seconds old (the
    # snapshot's own tests turn it on).
    settings.DASHBOARD_SNAPSHOT_SECONDS = 0


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _shipped_protocols_in_transactional_tests(request):
    """A transactional test (the PostgreSQL races) starts from a database another one flushed,
    without the protocols a migration ships: load them, as the migration does, when missing."""
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction") and "browser" not in request.keywords:
        request.getfixturevalue("transactional_db")
        import importlib

        from django.apps import apps

        from epigrid.control.models import Protocol

        if not Protocol.objects.filter(is_active=True).exists():
            importlib.import_module("epigrid.control.migrations.0002_shipped_protocols").load(apps, None)


@pytest.fixture(autouse=True)
def _process_caches_cleared():
    """What a process keeps for seconds (core.proccache: tokens and grants, the gate's protocol,
    zones and posts) is one test's data."""
    from epigrid.core.proccache import clear_all

    clear_all()
    yield
    clear_all()


@pytest.fixture(autouse=True)
def _today_is_the_tests_day(request):
    # Test modules keep TODAY as a module constant, computed when the module is collected. A run
    # that crosses local midnight (16:00 UTC for Asia/Shanghai) would otherwise compare dates of
    # yesterday with the code's today; each test gets the day it runs on instead.
    if type(getattr(request.module, "TODAY", None)) is datetime.date:
        request.module.TODAY = timezone.localdate()
