-- testing_helpers.sql -- the in-memory store's testing helpers:
-- get_event_count, get_aggregate_ids, get_all_events and clear.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/testing_helpers.sql
.read sql/examples/setup.sql

.print -- get_event_count
SELECT count(*) FROM event_all;

.print -- get_aggregate_ids
SELECT DISTINCT aggregate_id FROM event_all ORDER BY aggregate_id;

.print -- get_all_events
SELECT global_position, stream_id, event_type FROM event_all;

.print -- clear (in-memory and temporary databases only), then count again
SELECT es_clear();
SELECT count(*), es_global_position() FROM event_all;
