"""What every store takes and returns: ExpectedVersion, ReadOptions,
ReadDirection, EventStream, StoredEvent, AppendResult, and EventStore, the
interface the three stores share.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from .events import DomainEvent

__all__ = ["ExpectedVersion", "ReadDirection", "ReadOptions", "EventStream",
           "StoredEvent", "AppendResult", "EventStore"]


class ExpectedVersion:
    """The special expected versions of append_events (the contract's
    table; a number n >= 0 asks for exactly version n)."""
    ANY: int = -1
    NO_STREAM: int = 0
    STREAM_EXISTS: int = -2


class ReadDirection(Enum):
    FORWARD = "forward"
    BACKWARD = "backward"


@dataclass(frozen=True)
class ReadOptions:
    """How read_stream and read_all read.

    from_position: only events after this position (the stream position
    in read_stream, the global one in read_all), in either direction; -1
    means the end, so a forward read from -1 returns nothing.  Timestamps
    are inclusive bounds on occurred_at, compared as instants (a naive
    datetime is taken as UTC).
    """
    direction: ReadDirection = ReadDirection.FORWARD
    from_position: int = 0
    limit: int | None = None
    from_timestamp: datetime | None = None
    to_timestamp: datetime | None = None
    tenant_id: UUID | str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.direction, ReadDirection):
            raise ValueError(f"ReadOptions: direction must be a ReadDirection, "
                             f"not {self.direction!r}")
        if isinstance(self.from_position, bool) or not isinstance(self.from_position, int) \
                or self.from_position < -1:
            raise ValueError("ReadOptions: from_position must be an integer >= 0, "
                             f"or -1 for the end, not {self.from_position!r}")
        if self.limit is not None and (isinstance(self.limit, bool)
                                       or not isinstance(self.limit, int) or self.limit < 0):
            raise ValueError(f"ReadOptions: limit must be None or an integer >= 0, "
                             f"not {self.limit!r}")
        for name in ("from_timestamp", "to_timestamp"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, datetime):
                raise ValueError(f"ReadOptions: {name} must be a datetime or None, "
                                 f"not {value!r}")


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: the event and where it is."""
    event: DomainEvent
    stream_id: str
    stream_position: int
    global_position: int
    stored_at: datetime

    @property
    def event_id(self) -> UUID:
        return self.event.event_id

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def aggregate_id(self) -> UUID | str:
        return self.event.aggregate_id

    @property
    def aggregate_type(self) -> str:
        return self.event.aggregate_type

    def __str__(self) -> str:
        return (f"StoredEvent({self.event_type}, stream_pos={self.stream_position}, "
                f"global_pos={self.global_position})")


@dataclass(frozen=True)
class EventStream:
    """One aggregate's events, oldest first, and its version."""
    aggregate_id: UUID | str
    aggregate_type: str
    events: list[DomainEvent] = field(default_factory=list)
    version: int = 0

    def __post_init__(self) -> None:
        if self.events is None:
            object.__setattr__(self, "events", [])

    @property
    def is_empty(self) -> bool:
        return not self.events

    @property
    def latest_event(self) -> DomainEvent | None:
        return self.events[-1] if self.events else None

    @classmethod
    def empty(cls, aggregate_id: UUID | str, aggregate_type: str) -> EventStream:
        return cls(aggregate_id=aggregate_id, aggregate_type=aggregate_type)


@dataclass(frozen=True)
class AppendResult:
    """What append_events returns (es_append's JSON result)."""
    success: bool
    new_version: int
    global_position: int = 0
    conflict: bool = False

    @classmethod
    def successful(cls, new_version: int, global_position: int = 0) -> AppendResult:
        return cls(True, new_version, global_position, False)

    @classmethod
    def conflicted(cls, current_version: int) -> AppendResult:
        return cls(False, current_version, 0, True)


class EventStore(ABC):
    """The interface of InMemoryEventStore, SQLiteEventStore and
    PostgreSQLEventStore."""

    @abstractmethod
    async def append_events(self, aggregate_id: UUID | str, aggregate_type: str,
                            events: list[DomainEvent], expected_version: int) -> AppendResult:
        ...

    @abstractmethod
    async def get_events(self, aggregate_id: UUID | str, aggregate_type: str | None = None,
                         from_version: int = 0, from_timestamp: datetime | None = None,
                         to_timestamp: datetime | None = None) -> EventStream:
        ...

    @abstractmethod
    async def get_events_by_type(self, aggregate_type: str, tenant_id: Any = None,
                                 from_timestamp: datetime | None = None) -> list[DomainEvent]:
        ...

    @abstractmethod
    async def event_exists(self, event_id: UUID | str) -> bool:
        ...

    @abstractmethod
    async def get_stream_version(self, aggregate_id: UUID | str, aggregate_type: str) -> int:
        ...

    @abstractmethod
    def read_stream(self, stream_id: str,
                    options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        ...

    @abstractmethod
    def read_all(self, options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        ...

    @abstractmethod
    async def get_global_position(self) -> int:
        ...
