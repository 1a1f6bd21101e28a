"""bench.py -- what the Python binding costs per event, against
hand-written Python on the same SQLite file (the stdlib sqlite3 module
and the extension's SQL), measured in the same run (`make bench-python`).

  W1a  STREAMS streams x 10 events, one event per append (each append its
       own transaction, as append_events commits; WAL, synchronous=NORMAL)
  W3   every event in global order, 5 passes: read_all() building
       StoredEvent objects, against rows from event_all with data parsed

Prints events/s for both, their ratio (binding / hand; 1.0 is no cost)
and the binding's cost in microseconds per event.  Usage:
  python3 bench.py [--streams N] [--rounds N]
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eventstore  # noqa: E402
from eventstore import DomainEvent, SQLiteEventStore, register_event  # noqa: E402


@register_event
class Counted(DomainEvent):
    aggregate_type: str = "Bench"
    n: int


def fresh(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def hand_w1a(path, streams):
    conn = eventstore.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    t0 = time.perf_counter()
    for v in range(10):
        for s in range(streams):
            conn.execute("SELECT es_append(?, 'Bench', ?, 'Counted', ?)",
                         (f"s{s}", v, json.dumps({"n": v}))).fetchone()
    dt = time.perf_counter() - t0
    conn.close()
    return streams * 10 / dt


async def binding_w1a(path, streams):
    store = SQLiteEventStore(path)
    async with store:
        store.connection.execute("PRAGMA synchronous=NORMAL")
        t0 = time.perf_counter()
        for v in range(10):
            for s in range(streams):
                agg = f"s{s}"
                await store.append_events(agg, "Bench", [Counted(aggregate_id=agg, n=v)], v)
        dt = time.perf_counter() - t0
    return streams * 10 / dt


def hand_w3(path, passes=5):
    conn = eventstore.connect(path)
    total = 0
    t0 = time.perf_counter()
    for _ in range(passes):
        for row in conn.execute("SELECT global_position, stream_id, stream_position, "
                                "event_id, event_type, occurred_at, data "
                                "FROM event_all ORDER BY global_position"):
            json.loads(row[6])
            total += 1
    dt = time.perf_counter() - t0
    conn.close()
    return total / dt


async def binding_w3(path, passes=5):
    store = SQLiteEventStore(path)
    total = 0
    async with store:
        t0 = time.perf_counter()
        for _ in range(passes):
            async for _stored in store.read_all():
                total += 1
        dt = time.perf_counter() - t0
    return total / dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--streams", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="eventstore-bench-py-")
    hand_db, bind_db = os.path.join(d, "hand.db"), os.path.join(d, "bind.db")
    rows = {"W1a": ([], []), "W3": ([], [])}
    for _ in range(args.rounds):
        fresh(hand_db)
        fresh(bind_db)
        rows["W1a"][0].append(hand_w1a(hand_db, args.streams))
        rows["W1a"][1].append(asyncio.run(binding_w1a(bind_db, args.streams)))
        rows["W3"][0].append(hand_w3(bind_db))
        rows["W3"][1].append(asyncio.run(binding_w3(bind_db)))
    print(f"# {args.streams} streams x 10 events, {args.rounds} rounds, medians; "
          f"Python {sys.version.split()[0]}, SQLite "
          f"{eventstore.connect(':memory:').execute('select sqlite_version()').fetchone()[0]}")
    print(f"{'workload':8} {'hand ev/s':>12} {'binding ev/s':>13} {'ratio':>6} {'cost us/ev':>11}")
    for name, (hand, bind) in rows.items():
        h, b = statistics.median(hand), statistics.median(bind)
        print(f"{name:8} {h:12,.0f} {b:13,.0f} {b / h:6.2f} {1e6 / b - 1e6 / h:11.1f}")


if __name__ == "__main__":
    main()
