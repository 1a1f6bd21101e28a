"""The SQLite backend: the extension in Python's sqlite3 module.

One connection per store, in autocommit mode, so that each es_append is
its own transaction (which takes the write lock before it reads the
version).

Where statements run: on the event loop's thread, with the connection's
busy timeout at 0, because a statement of this store takes tens of
microseconds and a hop to another thread and back costs more than that
(some 80 us here, bindings/python/bench.py).  Only a statement that finds
the database locked by another connection waits, and it waits on a thread
of its own, with the store's busy_timeout, so that the event loop never
blocks on a lock: while it waits, the store's other calls queue behind it
(asyncio.Lock), and the connection is never used by two threads at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from . import loader
from .errors import EventStoreError

# Rows fetched per step while iterating.
CHUNK = 256
# SQLITE_BUSY and SQLITE_LOCKED, with any extended code.
_LOCK_ERRORS = (5, 6)


def _error(e: sqlite3.Error) -> EventStoreError:
    return EventStoreError(str(e), getattr(e, "sqlite_errorcode", None))


def _is_lock_wait(e: sqlite3.Error) -> bool:
    code = getattr(e, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in _LOCK_ERRORS


class SQLiteBackend:
    def __init__(self, database: str, wal_mode: bool, busy_timeout: int) -> None:
        self.database = database
        self.wal_mode = wal_mode
        self.busy_timeout = busy_timeout
        self._pool: ThreadPoolExecutor | None = None
        self._waiting: asyncio.Lock | None = None
        self.conn: sqlite3.Connection | None = None

    # ---------------------------------------------------- where work runs

    async def _run(self, fn: Callable[[], Any]) -> Any:
        """fn() on the connection: here, or on the waiting thread when the
        database is locked."""
        if self._waiting is not None and self._waiting.locked():
            async with self._waiting:       # a wait in progress: queue behind it
                pass
        try:
            return fn()
        except sqlite3.Error as e:
            if not _is_lock_wait(e) or self.busy_timeout == 0:
                raise _error(e) from None
        if self._waiting is None:
            self._waiting = asyncio.Lock()
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="eventstore-sqlite")
        async with self._waiting:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self._wait_and_run, fn)

    def _wait_and_run(self, fn: Callable[[], Any]) -> Any:
        self.conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout)}")
        try:
            return fn()
        except sqlite3.Error as e:
            raise _error(e) from None
        finally:
            self.conn.execute("PRAGMA busy_timeout = 0")

    # ------------------------------------------------------- the connection

    def _open(self) -> None:
        if self.conn is not None:
            return
        conn = loader.connect(self.database, busy_timeout=0, check_same_thread=False)
        self.conn = conn
        if self.wal_mode and self.database != ":memory:" and \
                not self.database.startswith("file::memory:"):
            try:
                self._wal(conn)
            except BaseException:
                self.conn = None
                conn.close()
                raise

    def _wal(self, conn: sqlite3.Connection) -> None:
        # Switching to WAL needs the lock for a moment: wait for it here,
        # once, when the store opens.
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout)}")
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as e:
            raise _error(e) from None
        finally:
            conn.execute("PRAGMA busy_timeout = 0")

    async def open(self) -> None:
        self._open()

    async def close(self) -> None:
        if self._waiting is not None:
            async with self._waiting:
                pass
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
            self._waiting = None

    # ------------------------------------------------------------- queries

    def _execute(self, st) -> sqlite3.Cursor:
        self._open()
        return self.conn.execute(st.sql, st.params)

    async def one(self, st) -> Any:
        def work():
            row = self._execute(st).fetchone()
            return None if row is None else row[0]
        return await self._run(work)

    async def rows(self, st) -> list:
        return await self._run(lambda: self._execute(st).fetchall())

    async def iterate(self, st):
        cursor = await self._run(lambda: self._execute(st))
        try:
            while True:
                chunk = await self._run(lambda: cursor.fetchmany(CHUNK))
                for row in chunk:
                    yield row
                if len(chunk) < CHUNK:
                    break
        finally:
            cursor.close()
