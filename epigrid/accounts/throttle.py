"""Throttles on guessing credentials (decision 0014), and API tokens known for a few seconds
(decision 0040).

Passwords: django-axes counts failures per username + address for the login page and the admin
alike (settings.AXES_*). API tokens: this module counts bad tokens per address in the cache; past
EPIGRID_TOKEN_FAILURE_LIMIT every token from that address is refused with 429 until the cool-off
has passed since the last attempt, so the search for a valid token stops rather than slows.
"""

import copy

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from epigrid.core.proccache import MISSING, ProcessCache

# A phone at a gate sends a scan every few seconds: its token, its user and the user's grants are
# read once per process, not on every request (decision 0040). Each is kept under the shared
# cache's auth epoch, which every save of a token, user or grant moves on (accounts/apps.py): with
# a cache the processes share (Redis) a revocation holds at every process's next request; with the
# per-process default, at once in the saving process and within EPIGRID_AUTH_CACHE_SECONDS in the
# others.
known_tokens = ProcessCache(settings.EPIGRID_AUTH_CACHE_SECONDS)
EPOCH_KEY = "epigrid:auth-epoch"


def auth_epoch(user):
    """The auth epoch a token's request was authenticated under (None for a session's): what is
    kept of the user's rights under it stays true until it moves."""
    return getattr(user, "auth_epoch", None)


def move_auth_epoch(*_args, update_fields=None, **_kwargs):
    """A token, user or grant changed: what every process keeps of them is stale. The epoch moves
    once the change is committed: moved before, another process could read the old rows and keep
    them under the new epoch. A login's stamp (`last_login`) changes no right: every process would
    otherwise read every token again each time someone logs in."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    known_tokens.clear()
    transaction.on_commit(_move_epoch)


def _move_epoch():
    known_tokens.clear()
    cache.add(EPOCH_KEY, 0, None)
    try:
        cache.incr(EPOCH_KEY)
    except ValueError:  # evicted between the two calls
        cache.set(EPOCH_KEY, 1, None)


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind EPIGRID_PROXY_COUNT proxies the address the
    outermost of them saw (counted from the right of X-Forwarded-For, which clients can prepend to)."""
    count = settings.EPIGRID_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def _cooloff_seconds():
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def _key(request):
    return f"epigrid:bad-token:{client_ip(request)}"


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF token authentication that stops answering an address after repeated bad tokens."""

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: nothing to count
        key = _key(request)
        found = cache.get_many([key, EPOCH_KEY])  # one round trip for both
        self.epoch = found.get(EPOCH_KEY, 0)
        if found.get(key, 0) >= settings.EPIGRID_TOKEN_FAILURE_LIMIT:
            cache.touch(key, _cooloff_seconds())  # attempts while blocked prolong the block
            raise Throttled(
                wait=_cooloff_seconds(),
                detail=_("Too many invalid API tokens from this address. Try again later."),
            )
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            _count_failure(key)
            raise

    def authenticate_credentials(self, key):
        kept = (key, getattr(self, "epoch", None))
        found = known_tokens.get(kept)
        if found is MISSING:
            user, token = super().authenticate_credentials(key)
            user._grant_rows(), user._roots()  # read now, kept with the user
            user.__dict__.setdefault("_scope_cache", {})  # so that every copy shares the answers
            found = (user, token)
            known_tokens.put(kept, found)
        user, token = copy.copy(found[0]), found[1]
        user.auth_epoch = kept[1]
        # Each request its own instance (a view may set attributes on it); the grants read above
        # and the scope answers derived from them are shared.
        return user, token


def _count_failure(key):
    # add() starts the window; incr() counts atomically (in Redis across processes).
    cache.add(key, 0, _cooloff_seconds())
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, _cooloff_seconds())
