"""A SQLite file locked by another connection: the store waits up to its
busy_timeout, on another thread, and the event loop keeps running."""

import asyncio
import threading
import time
import unittest
from uuid import uuid4

import support
import eventstore
from eventstore import EventStoreError, SQLiteEventStore
from test_store import added


def hold_lock(path, seconds, started):
    conn = eventstore.connect(path)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


class LockTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.path = support.sqlite_path()
        self.store = SQLiteEventStore(self.path, busy_timeout=5000)
        await self.store.initialize()

    async def asyncTearDown(self):
        await self.store.close()

    async def locked_for(self, seconds):
        started = threading.Event()
        t = threading.Thread(target=hold_lock, args=(self.path, seconds, started))
        t.start()
        await asyncio.to_thread(started.wait)
        return t

    async def test_waits_without_blocking_the_loop(self):
        cart = uuid4()
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1
        holder = await self.locked_for(0.5)
        tick = asyncio.create_task(ticker())
        t0 = time.monotonic()
        # These queue behind the first one's wait, and all succeed.
        results = await asyncio.gather(
            self.store.append_events(cart, "Cart", [added(cart)], 0),
            self.store.get_stream_version(cart, "Cart"),
            self.store.append_events(cart, "Cart", [added(cart)], 1))
        waited = time.monotonic() - t0
        tick.cancel()
        await asyncio.to_thread(holder.join)
        self.assertEqual((results[0].new_version, results[1], results[2].new_version), (1, 1, 2))
        self.assertGreater(waited, 0.3)
        self.assertGreater(ticks, 10)          # the loop ran while the append waited
        # Back to the fast path afterwards.
        r = await self.store.append_events(cart, "Cart", [added(cart)], 2)
        self.assertEqual(r.new_version, 3)
        self.assertEqual(self.store.connection.execute("PRAGMA busy_timeout").fetchone()[0], 0)

    async def test_gives_up_after_busy_timeout(self):
        store = SQLiteEventStore(self.path, busy_timeout=100)
        holder = await self.locked_for(1.0)
        cart = uuid4()
        try:
            with self.assertRaisesRegex(EventStoreError,
                                        "es_append: cannot take the write lock") as cm:
                await store.append_events(cart, "Cart", [added(cart)], 0)
            self.assertEqual(cm.exception.code & 0xFF, 5)
        finally:
            await asyncio.to_thread(holder.join)
            await store.close()
        self.assertEqual(await self.store.get_stream_version(cart, "Cart"), 0)

    async def test_no_wait(self):
        store = SQLiteEventStore(self.path, busy_timeout=0)
        holder = await self.locked_for(0.3)
        cart = uuid4()
        try:
            with self.assertRaises(EventStoreError):
                await store.append_events(cart, "Cart", [added(cart)], 0)
        finally:
            await asyncio.to_thread(holder.join)
            await store.close()


if __name__ == "__main__":
    unittest.main()
