"""The stores the tutorial's code runs against.  The tutorial makes its
store with `InMemoryEventStore()`; to run the same code on a file and on
PostgreSQL, the test's import line binds that name to one of these, each
a new, empty store, as the tutorial expects of every store it makes.
"""

import support
from eventstore import PostgreSQLEventStore, SQLiteEventStore
from eventstore._postgres import PostgresBackend


# Every store the tutorial made, to close when its code is done (the
# tutorial's code leaves them open; a pool left open in a finished event
# loop makes asyncpg warn).
CREATED = []


async def close_created():
    # A store may be used again by a later snippet, in another event loop:
    # it then opens again (close() leaves it ready to).
    for store in CREATED:
        await store.close()


class SQLiteTutorialStore(SQLiteEventStore):
    """A new file for every store the tutorial makes."""

    def __init__(self):
        super().__init__(support.sqlite_path())
        CREATED.append(self)


class _ClearingBackend(PostgresBackend):
    """Clears the test database when the store first connects."""

    def __init__(self, prefix, *args):
        super().__init__(*args)
        self._prefix = prefix

    async def open(self):
        fresh = self.pool is None
        await super().open()
        if fresh:
            await self.pool.execute(f"SELECT {self._prefix}es_clear()")


class PostgreSQLTutorialStore(PostgreSQLEventStore):
    """The suite's test database, emptied when the store first connects."""

    def __init__(self):
        super().__init__(support.need_pg(), schema=support.PG_SCHEMA, max_size=2)
        self._backend = _ClearingBackend(self._dialect.prefix, support.need_pg(), 1, 2)
        CREATED.append(self)


STORES = {"memory": None, "sqlite": "SQLiteTutorialStore",
          "postgres": "PostgreSQLTutorialStore"}
