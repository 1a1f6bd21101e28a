"""Domain events: the DomainEvent base class and the registry of event types.

A DomainEvent subclass declares its own fields as annotated class
attributes, as in the library this package re-creates:

    @register_event
    class TaskCreated(DomainEvent):
        aggregate_type: str = "Task"
        title: str

Each subclass becomes a frozen, keyword-only dataclass (so a field without
a default may follow one with a default).  Its own fields are the event's
`data` in the store; the fields of DomainEvent itself are the event's
envelope (event_id, occurred_at, tenant_id, ...).  `event_type` defaults
to the class name.  The registry maps a stored event_type back to its
class, so that reading rebuilds the class that was written.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar
from uuid import UUID, uuid4

from .errors import EventTypeNotFoundError

__all__ = ["DomainEvent", "register_event", "EventRegistry", "default_registry",
           "get_event_class"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """The envelope every event carries; subclasses add their own fields."""

    event_id: UUID = field(default_factory=uuid4)
    event_type: str = ""
    event_version: int = 1
    occurred_at: datetime = field(default_factory=_now)
    aggregate_id: UUID | str
    aggregate_type: str
    aggregate_version: int = 1
    tenant_id: UUID | str | None = None
    actor_id: str | None = None
    correlation_id: UUID = field(default_factory=uuid4)
    causation_id: UUID | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    # The names above: everything else a subclass declares is its data.
    ENVELOPE: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__annotations__")
        if own is None:
            own = {}
            cls.__annotations__ = own
        # `event_type = "X"` without an annotation still sets the type.
        # A class that sets none gets its own name (or the name it is
        # registered under), not its parent's: the default is "", which
        # __post_init__ replaces.
        own["event_type"] = str
        if "event_type" not in cls.__dict__:
            cls.event_type = ""
        cls._event_type_name = None     # register_event(event_type=...)
        dataclass(frozen=True, kw_only=True, repr=False)(cls)
        cls._data_fields = None   # filled on first use (codec.data_fields)

    def __post_init__(self) -> None:
        if not self.event_type:
            object.__setattr__(self, "event_type", event_type_of(type(self)))
        if not isinstance(self.event_version, int) or self.event_version < 1:
            raise ValueError(f"{type(self).__name__}: event_version must be an "
                             f"integer >= 1, not {self.event_version!r}")
        if not isinstance(self.aggregate_version, int) or self.aggregate_version < 1:
            raise ValueError(f"{type(self).__name__}: aggregate_version must be an "
                             f"integer >= 1, not {self.aggregate_version!r}")
        if isinstance(self.aggregate_id, str):
            object.__setattr__(self, "aggregate_id", _uuid_or_text(self.aggregate_id))
        if isinstance(self.tenant_id, str):
            object.__setattr__(self, "tenant_id", _uuid_or_text(self.tenant_id))
        for name in ("event_id", "correlation_id", "causation_id"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, UUID(value))
        if self.occurred_at.tzinfo is None:
            # A naive time is taken as UTC, as the store shows every time.
            object.__setattr__(self, "occurred_at",
                               self.occurred_at.replace(tzinfo=timezone.utc))

    # The library's helpers for deriving events from events.
    def with_causation(self, causing_event: DomainEvent):
        return dataclasses.replace(self, causation_id=causing_event.event_id,
                                   correlation_id=causing_event.correlation_id)

    def with_metadata(self, **kwargs: Any):
        return dataclasses.replace(self, metadata={**self.metadata, **kwargs})

    def with_aggregate_version(self, version: int):
        return dataclasses.replace(self, aggregate_version=version)

    def is_caused_by(self, event: DomainEvent) -> bool:
        return self.causation_id == event.event_id

    def is_correlated_with(self, event: DomainEvent) -> bool:
        return self.correlation_id == event.correlation_id

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (UUIDs and times as text)."""
        from .codec import to_json_value
        return {f.name: to_json_value(getattr(self, f.name))
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        from .codec import event_from_dict
        return event_from_dict(cls, values)

    def __str__(self) -> str:
        return (f"{self.event_type}(event_id={self.event_id}, "
                f"aggregate_id={self.aggregate_id}, version={self.aggregate_version})")

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(event_id={self.event_id!r}, "
                f"event_type={self.event_type!r}, aggregate_id={self.aggregate_id!r}, "
                f"aggregate_type={self.aggregate_type!r}, "
                f"aggregate_version={self.aggregate_version}, "
                f"tenant_id={self.tenant_id!r}, occurred_at={self.occurred_at!r})")


DomainEvent.ENVELOPE = frozenset(f.name for f in dataclasses.fields(DomainEvent))


def event_type_of(cls: type) -> str:
    """The event_type a class's events get when they do not name one."""
    return (cls.__dataclass_fields__["event_type"].default
            or cls.__dict__.get("_event_type_name") or cls.__name__)


def _uuid_or_text(text: str) -> UUID | str:
    """A UUID when the text is one in canonical form, else the text itself:
    aggregate and tenant ids are any text in the store."""
    if len(text) == 36:
        try:
            value = UUID(text)
        except ValueError:
            return text
        if str(value) == text.lower():
            return value
    return text


class EventRegistry:
    """event_type -> DomainEvent subclass."""

    def __init__(self) -> None:
        self._classes: dict[str, type[DomainEvent]] = {}

    def register(self, cls: type[DomainEvent], event_type: str | None = None):
        if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
            raise TypeError(f"register_event: {cls!r} is not a DomainEvent subclass")
        name = event_type or event_type_of(cls)
        explicit = cls.__dataclass_fields__["event_type"].default
        if explicit and name != explicit:
            raise ValueError(f"register_event: {cls.__qualname__} sets event_type "
                             f"{explicit!r}, not {name!r}")
        known = self._classes.get(name)
        if known is not None and known is not cls and \
                (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"register_event: event type {name!r} is already "
                             f"registered to {known.__module__}.{known.__qualname__}")
        self._classes[name] = cls
        if name != cls.__name__ and not explicit:
            cls._event_type_name = name
        return cls

    def get(self, event_type: str) -> type[DomainEvent]:
        cls = self._classes.get(event_type)
        if cls is None:
            raise EventTypeNotFoundError(event_type)
        return cls

    def get_or_none(self, event_type: str) -> type[DomainEvent] | None:
        return self._classes.get(event_type)

    def __contains__(self, event_type: str) -> bool:
        return event_type in self._classes

    def clear(self) -> None:
        self._classes.clear()


default_registry = EventRegistry()


def register_event(cls=None, *, event_type: str | None = None,
                   registry: EventRegistry | None = None):
    """Register an event class, as `@register_event` or
    `@register_event(event_type="...")`."""
    target = registry or default_registry

    def apply(c):
        return target.register(c, event_type)
    if cls is None:
        return apply
    return apply(cls)


def get_event_class(event_type: str) -> type[DomainEvent]:
    return default_registry.get(event_type)


def type_hints(cls: type) -> dict[str, Any]:
    """The resolved annotations of an event class (strings under
    `from __future__ import annotations` included)."""
    hints = cls.__dict__.get("_type_hints")
    if hints is None:
        hints = typing.get_type_hints(cls)
        cls._type_hints = hints
    return hints
