"""The SQLite backend: the extension in Python's sqlite3 module.

One connection per store, in autocommit mode, so that each es_append is
its own transaction (which takes the write lock before it reads the
version, and waits up to busy_timeout for another process's).  A file's
connection lives on a thread of its own, so that a wait for the lock
never blocks the event loop; the in-memory store's runs on the loop's
thread (nothing else can hold its lock).
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from . import loader
from .errors import EventStoreError

# Rows fetched per trip to the connection's thread while iterating.
CHUNK = 256


def _error(e: sqlite3.Error) -> EventStoreError:
    return EventStoreError(str(e), getattr(e, "sqlite_errorcode", None))


class SQLiteBackend:
    def __init__(self, database: str, wal_mode: bool, busy_timeout: int,
                 threaded: bool) -> None:
        self.database = database
        self.wal_mode = wal_mode
        self.busy_timeout = busy_timeout
        self._threaded = threaded
        self._pool: ThreadPoolExecutor | None = None
        self.conn: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[], Any]) -> Any:
        if not self._threaded:
            return fn()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="eventstore-sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def _open(self) -> None:
        if self.conn is not None:
            return
        conn = loader.connect(self.database, busy_timeout=self.busy_timeout,
                              check_same_thread=not self._threaded)
        if self.wal_mode and self.database != ":memory:" and \
                not self.database.startswith("file::memory:"):
            conn.execute("PRAGMA journal_mode=WAL")
        self.conn = conn

    async def open(self) -> None:
        await self._run(self._open)

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await self._run(conn.close)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _execute(self, st) -> sqlite3.Cursor:
        self._open()
        try:
            return self.conn.execute(st.sql, st.params)
        except sqlite3.Error as e:
            raise _error(e) from None

    async def one(self, st) -> Any:
        def work():
            row = self._fetch(self._execute(st).fetchone)
            return None if row is None else row[0]
        return await self._run(work)

    async def rows(self, st) -> list:
        return await self._run(lambda: self._fetch(self._execute(st).fetchall))

    @staticmethod
    def _fetch(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except sqlite3.Error as e:
            raise _error(e) from None

    async def iterate(self, st):
        cursor = await self._run(lambda: self._execute(st))
        try:
            while True:
                chunk = await self._run(lambda: self._fetch(lambda: cursor.fetchmany(CHUNK)))
                for row in chunk:
                    yield row
                if len(chunk) < CHUNK:
                    break
        finally:
            if self.conn is not None:
                await self._run(cursor.close)
