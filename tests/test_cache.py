"""The shared cache's Redis backend (core.cache): Django's, with one redis client kept per pool."""

import threading
import uuid

import pytest
from django.conf import settings

from epigrid.core.cache import RedisCache
from tests.local_services import needs_redis

pytestmark = needs_redis("the production cache")


@pytest.fixture
def redis_cache():
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-{uuid.uuid4()}"})
    yield cache
    cache.delete_many(["count", "epoch", "bad"])


def test_it_counts_and_reads_as_the_token_throttle_does(redis_cache):
    assert redis_cache.add("count", 0, 60)
    assert not redis_cache.add("count", 5, 60)  # the window already started
    assert redis_cache.incr("count") == 1
    redis_cache.set("epoch", 7)
    assert redis_cache.get_many(["count", "epoch", "bad"]) == {"count": 1, "epoch": 7}
    assert redis_cache.touch("count", 60)


def test_one_client_serves_every_call_and_thread(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client  # one server: one pool, one client
    redis_cache.add("count", 0, 60)

    def count():
        for _ in range(50):
            redis_cache.incr("count")

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redis_cache.get("count") == 200  # none lost through the shared client
    assert redis_cache._cache.get_client() is client
