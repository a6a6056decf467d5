"""How many requests a server process runs at once (decision 0043).

gunicorn's gthread worker hands each request to a free thread of its pool; the pool is large (24)
so that a sampling desk's offline sync can wait for its bulk slot (testing.api) while other
requests go on. But every thread running Python code at once competes for the one interpreter
lock of its process: on two cores, dozens of gate scans in flight each waited for the lock after
every database answer, and the scans cost a third more CPU and several times their time. So a
process runs at most EPIGRID_WEB_ACTIVE requests at once; the others wait, in order of arrival,
without running. A request that waits for something else (a bulk slot) steps out while it waits
(`waiting_for`), so waiting never holds a place.
"""

import threading
from contextlib import contextmanager

from django.conf import settings

_held = threading.local()


class AdmissionMiddleware:
    """First in MIDDLEWARE: a request runs once one of the process's places is free."""

    def __init__(self, get_response):
        self.get_response = get_response
        size = settings.EPIGRID_WEB_ACTIVE
        self.places = threading.BoundedSemaphore(size) if size else None

    def __call__(self, request):
        if self.places is None or getattr(_held, "places", None) is not None:
            return self.get_response(request)  # unlimited, or a request made inside a request
        self.places.acquire()
        _held.places = self.places
        try:
            return self.get_response(request)
        finally:
            _held.places = None
            self.places.release()


@contextmanager
def waiting_for(lock):
    """Hold `lock` for the block; while waiting for it, the request's place is given up (and taken
    again, in turn, once `lock` is held). The lock is always taken before the place, so a request
    holding a place never waits for a lock that a request waiting for a place holds."""
    places = getattr(_held, "places", None)
    if places is None:
        with lock:
            yield
        return
    places.release()
    _held.places = None
    try:
        lock.acquire()
    finally:
        places.acquire()
        _held.places = places
    try:
        yield
    finally:
        lock.release()
