-- events_by_type.sql -- get_events_by_type(aggregate_type, tenant_id,
-- from_timestamp), and filters on event types.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/events_by_type.sql
.read sql/examples/setup.sql

.print -- every Task event, in global order
SELECT global_position, aggregate_id, event_type
FROM event_all WHERE aggregate_type = 'Task' ORDER BY global_position;

.print -- Task events of tenant acme from 10:00 UTC
SELECT global_position, aggregate_id, event_type
FROM event_all
WHERE aggregate_type = 'Task' AND tenant_id = 'acme' AND occurred_at >= '2026-11-26T10:00:00Z'
ORDER BY global_position;

.print -- some event types, newest first
SELECT global_position, event_type
FROM event_all WHERE event_type IN ('TaskCreated', 'OrderPlaced')
ORDER BY global_position DESC;
