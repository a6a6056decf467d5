"""The shared cache's Redis backend (EPIGRID_CACHE=redis), with one client kept per connection pool.

Django's RedisCacheClient builds a new redis.Redis for every cache call, and redis.Redis.__init__
fills its table of about 170 response callbacks each time: on a gate scan (two cache calls: the
bad-token count with the auth epoch) that was a twentieth of the request's CPU. A redis.Redis
takes a connection from its pool only while a command runs, so one instance can serve every call
(redis-py documents it as thread-safe); the pools, and so the connections, are Django's as before.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # pool -> its client; Django keeps each pool for the backend's life

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            # Two threads may both build one: setdefault keeps the first, the other is dropped.
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
