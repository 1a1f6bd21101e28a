"""The exceptions the stores raise.

OptimisticLockError is the library's conflict error; it is built from the
extension's conflict (SQLite extended code 1043, PostgreSQL SQLSTATE
ES409), whose message shape the contract fixes:
  es_append: version conflict on stream '<id>:<type>': expected version <e>, actual version <a>
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["EventStoreError", "OptimisticLockError", "EventTypeNotFoundError",
           "ExtensionNotLoadableError"]


class EventStoreError(Exception):
    """Base class of this package's errors; an error the extension raised
    carries its code (SQLite's extended result code, or PostgreSQL's
    SQLSTATE) and the extension's message, which names the function."""

    def __init__(self, message: str = "", code: int | str | None = None) -> None:
        super().__init__(message)
        self.code = code


class OptimisticLockError(EventStoreError):
    """The stream's version was not the expected one."""

    def __init__(self, aggregate_id: Any, expected_version: int, actual_version: int,
                 message: str | None = None) -> None:
        self.aggregate_id = aggregate_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(message or
                         f"Optimistic lock error for aggregate {aggregate_id}: "
                         f"expected version {expected_version}, actual version {actual_version}")


class EventTypeNotFoundError(EventStoreError, KeyError):
    """A stored event's type has no registered class."""

    def __init__(self, event_type: str) -> None:
        self.event_type = event_type
        super().__init__(f"event type {event_type!r} is not registered: decorate its "
                         f"DomainEvent subclass with @register_event")

    def __str__(self) -> str:
        return self.args[0]


class ExtensionNotLoadableError(EventStoreError, RuntimeError):
    """This Python cannot load the extension, or the extension is missing."""


_CONFLICT = re.compile(r"^es_append: version conflict on stream '.*': "
                       r"expected version (-?\d+), actual version (\d+)$", re.S)


def conflict_from_message(message: str, aggregate_id: Any) -> OptimisticLockError | None:
    """The OptimisticLockError for an es_append conflict message, or None
    when the message is not one."""
    m = _CONFLICT.match(message.strip())
    if m is None:
        return None
    return OptimisticLockError(aggregate_id, int(m.group(1)), int(m.group(2)), message)
