"""One store test suite, run against InMemoryEventStore, SQLiteEventStore
(a file) and PostgreSQLEventStore (the throwaway cluster's test database):
the classes at the end bind it to each store.
"""

import asyncio
import dataclasses
import enum
import multiprocessing
import unittest
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID, uuid4

import support
from eventstore import (AppendResult, DomainEvent, EventStoreError, EventStream,
                        EventTypeNotFoundError, ExpectedVersion, OptimisticLockError,
                        ReadDirection, ReadOptions, StoredEvent, register_event)
from eventstore.events import EventRegistry

UTC = timezone.utc


@register_event
class ItemAdded(DomainEvent):
    aggregate_type: str = "Cart"
    sku: str
    quantity: int = 1


@register_event
class CartCheckedOut(DomainEvent):
    aggregate_type: str = "Cart"


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Address:
    street: str
    city: str


@register_event
class Rich(DomainEvent):
    event_type: str = "RichEvent"
    aggregate_type: str = "Rich"
    owner: UUID
    due: datetime
    price: Decimal
    colour: Colour
    address: Address
    tags: list[str]
    refs: list[UUID]
    extra: dict[str, int]
    maybe: UUID | None = None
    note: str = "none"


def added(agg, sku="a", **kw):
    return ItemAdded(aggregate_id=agg, sku=sku, **kw)


def at(minutes):
    return datetime(2026, 11, 26, 10, 0, tzinfo=UTC) + timedelta(minutes=minutes)


async def collect(aiter):
    return [x async for x in aiter]


