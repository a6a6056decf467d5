"""Throttles on guessing credentials (decision 0014).

Passwords: django-axes counts failures per username + address for the login page and the admin
alike (settings.AXES_*). API tokens: this module counts bad tokens per address in the cache; past
EPIGRID_TOKEN_FAILURE_LIMIT every token from that address is refused with 429 until the cool-off
has passed since the last attempt, so the search for a valid token stops rather than slows.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled


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
        if cache.get(key, 0) >= settings.EPIGRID_TOKEN_FAILURE_LIMIT:
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


def _count_failure(key):
    # add() starts the window; incr() counts atomically (in Redis across processes).
    cache.add(key, 0, _cooloff_seconds())
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, _cooloff_seconds())
