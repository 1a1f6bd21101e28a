"""eventstore: the event store API of eventsource-py (classic API) on the
eventstore extension: InMemoryEventStore, SQLiteEventStore and
PostgreSQLEventStore, DomainEvent and register_event, ExpectedVersion,
ReadOptions, ReadDirection, EventStream, StoredEvent, AppendResult and
OptimisticLockError.  docs/python.md in the eventstore checkout tells how
it maps the library's tutorial and where it differs.
"""

from .errors import (EventStoreError, EventTypeNotFoundError, ExtensionNotLoadableError,
                     OptimisticLockError)
from .events import DomainEvent, EventRegistry, default_registry, get_event_class, register_event
from .interface import (AppendResult, EventStore, EventStream, ExpectedVersion, ReadDirection,
                        ReadOptions, StoredEvent)
from .loader import connect, extension_path, load
from .postgres import PostgreSQLEventStore
from .sqlite import InMemoryEventStore, SQLiteEventStore

__version__ = "1.0.0"

__all__ = ["AppendResult", "DomainEvent", "EventRegistry", "EventStore", "EventStoreError",
           "EventStream", "EventTypeNotFoundError", "ExpectedVersion",
           "ExtensionNotLoadableError", "InMemoryEventStore", "OptimisticLockError",
           "PostgreSQLEventStore", "ReadDirection", "ReadOptions", "SQLiteEventStore",
           "StoredEvent", "connect", "default_registry", "extension_path",
           "get_event_class", "load", "register_event"]
