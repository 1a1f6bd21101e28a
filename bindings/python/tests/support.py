"""What the tests share: the stores under test, made fresh for each test.

EVENTSTORE_EXTENSION names the extension to load (make test sets it);
EVENTSTORE_TEST_PG is the libpq connection string of a PostgreSQL
database with the twin installed and marked as a test database
(test/python_pkg.test starts a throwaway cluster and sets it).  Without
it the PostgreSQL tests fail: they are never skipped.
"""

import logging
import os
import sys
import tempfile

# unittest's IsolatedAsyncioTestCase runs its loop in debug mode, which
# logs every callback slower than 0.1 s (a 1,000-event batch under
# AddressSanitizer): noise, not a finding.
logging.getLogger("asyncio").setLevel(logging.ERROR)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import eventstore  # noqa: E402

PG = os.environ.get("EVENTSTORE_TEST_PG")
PG_SCHEMA = os.environ.get("EVENTSTORE_TEST_PG_SCHEMA") or None
_tmp = tempfile.mkdtemp(prefix="eventstore-py-")
_count = 0


def sqlite_path() -> str:
    global _count
    _count += 1
    return os.path.join(_tmp, f"store-{os.getpid()}-{_count}.db")


def need_pg() -> str:
    if not PG:
        raise RuntimeError("EVENTSTORE_TEST_PG is not set: the PostgreSQL tests need a "
                           "test database (make test provides one)")
    return PG


async def fresh_store(kind: str):
    """A new, empty, open store of the kind."""
    if kind == "memory":
        return eventstore.InMemoryEventStore()
    if kind == "sqlite":
        store = eventstore.SQLiteEventStore(sqlite_path())
        await store.connect()
        await store.initialize()
        return store
    if kind == "postgres":
        store = eventstore.PostgreSQLEventStore(need_pg(), schema=PG_SCHEMA, max_size=8)
        await store.connect()
        await store.clear()
        return store
    raise ValueError(kind)


async def close_store(store) -> None:
    await store.close()


def open_store_args(kind: str, store):
    """How another process opens the same store: (kind, target)."""
    if kind == "sqlite":
        return ("sqlite", store.database)
    return ("postgres", need_pg())
