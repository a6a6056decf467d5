"""Markers for tests that need a service a developer's machine may lack (CI's machine has them)."""

import socket

import pytest


def _reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def needs_redis(what):
    """Skip unless Redis answers on 127.0.0.1:6379; `what` says what the test needs it for."""
    return pytest.mark.skipif(not _reachable("127.0.0.1", 6379), reason=f"no Redis on 127.0.0.1:6379 ({what})")
