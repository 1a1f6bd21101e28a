"""Between Python objects and what the extension takes and returns.

Writing: a DomainEvent becomes the JSON event object es_append takes (its
envelope fields as the contract's keys, its own fields as `data`).
Reading: a row of event_all / event_stream becomes the registered class
again, each data field converted back by its annotation (a UUID field
from its text, a datetime from ISO-8601, a nested dataclass from its
object, ...).  Values that do not fit their annotation are passed through
unchanged: reading never fails on data an older version of a class wrote.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, SafeUUID

from .errors import EventStoreError
from .events import DomainEvent, EventRegistry, _uuid_or_text, type_hints

# The columns every read selects, in this order (both dialects).
COLUMNS = ("global_position, stream_id, stream_position, aggregate_id, aggregate_type, "
           "event_id, event_type, event_version, tenant_id, actor_id, correlation_id, "
           "causation_id, occurred_at, stored_at, data, metadata")


# ------------------------------------------------------------------ writing

def _json_default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return timestamp_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"eventstore: a value of type {type(value).__name__} cannot be "
                    f"stored in an event (JSON has no form for it)")


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False)


def to_json_value(value: Any) -> Any:
    return json.loads(dumps(value))


def timestamp_text(value: datetime) -> str:
    """ISO-8601 with an offset: a naive datetime is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def data_fields(cls: type) -> tuple[str, ...]:
    """The names of an event class's own fields: its data."""
    names = cls.__dict__.get("_data_fields")
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls)
                      if f.name not in DomainEvent.ENVELOPE)
        cls._data_fields = names
    return names


def event_object(event: DomainEvent) -> dict[str, Any]:
    """The event as es_append's JSON object (the contract's keys)."""
    obj: dict[str, Any] = {
        "event_type": event.event_type,
        "event_id": str(event.event_id),
        "event_version": event.event_version,
        "occurred_at": timestamp_text(event.occurred_at),
        "data": {name: getattr(event, name) for name in data_fields(type(event))},
        "metadata": event.metadata,
    }
    if event.correlation_id is not None:
        obj["correlation_id"] = str(event.correlation_id)
    if event.causation_id is not None:
        obj["causation_id"] = str(event.causation_id)
    if event.tenant_id is not None:
        obj["tenant_id"] = str(event.tenant_id)
    if event.actor_id is not None:
        obj["actor_id"] = event.actor_id
    return obj


# ------------------------------------------------------------------ reading

class _Mismatch(Exception):
    pass


def _convert(value: Any, hint: Any) -> Any:
    """value (from JSON) as the type hint says, or _Mismatch."""
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        if value is None:
            if type(None) in typing.get_args(hint):
                return None
            raise _Mismatch
        for arm in typing.get_args(hint):
            if arm is type(None):
                continue
            try:
                return _convert(value, arm)
            except _Mismatch:
                pass
        raise _Mismatch
    if origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        raise _Mismatch
    if origin is typing.Annotated:
        return _convert(value, typing.get_args(hint)[0])
    if origin in (list, tuple, set, frozenset, typing.Sequence, typing.Iterable) or \
            hint in (list, tuple, set, frozenset):
        if not isinstance(value, list):
            raise _Mismatch
        args = typing.get_args(hint)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise _Mismatch
            items = [_convert(v, a) for v, a in zip(value, args)]
        else:
            arm = args[0] if args else Any
            items = [_convert(v, arm) for v in value]
        kind = origin or hint
        return items if kind in (list, typing.Sequence, typing.Iterable) else kind(items)
    if origin in (dict, typing.Mapping) or hint is dict:
        if not isinstance(value, dict):
            raise _Mismatch
        args = typing.get_args(hint)
        arm = args[1] if len(args) == 2 else Any
        return {k: _convert(v, arm) for k, v in value.items()}
    if not isinstance(hint, type):
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    try:
        if issubclass(hint, UUID):
            return UUID(value) if isinstance(value, str) else _raise()
        if issubclass(hint, datetime):
            return aware(datetime.fromisoformat(value)) if isinstance(value, str) else _raise()
        if issubclass(hint, date):
            return date.fromisoformat(value) if isinstance(value, str) else _raise()
        if issubclass(hint, Decimal):
            return Decimal(str(value)) if isinstance(value, (str, int, float)) else _raise()
        if issubclass(hint, enum.Enum):
            return hint(value)
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise _Mismatch
            hints = typing.get_type_hints(hint)
            return hint(**{k: from_json_value(v, hints.get(k, Any)) for k, v in value.items()})
    except (ValueError, TypeError):
        raise _Mismatch from None
    if isinstance(value, hint):
        return value
    raise _Mismatch


def _raise():
    raise _Mismatch


def from_json_value(value: Any, hint: Any) -> Any:
    try:
        return _convert(value, hint)
    except _Mismatch:
        return value


def _uuid(value: Any) -> UUID | None:
    if value is None or type(value) is UUID:
        return value
    if type(value) is str and len(value) == 36:
        # The store's UUIDs are canonical lowercase text: skip UUID()'s
        # parsing of every form it accepts (a third of reading an event).
        u = object.__new__(UUID)
        object.__setattr__(u, "int", int(value.replace("-", ""), 16))
        object.__setattr__(u, "is_safe", SafeUUID.unknown)
        return u
    return UUID(str(value))


def _json(value: Any) -> Any:
    if value == "{}":
        return {}
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _time(value: Any) -> datetime:
    return aware(datetime.fromisoformat(value)) if isinstance(value, str) else aware(value)


def event_from_row(row: tuple, registry: EventRegistry) -> DomainEvent:
    """The DomainEvent that a row (COLUMNS) stores."""
    event_type = row[6]
    cls = registry.get(event_type)
    data = _json(row[14])
    hints = type_hints(cls)
    values = {name: from_json_value(data[name], hints.get(name, Any))
              for name in data_fields(cls) if name in data}
    try:
        return cls(event_id=_uuid(row[5]), event_type=event_type, event_version=row[7],
                   occurred_at=_time(row[12]), aggregate_id=_uuid_or_text(str(row[3])),
                   aggregate_type=row[4], aggregate_version=row[2],
                   tenant_id=None if row[8] is None else _uuid_or_text(row[8]),
                   actor_id=row[9], correlation_id=_uuid(row[10]),
                   causation_id=_uuid(row[11]), metadata=_json(row[15]), **values)
    except TypeError as e:
        raise EventStoreError(f"eventstore: the stored {event_type} event {row[5]} does "
                              f"not fit class {cls.__qualname__}: {e}") from None


def stored_from_row(row: tuple, registry: EventRegistry):
    from .interface import StoredEvent
    return StoredEvent(event=event_from_row(row, registry), stream_id=row[1],
                       stream_position=row[2], global_position=row[0],
                       stored_at=_time(row[13]))


def event_from_dict(cls: type, values: dict[str, Any]) -> DomainEvent:
    hints = type_hints(cls)
    return cls(**{k: from_json_value(v, hints.get(k, Any)) for k, v in values.items()})
