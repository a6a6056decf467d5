"""Who is acting, and in which request: held in a contextvar so the change log can be written
from one signal receiver whatever path (page, API, import, command, job) made the change."""

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChangeContext:
    user: object = None
    source: str = "system"  # web, api, import, command, job, system
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)


_current = contextvars.ContextVar("epigrid_change_context", default=None)


def current():
    """The active change context, or an anonymous 'system' one."""
    return _current.get() or ChangeContext()


@contextmanager
def change_context(user=None, source="command", request_id=None):
    token = _current.set(ChangeContext(user=user, source=source, request_id=request_id or uuid.uuid4()))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
