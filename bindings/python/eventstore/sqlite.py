"""SQLiteEventStore and InMemoryEventStore: the library's two SQLite-side
stores, both the eventstore extension in Python's sqlite3.

InMemoryEventStore is an in-memory SQLite database: the same code, the
same guarantees and the same answers as a file, which is what a test
store should be.
"""

from __future__ import annotations

from typing import Any

from . import query
from ._sqlite import SQLiteBackend
from ._store import ExtensionStore
from .events import EventRegistry

__all__ = ["SQLiteEventStore", "InMemoryEventStore"]


class SQLiteEventStore(ExtensionStore):
    """A store in a SQLite file (or ":memory:").

        store = SQLiteEventStore("events.db", wal_mode=True, busy_timeout=5000)
        async with store:
            await store.initialize()
            ...

    The connection opens on first use too; `close()` (or leaving the
    `async with`) closes it.  Several processes may use one file at once:
    a call that finds the file locked waits up to busy_timeout
    milliseconds, on another thread, without blocking the event loop.
    """

    def __init__(self, database: str, wal_mode: bool = True, busy_timeout: int = 5000,
                 event_registry: EventRegistry | None = None) -> None:
        if not isinstance(database, str) or not database:
            raise ValueError(f"SQLiteEventStore: database must be a file path or "
                             f"':memory:', not {database!r}")
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int) \
                or busy_timeout < 0:
            raise ValueError(f"SQLiteEventStore: busy_timeout must be milliseconds >= 0, "
                             f"not {busy_timeout!r}")
        super().__init__(SQLiteBackend(database, wal_mode, busy_timeout),
                         query.SQLITE, event_registry)

    @property
    def database(self) -> str:
        return self._backend.database

    @property
    def wal_mode(self) -> bool:
        return self._backend.wal_mode

    @property
    def busy_timeout(self) -> int:
        return self._backend.busy_timeout

    @property
    def is_connected(self) -> bool:
        return self._backend.conn is not None

    @property
    def connection(self) -> Any:
        """The sqlite3 connection (with the extension loaded, in autocommit
        mode, busy timeout 0), for SQL of one's own: es_checkpoint,
        es_snapshot, ... (None until opened).  Use it from the event loop's
        thread; for long work of one's own, open a connection with
        eventstore.connect()."""
        return self._backend.conn

    async def connect(self) -> None:
        await self._backend.open()

    async def initialize(self) -> int:
        """Create the storage schema if it is missing (es_init()); returns
        its version."""
        return int(await self._backend.one(query.function(query.SQLITE, "es_init")))

    async def close(self) -> None:
        await self._backend.close()

    async def __aenter__(self) -> SQLiteEventStore:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


class InMemoryEventStore(SQLiteEventStore):
    """A store in memory, for tests and prototypes: gone with the process."""

    def __init__(self, event_registry: EventRegistry | None = None) -> None:
        super().__init__(":memory:", wal_mode=False, event_registry=event_registry)
