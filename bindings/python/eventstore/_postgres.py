"""The PostgreSQL backend: the twin (sql/postgres/eventstore.sql) through
asyncpg (Debian's python3-asyncpg).

A store opens a pool from a connection string (a postgresql:// URI, or
libpq's key=value pairs, which asyncpg does not read itself and this file
translates), or uses a pool the application made.  A read iterates a
server-side cursor inside a transaction of its own.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import EventStoreError

# Rows a cursor fetches per round trip.
CHUNK = 256

try:
    import asyncpg
except ImportError:          # the store then says what to install
    asyncpg = None

_PAIR = re.compile(r"\s*(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")
# libpq's names for what asyncpg.connect takes under other names.
_RENAME = {"dbname": "database", "sslmode": "ssl", "connect_timeout": "timeout"}


def conninfo_kwargs(conninfo: str) -> dict[str, Any]:
    """asyncpg.connect's keyword arguments for a libpq key=value string."""
    kwargs: dict[str, Any] = {}
    pos = 0
    text = conninfo.strip()
    while pos < len(text):
        m = _PAIR.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"PostgreSQLEventStore: cannot read the connection string "
                             f"at {text[pos:pos + 20]!r}")
        key, value = m.group(1), m.group(2)
        if value.startswith("'"):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        key = _RENAME.get(key, key)
        if key == "port":
            value = int(value)
        elif key == "timeout":
            value = float(value)
        elif key == "application_name":
            kwargs.setdefault("server_settings", {})[key] = value
            pos = m.end()
            continue
        kwargs[key] = value
        pos = m.end()
    return kwargs


def _error(e: Exception) -> EventStoreError:
    return EventStoreError(getattr(e, "message", None) or str(e),
                           getattr(e, "sqlstate", None))


class PostgresBackend:
    def __init__(self, target: Any, min_size: int, max_size: int) -> None:
        if asyncpg is None:
            raise EventStoreError("PostgreSQLEventStore needs asyncpg: on Debian, "
                                  "apt-get install python3-asyncpg (and make the virtual "
                                  "environment with --system-site-packages)")
        self._own = isinstance(target, str)
        self._target = target
        self._sizes = (min_size, max_size)
        self.pool = None if self._own else target

    async def open(self) -> None:
        if self.pool is not None:
            return
        dsn = self._target
        if "://" in dsn:
            self.pool = await asyncpg.create_pool(dsn, min_size=self._sizes[0],
                                                  max_size=self._sizes[1])
        else:
            self.pool = await asyncpg.create_pool(min_size=self._sizes[0],
                                                  max_size=self._sizes[1],
                                                  **conninfo_kwargs(dsn))

    async def close(self) -> None:
        if self._own and self.pool is not None:
            pool, self.pool = self.pool, None
            await pool.close()

    async def one(self, st) -> Any:
        await self.open()
        try:
            return await self.pool.fetchval(st.sql, *st.params)
        except asyncpg.PostgresError as e:
            raise _error(e) from None

    async def rows(self, st) -> list:
        await self.open()
        try:
            return await self.pool.fetch(st.sql, *st.params)
        except asyncpg.PostgresError as e:
            raise _error(e) from None

    async def iterate(self, st):
        await self.open()
        async with self.pool.acquire() as conn:
            try:
                async with conn.transaction(readonly=True):
                    async for row in conn.cursor(st.sql, *st.params, prefetch=CHUNK):
                        yield row
            except asyncpg.PostgresError as e:
                raise _error(e) from None
