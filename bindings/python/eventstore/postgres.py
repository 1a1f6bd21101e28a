"""PostgreSQLEventStore: the library's PostgreSQL store over eventstore's
PostgreSQL twin (`CREATE EXTENSION eventstore`, or the script
sql/postgres/eventstore.sql run with psql).

    store = PostgreSQLEventStore("postgresql://app@db/orders")
    store = PostgreSQLEventStore("host=127.0.0.1 dbname=orders", schema="es")
    store = PostgreSQLEventStore(pool)          # an asyncpg pool of one's own

`schema` names the schema the twin was installed in when it is not on the
connection's search_path.
"""

from __future__ import annotations

from typing import Any

from . import query
from ._postgres import PostgresBackend
from ._store import ExtensionStore
from .errors import EventStoreError
from .events import EventRegistry

__all__ = ["PostgreSQLEventStore"]


class PostgreSQLEventStore(ExtensionStore):
    def __init__(self, connection: Any, schema: str | None = None,
                 event_registry: EventRegistry | None = None,
                 min_size: int = 1, max_size: int = 10) -> None:
        if not connection:
            raise ValueError("PostgreSQLEventStore: give a connection string "
                             "(postgresql://... or key=value pairs) or an asyncpg pool")
        super().__init__(PostgresBackend(connection, min_size, max_size),
                         query.Dialect(numbered=True, schema=schema), event_registry)

    @property
    def pool(self) -> Any:
        """The asyncpg pool (None until the first call or connect())."""
        return self._backend.pool

    async def connect(self) -> None:
        await self._backend.open()

    async def initialize(self) -> int:
        """Check that the twin is installed (es_init() there creates
        nothing: the extension or script does); returns its schema version."""
        try:
            return int(await self._backend.one(query.function(self._dialect, "es_init")))
        except EventStoreError as e:
            if e.code == "42883":      # undefined_function
                raise EventStoreError(
                    "PostgreSQLEventStore: eventstore is not installed in this database "
                    "(or not in the schema given): CREATE EXTENSION eventstore, or run "
                    "sql/postgres/eventstore.sql with psql (docs/postgres.md)", e.code) from None
            raise

    async def close(self) -> None:
        await self._backend.close()

    async def __aenter__(self) -> PostgreSQLEventStore:
        await self.connect()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()
