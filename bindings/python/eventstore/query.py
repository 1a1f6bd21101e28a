"""The SQL each call sends, for SQLite and for the PostgreSQL twin.

Every store call is one or two statements on the extension's functions
and tables; this file writes them.  The two dialects differ only in their
placeholders (? or $n), in how a time is passed (ISO text, which the
SQLite extension compares as an instant, or a datetime for timestamptz),
and in the schema that qualifies the PostgreSQL names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .codec import COLUMNS, aware, timestamp_text
from .interface import ReadDirection, ReadOptions


class Dialect:
    def __init__(self, numbered: bool, schema: str | None = None) -> None:
        self.numbered = numbered
        self.prefix = "" if not schema else '"' + schema.replace('"', '""') + '".'

    def time(self, value: datetime) -> Any:
        return aware(value) if self.numbered else timestamp_text(value)


SQLITE = Dialect(numbered=False)


class Statement:
    """SQL text and its parameters, built piece by piece."""

    def __init__(self, dialect: Dialect, head: str) -> None:
        self.dialect = dialect
        self.sql = head.replace("{p}", dialect.prefix)
        self.params: list[Any] = []

    def param(self, value: Any, cast: str = "") -> str:
        self.params.append(value)
        if self.dialect.numbered:
            return f"${len(self.params)}{cast}"
        return "?"

    def where(self, condition: str, value: Any, cast: str = "") -> Statement:
        word = " AND " if " WHERE " in self.sql else " WHERE "
        self.sql += word + condition.replace("?", self.param(value, cast))
        return self

    def add(self, text: str) -> Statement:
        self.sql += text
        return self

    def limit(self, n: int | None) -> Statement:
        if n is not None:
            self.sql += " LIMIT " + self.param(n)
        return self


def function(dialect: Dialect, name: str, *args: Any, casts: tuple = ()) -> Statement:
    """SELECT name(args...)."""
    st = Statement(dialect, "")
    marks = [st.param(a, casts[i] if i < len(casts) else "") for i, a in enumerate(args)]
    st.sql = f"SELECT {dialect.prefix}{name}({', '.join(marks)})"
    return st


def append(dialect: Dialect, aggregate_id: str, aggregate_type: str,
           expected_version: int, events_json: str) -> Statement:
    casts = ("", "", "::bigint", "::json") if dialect.numbered else ()
    return function(dialect, "es_append", aggregate_id, aggregate_type,
                    expected_version, events_json, casts=casts)


def _timestamps(st: Statement, since: datetime | None, until: datetime | None,
                since_op: str = ">=") -> None:
    if since is not None:
        st.where(f"occurred_at {since_op} ?", st.dialect.time(since))
    if until is not None:
        st.where("occurred_at <= ?", st.dialect.time(until))


def stream_events(dialect: Dialect, aggregate_id: str, aggregate_type: str | None,
                  from_version: int, since: datetime | None,
                  until: datetime | None) -> Statement:
    """get_events: one stream in stream order (or, with no type, every
    stream of the aggregate id, in global order)."""
    if aggregate_type is None:
        st = Statement(dialect, f"SELECT {COLUMNS} FROM {{p}}event_all")
        st.where("aggregate_id = ?", aggregate_id)
        order = " ORDER BY global_position"
    else:
        st = Statement(dialect, f"SELECT {COLUMNS} FROM {{p}}event_stream")
        st.where("aggregate_id = ?", aggregate_id).where("aggregate_type = ?", aggregate_type)
        order = " ORDER BY stream_position"
    if from_version > 0:
        st.where("stream_position > ?", from_version)
    _timestamps(st, since, until)
    return st.add(order)


def _options(st: Statement, column: str, options: ReadOptions) -> Statement:
    backward = options.direction is ReadDirection.BACKWARD
    if options.from_position > 0:
        st.where(f"{column} > ?", options.from_position)
    _timestamps(st, options.from_timestamp, options.to_timestamp)
    if options.tenant_id is not None:
        st.where("tenant_id = ?", str(options.tenant_id))
    st.add(f" ORDER BY {column}{' DESC' if backward else ''}")
    return st.limit(options.limit)


def read_stream(dialect: Dialect, stream_id: str, options: ReadOptions) -> Statement:
    st = Statement(dialect, "")
    st.sql = f"SELECT {COLUMNS} FROM {dialect.prefix}event_stream({st.param(stream_id)})"
    return _options(st, "stream_position", options)


def read_all(dialect: Dialect, options: ReadOptions) -> Statement:
    st = Statement(dialect, f"SELECT {COLUMNS} FROM {{p}}event_all")
    return _options(st, "global_position", options)


def events_by_type(dialect: Dialect, aggregate_type: str, tenant_id: Any,
                   since: datetime | None) -> Statement:
    """get_events_by_type: after `since` (exclusive), in global order."""
    st = Statement(dialect, f"SELECT {COLUMNS} FROM {{p}}event_all")
    st.where("aggregate_type = ?", aggregate_type)
    if tenant_id is not None:
        st.where("tenant_id = ?", str(tenant_id))
    _timestamps(st, since, None, since_op=">")
    return st.add(" ORDER BY global_position")


def all_events(dialect: Dialect) -> Statement:
    return Statement(dialect, f"SELECT {COLUMNS} FROM {{p}}event_all ORDER BY global_position")


def event_count(dialect: Dialect) -> Statement:
    return Statement(dialect, "SELECT count(*) FROM {p}event_all")


def aggregate_ids(dialect: Dialect) -> Statement:
    # The first appearance of each id, in global order: a stable answer.
    return Statement(dialect, "SELECT aggregate_id FROM {p}event_all "
                              "GROUP BY aggregate_id ORDER BY min(global_position)")
