import functools
import inspect

from django.apps import AppConfig


def _cache_table_signatures():
    """django-tables2 inspects a render method's signature for every cell it renders (about 30 µs
    each: a sixth of a 50-row list page). A function's signature does not change: cache it per
    function, a bound method under its function (the signature drops `self` either way)."""
    from django_tables2 import utils

    original = utils.signature

    @functools.lru_cache(maxsize=4096)
    def cached(fn, bound):
        return original(fn.__get__(object()) if bound else fn)

    def signature(fn):
        if inspect.ismethod(fn):
            return cached(fn.__func__, True)
        try:
            return cached(fn, False)
        except TypeError:  # unhashable callables, if any
            return original(fn)

    utils.signature = signature


class CoreConfig(AppConfig):
    name = "epigrid.core"
    label = "core"

    def ready(self):
        _cache_table_signatures()
