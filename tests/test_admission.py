"""core.admission: a server process runs at most EPIGRID_WEB_ACTIVE requests at once, and a request
waiting for a bulk slot gives its place to others while it waits."""

import threading
import time

from django.test import override_settings

from epigrid.core import admission


def _middleware(size, view):
    with override_settings(EPIGRID_WEB_ACTIVE=size):
        return admission.AdmissionMiddleware(view)


def _run_at_once(middleware, count):
    threads = [threading.Thread(target=middleware, args=(object(),)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)


class Tally:
    def __init__(self):
        self.lock, self.now, self.most, self.done = threading.Lock(), 0, 0, 0

    def view(self, _request):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(0.05)
        with self.lock:
            self.now -= 1
            self.done += 1
        return "answer"


def test_no_more_than_the_limit_run_at_once_and_every_request_is_answered():
    tally = Tally()
    _run_at_once(_middleware(2, tally.view), 8)
    assert tally.most == 2 and tally.done == 8


def test_zero_means_no_limit():
    tally = Tally()
    _run_at_once(_middleware(0, tally.view), 6)
    assert tally.most == 6 and tally.done == 6


def test_a_request_waiting_for_a_bulk_slot_lets_others_run():
    # Two places. A sync holds the bulk slot (and a place: it is working); a second sync waits for
    # the slot; a live scan must get the place the waiting sync would otherwise hold.
    slot, order = threading.Lock(), []
    first_working, release_first = threading.Event(), threading.Event()

    def view(kind):
        if kind.startswith("sync"):
            with admission.waiting_for(slot):
                if kind == "sync-1":
                    first_working.set()
                    release_first.wait(5)
                order.append(kind)
        else:
            order.append(kind)
        return kind

    middleware = _middleware(2, view)
    sync_1 = threading.Thread(target=middleware, args=("sync-1",))
    sync_1.start()
    assert first_working.wait(5)
    sync_2 = threading.Thread(target=middleware, args=("sync-2",))
    sync_2.start()
    time.sleep(0.1)  # sync-2 is now waiting for the slot
    live = threading.Thread(target=middleware, args=("live",))
    live.start()
    live.join(2)
    assert order == ["live"]  # answered while one sync works and the other waits
    release_first.set()
    for thread in (sync_1, sync_2):
        thread.join(5)
    assert order == ["live", "sync-1", "sync-2"]
