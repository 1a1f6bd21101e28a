-- get_events.sql -- get_events(aggregate_id, aggregate_type, from_version,
-- from_timestamp, to_timestamp): one stream, read through event_stream.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/get_events.sql
.read sql/examples/setup.sql

.print -- the whole stream
SELECT stream_position, event_type, occurred_at
FROM event_stream WHERE aggregate_id = 'task-1' AND aggregate_type = 'Task';

.print -- from_version = 2: the events after version 2
SELECT stream_position, event_type
FROM event_stream('task-1:Task') WHERE stream_position > 2;

.print -- a time range, in any offset: from 10:00Z to 12:30 at UTC+1 (11:30Z)
SELECT stream_position, event_type, occurred_at
FROM event_stream('task-1:Task')
WHERE occurred_at >= '2026-11-26T10:00:00Z' AND occurred_at <= '2026-11-26 12:30:00+01:00';

.print -- read_stream backward with a limit: the newest two
SELECT stream_position, event_type
FROM event_stream('task-1:Task') ORDER BY stream_position DESC LIMIT 2;
