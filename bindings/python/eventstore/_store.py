"""The store on top of the extension: what the three stores share.

ExtensionStore turns each call of the library's API into one or two
statements (query.py) and their rows into objects (codec.py); a backend
runs the statements: _sqlite.py on Python's sqlite3 module, _postgres.py
on asyncpg.  A backend's `one(st)` returns the first column of the first
row, `rows(st)` every row, `iterate(st)` yields rows as a cursor reads
them; each raises EventStoreError (with the driver's code) for an error
the extension raised.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

from . import codec, query
from .errors import EventStoreError, conflict_from_message
from .events import DomainEvent, EventRegistry, default_registry
from .interface import (AppendResult, EventStore, EventStream, ReadDirection,
                        ReadOptions, StoredEvent)

# The conflict codes: SQLITE_CONSTRAINT_FUNCTION, and the twin's SQLSTATE.
CONFLICT_CODES = (1043, "ES409")


def _check_expected(expected_version: Any) -> int:
    if isinstance(expected_version, bool) or not isinstance(expected_version, int) \
            or expected_version < -2:
        raise ValueError("append_events: expected_version must be an integer >= 0 or "
                         "ExpectedVersion.ANY (-1) or ExpectedVersion.STREAM_EXISTS (-2), "
                         f"not {expected_version!r}")
    return expected_version


def _check_events(aggregate_id: Any, aggregate_type: str, events: Any) -> list[DomainEvent]:
    if isinstance(events, DomainEvent) or not hasattr(events, "__iter__"):
        raise TypeError("append_events: events must be a list of DomainEvent, "
                        f"not {type(events).__name__}")
    events = list(events)
    if not events:
        raise ValueError("append_events: events must not be empty")
    wanted = str(aggregate_id)
    for i, event in enumerate(events, 1):
        if not isinstance(event, DomainEvent):
            raise TypeError(f"append_events: event {i} is a {type(event).__name__}, "
                            f"not a DomainEvent")
        # An event filed under another aggregate than the one it names
        # would be read back as belonging to the wrong one.
        if str(event.aggregate_id) != wanted:
            raise ValueError(f"append_events: event {i} ({event.event_type}) belongs to "
                             f"aggregate {event.aggregate_id}, not {wanted}")
        if event.aggregate_type != aggregate_type:
            raise ValueError(f"append_events: event {i} ({event.event_type}) is for "
                             f"aggregate type {event.aggregate_type!r}, not "
                             f"{aggregate_type!r}")
    return events


class ExtensionStore(EventStore):
    """The library's EventStore API over the eventstore extension."""

    def __init__(self, backend: Any, dialect: query.Dialect,
                 event_registry: EventRegistry | None) -> None:
        self._backend = backend
        self._dialect = dialect
        self._registry = event_registry or default_registry

    @property
    def event_registry(self) -> EventRegistry:
        return self._registry

    # ------------------------------------------------------------ writing

    async def append_events(self, aggregate_id: UUID | str, aggregate_type: str,
                            events: list[DomainEvent],
                            expected_version: int) -> AppendResult:
        expected = _check_expected(expected_version)
        batch = _check_events(aggregate_id, aggregate_type, events)
        payload = codec.dumps([codec.event_object(e) for e in batch])
        st = query.append(self._dialect, str(aggregate_id), aggregate_type, expected, payload)
        try:
            result = await self._backend.one(st)
        except EventStoreError as e:
            if e.code in CONFLICT_CODES:
                conflict = conflict_from_message(str(e), aggregate_id)
                if conflict is not None:
                    raise conflict from None
            raise
        r = json.loads(result) if isinstance(result, (str, bytes)) else result
        return AppendResult(success=r["success"], new_version=r["new_version"],
                            global_position=r["global_position"], conflict=r["conflict"])

    # ------------------------------------------------------------ reading

    def _event(self, row: Any) -> DomainEvent:
        return codec.event_from_row(row, self._registry)

    async def get_events(self, aggregate_id: UUID | str, aggregate_type: str | None = None,
                         from_version: int = 0, from_timestamp: datetime | None = None,
                         to_timestamp: datetime | None = None) -> EventStream:
        if isinstance(from_version, bool) or not isinstance(from_version, int) \
                or from_version < 0:
            raise ValueError(f"get_events: from_version must be an integer >= 0, "
                             f"not {from_version!r}")
        st = query.stream_events(self._dialect, str(aggregate_id), aggregate_type,
                                 from_version, from_timestamp, to_timestamp)
        rows = await self._backend.rows(st)
        events = [self._event(r) for r in rows]
        if events:
            # The version the aggregate has after the last event read.
            version = rows[-1][2]
            kind = aggregate_type or rows[-1][4]
        elif aggregate_type is not None:
            version = await self.get_stream_version(aggregate_id, aggregate_type)
            kind = aggregate_type
        else:
            version, kind = 0, "Unknown"
        return EventStream(aggregate_id=aggregate_id, aggregate_type=kind,
                           events=events, version=version)

    async def read_stream(self, stream_id: str,
                          options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        options = options or ReadOptions()
        if options.from_position == -1 and options.direction is ReadDirection.FORWARD:
            return
        st = query.read_stream(self._dialect, str(stream_id), options)
        async for row in self._backend.iterate(st):
            yield codec.stored_from_row(row, self._registry)

    async def read_all(self, options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        options = options or ReadOptions()
        if options.from_position == -1 and options.direction is ReadDirection.FORWARD:
            return
        st = query.read_all(self._dialect, options)
        async for row in self._backend.iterate(st):
            yield codec.stored_from_row(row, self._registry)

    async def get_events_by_type(self, aggregate_type: str, tenant_id: Any = None,
                                 from_timestamp: datetime | None = None) -> list[DomainEvent]:
        st = query.events_by_type(self._dialect, aggregate_type, tenant_id, from_timestamp)
        return [self._event(r) for r in await self._backend.rows(st)]

    async def event_exists(self, event_id: UUID | str) -> bool:
        st = query.function(self._dialect, "es_event_exists", str(event_id),
                            casts=self._text_casts(1))
        return bool(await self._backend.one(st))

    async def get_stream_version(self, aggregate_id: UUID | str, aggregate_type: str) -> int:
        st = query.function(self._dialect, "es_version", str(aggregate_id), aggregate_type,
                            casts=self._text_casts(2))
        return int(await self._backend.one(st))

    async def get_global_position(self) -> int:
        return int(await self._backend.one(query.function(self._dialect,
                                                          "es_global_position")))

    def _text_casts(self, n: int) -> tuple:
        return ("::text",) * n if self._dialect.numbered else ()

    # ---------------------------------------------- the in-memory helpers

    async def get_all_events(self) -> list[DomainEvent]:
        """Every event, in global order."""
        return [self._event(r) for r in await self._backend.rows(
            query.all_events(self._dialect))]

    async def get_event_count(self) -> int:
        return int(await self._backend.one(query.event_count(self._dialect)))

    async def get_aggregate_ids(self) -> list[UUID | str]:
        """Every aggregate id, in the order of their first event."""
        from .events import _uuid_or_text
        return [_uuid_or_text(str(r[0])) for r in await self._backend.rows(
            query.aggregate_ids(self._dialect))]

    async def clear(self) -> None:
        """Delete everything: es_clear(), which the extension allows only on
        a test database (in memory, or a PostgreSQL database marked as one)."""
        await self._backend.one(query.function(self._dialect, "es_clear"))

    async def verify(self) -> dict[str, Any]:
        """es_verify()'s report."""
        r = await self._backend.one(query.function(self._dialect, "es_verify"))
        return json.loads(r) if isinstance(r, (str, bytes)) else r