class StoreSuite:
    """The tests; `kind` is set by each binding class below."""
    kind = None

    async def asyncSetUp(self):
        self.store = await support.fresh_store(self.kind)

    async def asyncTearDown(self):
        await support.close_store(self.store)

    # --------------------------------------------------------- appending

    async def test_append_one(self):
        cart = uuid4()
        r = await self.store.append_events(cart, "Cart", [added(cart)], 0)
        self.assertEqual(r, AppendResult(success=True, new_version=1, global_position=1,
                                         conflict=False))

    async def test_append_batch(self):
        cart = uuid4()
        r = await self.store.append_events(cart, "Cart",
                                           [added(cart, "a"), added(cart, "b"),
                                            CartCheckedOut(aggregate_id=cart)], 0)
        self.assertEqual((r.new_version, r.global_position), (3, 3))
        r = await self.store.append_events(cart, "Cart", [added(cart, "c")], 3)
        self.assertEqual((r.new_version, r.global_position), (4, 4))

    async def test_conflict_attributes(self):
        cart = uuid4()
        await self.store.append_events(cart, "Cart", [added(cart), added(cart)], 0)
        with self.assertRaises(OptimisticLockError) as cm:
            await self.store.append_events(cart, "Cart", [added(cart)], 1)
        e = cm.exception
        self.assertIs(e.aggregate_id, cart)
        self.assertEqual((e.expected_version, e.actual_version), (1, 2))
        self.assertIn(f"'{cart}:Cart'", str(e))
        self.assertEqual(await self.store.get_stream_version(cart, "Cart"), 2)
        self.assertEqual(await self.store.get_global_position(), 2)

    async def test_expected_versions(self):
        s = self.store
        cart = uuid4()
        with self.assertRaises(OptimisticLockError) as cm:
            await s.append_events(cart, "Cart", [added(cart)], ExpectedVersion.STREAM_EXISTS)
        self.assertEqual((cm.exception.expected_version, cm.exception.actual_version), (-2, 0))
        with self.assertRaises(OptimisticLockError):
            await s.append_events(cart, "Cart", [added(cart)], 1)
        r = await s.append_events(cart, "Cart", [added(cart)], ExpectedVersion.NO_STREAM)
        self.assertEqual(r.new_version, 1)
        with self.assertRaises(OptimisticLockError) as cm:
            await s.append_events(cart, "Cart", [added(cart)], ExpectedVersion.NO_STREAM)
        self.assertEqual((cm.exception.expected_version, cm.exception.actual_version), (0, 1))
        r = await s.append_events(cart, "Cart", [added(cart)], ExpectedVersion.STREAM_EXISTS)
        self.assertEqual(r.new_version, 2)
        r = await s.append_events(cart, "Cart", [added(cart)], ExpectedVersion.ANY)
        self.assertEqual(r.new_version, 3)
        other = uuid4()
        r = await s.append_events(other, "Cart", [added(other)], ExpectedVersion.ANY)
        self.assertEqual(r.new_version, 1)
        r = await s.append_events(cart, "Cart", [added(cart)], 3)
        self.assertEqual(r.new_version, 4)

    async def test_bad_arguments(self):
        s = self.store
        cart = uuid4()
        for bad in (-3, "any", True, 1.5, None):
            with self.assertRaises(ValueError, msg=repr(bad)):
                await s.append_events(cart, "Cart", [added(cart)], bad)
        with self.assertRaisesRegex(ValueError, "must not be empty"):
            await s.append_events(cart, "Cart", [], 0)
        with self.assertRaisesRegex(TypeError, "event 2 is a dict"):
            await s.append_events(cart, "Cart", [added(cart), {"event_type": "X"}], 0)
        with self.assertRaisesRegex(TypeError, "list of DomainEvent"):
            await s.append_events(cart, "Cart", added(cart), 0)
        with self.assertRaisesRegex(ValueError, "belongs to aggregate"):
            await s.append_events(cart, "Cart", [added(cart), added(uuid4())], 0)
        with self.assertRaisesRegex(ValueError, "aggregate type 'Cart', not 'Order'"):
            await s.append_events(cart, "Order", [added(cart)], 0)
        with self.assertRaisesRegex(EventStoreError, "^es_append: aggregate_type"):
            await s.append_events(cart, "Ca:rt",
                                  [ItemAdded(aggregate_id=cart, aggregate_type="Ca:rt",
                                             sku="x")], 0)
        self.assertEqual(await s.get_global_position(), 0)
        with self.assertRaises(ValueError):
            await s.get_events(cart, "Cart", from_version=-1)

    async def test_duplicates_skipped(self):
        s = self.store
        cart = uuid4()
        e1, e2 = added(cart, "a"), added(cart, "b")
        await s.append_events(cart, "Cart", [e1], 0)
        r = await s.append_events(cart, "Cart", [e1, e2], ExpectedVersion.ANY)
        self.assertEqual(r.new_version, 2)
        self.assertEqual([e.sku for e in (await s.get_events(cart, "Cart")).events], ["a", "b"])
        # The same batch sent again after its commit: the original result.
        e3, e4 = added(cart, "c"), added(cart, "d")
        first = await s.append_events(cart, "Cart", [e3, e4], 2)
        again = await s.append_events(cart, "Cart", [e3, e4], 2)
        self.assertEqual(first, again)
        self.assertEqual(await s.get_stream_version(cart, "Cart"), 4)
        # A batch that repeats one of its own events stores it once.
        e5 = added(cart, "e")
        r = await s.append_events(cart, "Cart", [e5, e5], 4)
        self.assertEqual(r.new_version, 5)

    async def test_same_id_other_content(self):
        s = self.store
        cart = uuid4()
        e1 = added(cart, "a")
        await s.append_events(cart, "Cart", [e1], 0)
        changed = dataclasses.replace(e1, sku="other")
        with self.assertRaisesRegex(EventStoreError, "already stored with different content"):
            await s.append_events(cart, "Cart", [added(cart, "b"), changed], 1)
        self.assertEqual(await s.get_stream_version(cart, "Cart"), 1)

    # ----------------------------------------------------------- reading

    async def test_round_trip(self):
        s = self.store
        agg, owner, ref, tenant, cause = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
        ev = Rich(aggregate_id=agg, owner=owner, due=datetime(2027, 1, 2, 3, 4, 5, 6, UTC),
                  price=Decimal("12.50"), colour=Colour.BLUE,
                  address=Address("Main St 1", "Oslo"), tags=["x", "y"], refs=[ref],
                  extra={"n": 3}, tenant_id=tenant, actor_id="user-7", causation_id=cause,
                  metadata={"trace": "t1"}, event_version=3,
                  occurred_at=datetime(2026, 11, 26, 12, 0, tzinfo=timezone(timedelta(hours=2))))
        await s.append_events(agg, "Rich", [ev], 0)
        stream = await s.get_events(agg, "Rich")
        self.assertIsInstance(stream, EventStream)
        (back,) = stream.events
        self.assertIs(type(back), Rich)
        for f in dataclasses.fields(Rich):
            self.assertEqual(getattr(back, f.name), getattr(ev, f.name), f.name)
        self.assertEqual(back.occurred_at.utcoffset(), timedelta(0))
        self.assertIsInstance(back.aggregate_id, UUID)
        self.assertEqual((back.maybe, back.note), (None, "none"))

    async def test_get_events(self):
        s = self.store
        cart = uuid4()
        evs = [added(cart, str(i), occurred_at=at(i)) for i in range(5)]
        await s.append_events(cart, "Cart", evs, 0)
        full = await s.get_events(cart, "Cart")
        self.assertEqual((full.aggregate_id, full.aggregate_type, full.version), (cart, "Cart", 5))
        self.assertEqual([e.aggregate_version for e in full.events], [1, 2, 3, 4, 5])
        self.assertEqual(full.latest_event.sku, "4")
        part = await s.get_events(cart, "Cart", from_version=3)
        self.assertEqual(([e.sku for e in part.events], part.version), (["3", "4"], 5))
        none = await s.get_events(cart, "Cart", from_version=5)
        self.assertEqual((none.events, none.version), ([], 5))
        # Time bounds are inclusive, and compare instants, not text.
        plus2 = timezone(timedelta(hours=2))
        win = await s.get_events(cart, "Cart", from_timestamp=at(1).astimezone(plus2),
                                 to_timestamp=at(3))
        self.assertEqual([e.sku for e in win.events], ["1", "2", "3"])
        naive = await s.get_events(cart, "Cart", from_timestamp=at(4).replace(tzinfo=None))
        self.assertEqual([e.sku for e in naive.events], ["4"])
        # Another type's stream of the same id is another stream.
        wrong = await s.get_events(cart, "Order")
        self.assertTrue(wrong.is_empty)
        self.assertEqual(wrong.version, 0)
        self.assertEqual(await s.get_stream_version(cart, "Order"), 0)
        missing = await s.get_events(uuid4(), "Cart")
        self.assertEqual((missing.version, missing.is_empty, missing.latest_event), (0, True, None))
        anytype = await s.get_events(cart)
        self.assertEqual((len(anytype.events), anytype.aggregate_type, anytype.version),
                         (5, "Cart", 5))

    async def _three_streams(self):
        """a:Cart 1..3, b:Cart 1..2 interleaved; tenants t1/t2; minutes 0..4."""
        s = self.store
        a, b = uuid4(), uuid4()
        t1, t2 = uuid4(), uuid4()
        await s.append_events(a, "Cart", [added(a, "a1", occurred_at=at(0), tenant_id=t1)], 0)
        await s.append_events(b, "Cart", [added(b, "b1", occurred_at=at(1), tenant_id=t2)], 0)
        await s.append_events(a, "Cart", [added(a, "a2", occurred_at=at(2), tenant_id=t1)], 1)
        await s.append_events(b, "Cart", [added(b, "b2", occurred_at=at(3), tenant_id=t1)], 1)
        await s.append_events(a, "Cart", [added(a, "a3", occurred_at=at(4))], 2)
        return a, b, t1, t2

    async def test_read_stream(self):
        s = self.store
        a, b, t1, t2 = await self._three_streams()
        sid = f"{a}:Cart"

        async def read(**kw):
            return [(x.stream_position, x.event.sku)
                    for x in await collect(s.read_stream(sid, ReadOptions(**kw)))]
        fwd = await collect(s.read_stream(sid))
        self.assertTrue(all(isinstance(x, StoredEvent) for x in fwd))
        self.assertEqual([(x.stream_position, x.global_position) for x in fwd],
                         [(1, 1), (2, 3), (3, 5)])
        self.assertEqual({x.stream_id for x in fwd}, {sid})
        self.assertEqual({x.aggregate_id for x in fwd}, {a})
        self.assertEqual(fwd[0].event_type, "ItemAdded")
        self.assertEqual(fwd[0].event_id, fwd[0].event.event_id)
        self.assertIsNotNone(fwd[0].stored_at.tzinfo)
        bwd = ReadDirection.BACKWARD
        self.assertEqual(await read(direction=bwd), [(3, "a3"), (2, "a2"), (1, "a1")])
        self.assertEqual(await read(direction=bwd, limit=2), [(3, "a3"), (2, "a2")])
        self.assertEqual(await read(limit=2), [(1, "a1"), (2, "a2")])
        self.assertEqual(await read(from_position=1), [(2, "a2"), (3, "a3")])
        self.assertEqual(await read(from_position=1, direction=bwd), [(3, "a3"), (2, "a2")])
        self.assertEqual(await read(from_timestamp=at(2)), [(2, "a2"), (3, "a3")])
        self.assertEqual(await read(to_timestamp=at(2)), [(1, "a1"), (2, "a2")])
        self.assertEqual(await read(tenant_id=t1), [(1, "a1"), (2, "a2")])
        self.assertEqual(await read(limit=0), [])
        self.assertEqual(await read(from_position=-1), [])
        self.assertEqual(len(await read(from_position=-1, direction=bwd)), 3)
        self.assertEqual(await collect(s.read_stream(f"{uuid4()}:Cart")), [])
        with self.assertRaisesRegex(EventStoreError, "stream"):
            await collect(s.read_stream("no-colon"))

    async def test_read_all(self):
        s = self.store
        a, b, t1, t2 = await self._three_streams()

        async def read(**kw):
            return [(x.global_position, x.event.sku)
                    for x in await collect(s.read_all(ReadOptions(**kw)))]
        everything = await collect(s.read_all())
        self.assertEqual([x.global_position for x in everything], [1, 2, 3, 4, 5])
        self.assertEqual([x.stream_position for x in everything], [1, 1, 2, 2, 3])
        self.assertEqual([x.stream_id for x in everything][:2], [f"{a}:Cart", f"{b}:Cart"])
        bwd = ReadDirection.BACKWARD
        self.assertEqual(await read(direction=bwd, limit=2), [(5, "a3"), (4, "b2")])
        self.assertEqual(await read(from_position=3), [(4, "b2"), (5, "a3")])
        self.assertEqual(await read(from_position=3, limit=1), [(4, "b2")])
        self.assertEqual(await read(from_position=2, direction=bwd), [(5, "a3"), (4, "b2"),
                                                                     (3, "a2")])
        self.assertEqual(await read(tenant_id=t1), [(1, "a1"), (3, "a2"), (4, "b2")])
        self.assertEqual(await read(tenant_id=t2, direction=bwd), [(2, "b1")])
        self.assertEqual(await read(tenant_id=uuid4()), [])
        self.assertEqual(await read(from_timestamp=at(1), to_timestamp=at(3)),
                         [(2, "b1"), (3, "a2"), (4, "b2")])
        self.assertEqual(await read(from_position=-1), [])
        self.assertEqual(len(await read(from_position=-1, direction=bwd)), 5)

    async def test_read_options_checked(self):
        for kw in ({"from_position": -2}, {"limit": -1}, {"direction": "backward"},
                   {"from_timestamp": "2026-01-01"}, {"limit": True}):
            with self.assertRaises(ValueError, msg=repr(kw)):
                ReadOptions(**kw)

    async def test_events_by_type(self):
        s = self.store
        a, b, t1, t2 = await self._three_streams()
        other = uuid4()
        await s.append_events(other, "Rich2", [ItemAdded(aggregate_id=other,
                                                          aggregate_type="Rich2", sku="o")], 0)
        carts = await s.get_events_by_type("Cart")
        self.assertEqual([e.sku for e in carts], ["a1", "b1", "a2", "b2", "a3"])
        self.assertEqual([e.sku for e in await s.get_events_by_type("Cart", tenant_id=t1)],
                         ["a1", "a2", "b2"])
        # from_timestamp is exclusive here, as in the library.
        self.assertEqual([e.sku for e in await s.get_events_by_type("Cart",
                                                                    from_timestamp=at(2))],
                         ["b2", "a3"])
        self.assertEqual([e.sku for e in await s.get_events_by_type(
            "Cart", tenant_id=t1, from_timestamp=at(0))], ["a2", "b2"])
        self.assertEqual(await s.get_events_by_type("Nothing"), [])

    async def test_exists_versions_positions(self):
        s = self.store
        self.assertEqual(await s.get_global_position(), 0)
        cart = uuid4()
        ev = added(cart)
        self.assertFalse(await s.event_exists(ev.event_id))
        await s.append_events(cart, "Cart", [ev, added(cart)], 0)
        self.assertTrue(await s.event_exists(ev.event_id))
        self.assertTrue(await s.event_exists(str(ev.event_id).upper()))
        self.assertFalse(await s.event_exists(uuid4()))
        self.assertEqual(await s.get_stream_version(cart, "Cart"), 2)
        self.assertEqual(await s.get_stream_version(str(cart), "Cart"), 2)
        self.assertEqual(await s.get_stream_version(uuid4(), "Cart"), 0)
        self.assertEqual(await s.get_global_position(), 2)

    async def test_text_ids(self):
        s = self.store
        await s.append_events("order-123", "Order",
                              [ItemAdded(aggregate_id="order-123", aggregate_type="Order",
                                         sku="x", tenant_id="acme")], 0)
        (x,) = await collect(s.read_stream("order-123:Order"))
        self.assertEqual((x.aggregate_id, x.event.tenant_id), ("order-123", "acme"))
        self.assertEqual(await s.get_aggregate_ids(), ["order-123"])
        self.assertEqual(len(await collect(s.read_all(ReadOptions(tenant_id="acme")))), 1)

    async def test_unknown_type(self):
        s = self.store
        cart = uuid4()
        registry = EventRegistry()
        registry.register(CartCheckedOut)
        narrow = type(s).__new__(type(s))
        narrow.__dict__.update(s.__dict__)
        narrow._registry = registry
        await s.append_events(cart, "Cart", [added(cart)], 0)
        with self.assertRaisesRegex(EventTypeNotFoundError, "'ItemAdded' is not registered"):
            await narrow.get_events(cart, "Cart")

    async def test_helpers(self):
        s = self.store
        a, b = uuid4(), uuid4()
        await s.append_events(b, "Cart", [added(b, "b1")], 0)
        await s.append_events(a, "Cart", [added(a, "a1"), added(a, "a2")], 0)
        self.assertEqual([e.sku for e in await s.get_all_events()], ["b1", "a1", "a2"])
        self.assertEqual(await s.get_event_count(), 3)
        self.assertEqual(await s.get_aggregate_ids(), [b, a])
        self.assertTrue((await s.verify())["ok"])
        if self.kind == "sqlite":
            with self.assertRaisesRegex(EventStoreError, "^es_clear: "):
                await s.clear()
            self.assertEqual(await s.get_event_count(), 3)
        else:
            await s.clear()
            self.assertEqual((await s.get_event_count(), await s.get_global_position()), (0, 0))
            r = await s.append_events(a, "Cart", [added(a)], 0)
            self.assertEqual(r.global_position, 1)

    async def test_big_batch(self):
        s = self.store
        cart = uuid4()
        evs = [added(cart, str(i), quantity=i) for i in range(1000)]
        r = await s.append_events(cart, "Cart", evs, 0)
        self.assertEqual((r.new_version, r.global_position), (1000, 1000))
        back = await collect(s.read_stream(f"{cart}:Cart"))
        self.assertEqual([x.event.quantity for x in back], list(range(1000)))
        self.assertEqual([x.stream_position for x in back], list(range(1, 1001)))
        self.assertEqual([x.event.event_id for x in back], [e.event_id for e in evs])
        r = await s.append_events(cart, "Cart", evs, 0)        # the retry
        self.assertEqual(r.new_version, 1000)

    async def test_break_out_of_read(self):
        s = self.store
        cart = uuid4()
        await s.append_events(cart, "Cart", [added(cart, str(i)) for i in range(600)], 0)
        seen = 0
        async for x in s.read_all():
            seen += 1
            if seen == 10:
                break
        r = await s.append_events(cart, "Cart", [added(cart)], 600)
        self.assertEqual(r.new_version, 601)

    async def test_concurrent_tasks(self):
        s = self.store

        async def own_stream(i):
            agg = f"task-{i}"
            for n in range(10):
                await s.append_events(agg, "Cart", [ItemAdded(aggregate_id=agg,
                                                              aggregate_type="Cart",
                                                              sku=str(n))], n)
        await asyncio.gather(*(own_stream(i) for i in range(20)))
        shared = uuid4()

        async def racer(i):
            wins = 0
            while True:
                v = await s.get_stream_version(shared, "Cart")
                if v >= 30:
                    return wins
                try:
                    await s.append_events(shared, "Cart", [added(shared, f"{i}")], v)
                    wins += 1
                except OptimisticLockError as e:
                    self.assertGreater(e.actual_version, v - 1)
        wins = await asyncio.gather(*(racer(i) for i in range(5)))
        self.assertEqual(sum(wins), 30)
        self.assertEqual(await s.get_stream_version(shared, "Cart"), 30)
        positions = [x.global_position async for x in s.read_all()]
        self.assertEqual(positions, list(range(1, 231)))
        self.assertTrue((await s.verify())["ok"])


