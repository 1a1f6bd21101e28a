"""DomainEvent, register_event and the JSON codec, without a store."""

import dataclasses
import unittest
from datetime import datetime, timedelta, timezone
from typing import Optional
from uuid import UUID, uuid4

import support  # noqa: F401  (puts the package on sys.path)
from eventstore import DomainEvent, EventTypeNotFoundError, register_event
from eventstore.codec import event_object, from_json_value
from eventstore.events import EventRegistry


class Named(DomainEvent):
    aggregate_type: str = "Thing"
    title: str


class Renamed(DomainEvent):
    event_type = "thing.renamed"     # no annotation: still the type
    aggregate_type: str = "Thing"


class EventTest(unittest.TestCase):
    def test_event_type_from_class_name(self):
        self.assertEqual(Named(aggregate_id=uuid4(), title="t").event_type, "Named")
        self.assertEqual(Renamed(aggregate_id=uuid4()).event_type, "thing.renamed")

    def test_defaults_and_required(self):
        a = uuid4()
        e = Named(aggregate_id=a, title="t")
        self.assertIsInstance(e.event_id, UUID)
        self.assertIsInstance(e.correlation_id, UUID)
        self.assertEqual((e.event_version, e.aggregate_version, e.tenant_id, e.causation_id,
                          e.metadata), (1, 1, None, None, {}))
        self.assertIsNotNone(e.occurred_at.tzinfo)
        with self.assertRaisesRegex(TypeError, "title"):
            Named(aggregate_id=a)
        with self.assertRaisesRegex(TypeError, "aggregate_id"):
            Named(title="t")
        with self.assertRaisesRegex(TypeError, "positional"):
            Named(a, "Thing")

    def test_checked(self):
        for kw in ({"event_version": 0}, {"aggregate_version": 0}, {"event_version": "2"}):
            with self.assertRaises(ValueError, msg=repr(kw)):
                Named(aggregate_id=uuid4(), title="t", **kw)

    def test_frozen(self):
        e = Named(aggregate_id=uuid4(), title="t")
        with self.assertRaises(dataclasses.FrozenInstanceError):
            e.title = "u"

    def test_text_ids(self):
        a = uuid4()
        self.assertEqual(Named(aggregate_id=str(a), title="t").aggregate_id, a)
        self.assertEqual(Named(aggregate_id="order-1", title="t").aggregate_id, "order-1")
        e = Named(aggregate_id="x", title="t", event_id=str(a), tenant_id="acme")
        self.assertEqual((e.event_id, e.tenant_id), (a, "acme"))

    def test_naive_time_is_utc(self):
        e = Named(aggregate_id="x", title="t", occurred_at=datetime(2026, 1, 1, 12))
        self.assertEqual(e.occurred_at, datetime(2026, 1, 1, 12, tzinfo=timezone.utc))

    def test_helpers(self):
        a = Named(aggregate_id="x", title="t")
        b = Named(aggregate_id="x", title="u").with_causation(a)
        self.assertTrue(b.is_caused_by(a) and b.is_correlated_with(a))
        self.assertEqual(b.with_metadata(k=1).metadata, {"k": 1})
        self.assertEqual(b.with_aggregate_version(4).aggregate_version, 4)
        self.assertEqual(Named.from_dict(a.to_dict()), a)
        self.assertIn("Named(event_id=", str(a))

    def test_event_object(self):
        t = uuid4()
        e = Named(aggregate_id="x", title="t", tenant_id=t, actor_id="me",
                  occurred_at=datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=1))))
        obj = event_object(e)
        self.assertEqual(obj["data"], {"title": "t"})
        self.assertEqual(obj["tenant_id"], str(t))
        self.assertEqual(obj["occurred_at"], "2026-01-01T12:00:00+01:00")
        self.assertNotIn("causation_id", obj)
        self.assertNotIn("aggregate_version", obj)

    def test_registry(self):
        r = EventRegistry()
        r.register(Named)
        self.assertIs(r.get("Named"), Named)
        r.register(Named)                       # again: the same class
        with self.assertRaises(EventTypeNotFoundError):
            r.get("Nope")
        other = type("Named", (DomainEvent,), {"__annotations__": {}, "__module__": "elsewhere"})
        with self.assertRaisesRegex(ValueError, "already registered"):
            r.register(other)
        with self.assertRaisesRegex(TypeError, "not a DomainEvent subclass"):
            r.register(dict)

    def test_register_forms(self):
        @register_event
        class FormOne(DomainEvent):
            aggregate_type: str = "F"

        @register_event(event_type="form.two")
        class FormTwo(DomainEvent):
            aggregate_type: str = "F"
        from eventstore import get_event_class
        self.assertIs(get_event_class("FormOne"), FormOne)
        self.assertIs(get_event_class("form.two"), FormTwo)
        # Its events carry the name it is registered under.
        self.assertEqual(FormTwo(aggregate_id="f").event_type, "form.two")
        with self.assertRaisesRegex(ValueError, "sets event_type 'thing.renamed', not 'x'"):
            register_event(Renamed, event_type="x")

    def test_subclass_gets_its_own_type(self):
        class Child(Renamed):
            pass

        class Grandchild(Named):
            pass
        self.assertEqual(Child(aggregate_id="c").event_type, "Child")
        self.assertEqual(Grandchild(aggregate_id="c", title="t").event_type, "Grandchild")

    def test_from_json(self):
        u = uuid4()
        self.assertEqual(from_json_value(str(u), UUID), u)
        self.assertEqual(from_json_value(str(u), Optional[UUID]), u)
        self.assertIsNone(from_json_value(None, Optional[UUID]))
        self.assertEqual(from_json_value([str(u)], list[UUID]), [u])
        self.assertEqual(from_json_value({"a": str(u)}, dict[str, UUID]), {"a": u})
        self.assertEqual(from_json_value([1, "x"], tuple[int, str]), (1, "x"))
        self.assertEqual(from_json_value(3, float), 3.0)
        # What does not fit its annotation is passed through, not lost.
        self.assertEqual(from_json_value("not-a-uuid", UUID), "not-a-uuid")
        self.assertEqual(from_json_value(5, str), 5)
        self.assertEqual(from_json_value("x", int | str), "x")


if __name__ == "__main__":
    unittest.main()
