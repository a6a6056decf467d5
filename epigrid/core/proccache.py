"""What one process keeps for a few seconds (decision 0040): the answers every request of a busy
endpoint asks again and that hardly ever change — who an API token belongs to and what that user
holds, the active protocol, the zones in force, who is posted at a gate.

Each region is a cachetools TTLCache behind a lock (TTLCache itself is not thread-safe and gunicorn
serves with threads). A save in this process clears the region at once (the owning app connects
its model signals to `clear`); the other processes follow within the region's seconds, which is
what a change of grants or a revoked token may take to reach every process.
"""

import threading

from cachetools import TTLCache

MISSING = object()
_regions = []


class ProcessCache:
    def __init__(self, seconds, size=10_000):
        self.seconds = seconds
        self._data = TTLCache(maxsize=size, ttl=seconds)
        self._lock = threading.Lock()
        _regions.append(self)

    def get(self, key):
        """The kept value (None included), or MISSING."""
        with self._lock:
            return self._data.get(key, MISSING)

    def put(self, key, value):
        if self.seconds <= 0:
            return
        with self._lock:
            self._data[key] = value

    def cached(self, key, load):
        """The kept value, or `load()` kept (two threads may both load: loads are reads)."""
        value = self.get(key)
        if value is MISSING:
            value = load()
            self.put(key, value)
        return value

    def clear(self, *_args, **_kwargs):
        """Forget everything (also a signal receiver: a saved row that answers depend on)."""
        with self._lock:
            self._data.clear()


def clear_all():
    """Every region of this process (between tests)."""
    for region in _regions:
        region.clear()