def _process_appender(kind, target, schema, shared, n, ready):
    """A process appending n events to `shared` with retries; returns how
    many it stored (put on `ready`)."""
    import eventstore

    async def run():
        if kind == "sqlite":
            store = eventstore.SQLiteEventStore(target)
        else:
            store = eventstore.PostgreSQLEventStore(target, schema=schema, max_size=2)
        stored = 0
        async with store:
            while stored < n:
                v = await store.get_stream_version(shared, "Cart")
                try:
                    await store.append_events(shared, "Cart",
                                              [ItemAdded(aggregate_id=shared, sku="p")], v)
                    stored += 1
                except eventstore.OptimisticLockError:
                    pass
        return stored
    ready.put(asyncio.run(run()))


class ProcessSuite:
    """Several processes appending to one stream (not for the in-memory
    store, which one process alone can see)."""

    async def test_concurrent_processes(self):
        kind, target = support.open_store_args(self.kind, self.store)
        shared = str(uuid4())
        ctx = multiprocessing.get_context("spawn")
        q = ctx.Queue()
        procs = [ctx.Process(target=_process_appender,
                             args=(kind, target, support.PG_SCHEMA, shared, 25, q))
                 for _ in range(4)]

        def run_all():
            for p in procs:
                p.start()
            counts = [q.get(timeout=120) for _ in procs]
            for p in procs:
                p.join(60)
            return counts
        counts = await asyncio.to_thread(run_all)
        self.assertEqual([p.exitcode for p in procs], [0] * 4)
        self.assertEqual(counts, [25] * 4)
        stream = await self.store.get_events(shared, "Cart")
        self.assertEqual(stream.version, 100)
        self.assertEqual([e.aggregate_version for e in stream.events], list(range(1, 101)))
        self.assertEqual(await self.store.get_global_position(), 100)
        self.assertTrue((await self.store.verify())["ok"])


class InMemoryStoreTest(StoreSuite, unittest.IsolatedAsyncioTestCase):
    kind = "memory"


class SQLiteStoreTest(StoreSuite, ProcessSuite, unittest.IsolatedAsyncioTestCase):
    kind = "sqlite"


class PostgreSQLStoreTest(StoreSuite, ProcessSuite, unittest.IsolatedAsyncioTestCase):
    kind = "postgres"


if __name__ == "__main__":
    unittest.main()
