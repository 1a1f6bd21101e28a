"""PostgreSQLEventStore's ways in: a URI, key=value pairs, a pool of
one's own, and a database without the twin."""

import unittest
from uuid import uuid4

import support
from eventstore import EventStoreError, PostgreSQLEventStore
from eventstore._postgres import conninfo_kwargs

import asyncpg


def kwargs():
    return conninfo_kwargs(support.need_pg())


class ConninfoTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(conninfo_kwargs("host=h port=5 dbname=d user=u password='a b\\'c'"),
                         {"host": "h", "port": 5, "database": "d", "user": "u",
                          "password": "a b'c"})
        self.assertEqual(conninfo_kwargs("application_name=x"),
                         {"server_settings": {"application_name": "x"}})
        with self.assertRaisesRegex(ValueError, "cannot read the connection string"):
            conninfo_kwargs("host")


class ConnectTest(unittest.IsolatedAsyncioTestCase):
    async def test_uri(self):
        k = kwargs()
        uri = f"postgresql://{k['user']}@{k['host']}:{k['port']}/{k['database']}"
        async with PostgreSQLEventStore(uri, schema=support.PG_SCHEMA) as store:
            self.assertGreaterEqual(await store.initialize(), 1)
            self.assertIsNotNone(store.pool)
        self.assertIsNone(store.pool)

    async def test_own_pool(self):
        pool = await asyncpg.create_pool(min_size=1, max_size=2, **kwargs())
        try:
            store = PostgreSQLEventStore(pool, schema=support.PG_SCHEMA)
            a = uuid4()
            await store.get_stream_version(a, "T")
            await store.close()                 # not its pool: left open
            self.assertEqual(await pool.fetchval("SELECT 1"), 1)
        finally:
            await pool.close()

    async def test_not_installed(self):
        k = kwargs()
        admin = await asyncpg.connect(**{**k, "database": "postgres"})
        name = "py_empty"
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.execute(f"CREATE DATABASE {name}")
            store = PostgreSQLEventStore(f"host={k['host']} port={k['port']} "
                                         f"user={k['user']} dbname={name}")
            with self.assertRaisesRegex(EventStoreError, "eventstore is not installed"):
                await store.initialize()
            await store.close()
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name}")
            await admin.close()

    async def test_bad_target(self):
        with self.assertRaises(ValueError):
            PostgreSQLEventStore("")


if __name__ == "__main__":
    unittest.main()
