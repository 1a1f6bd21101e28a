-- read_all.sql -- read_all(from_position, limit, tenant_id, direction):
-- every stream, in global order, through event_all.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/read_all.sql
.read sql/examples/setup.sql

.print -- from position 2, the next 3 events for tenant acme
SELECT global_position, stream_id, event_type
FROM event_all WHERE global_position > 2 AND tenant_id = 'acme'
ORDER BY global_position LIMIT 3;

.print -- backward: the last 2 events of tenant globex
SELECT global_position, stream_id, event_type
FROM event_all WHERE tenant_id = 'globex' ORDER BY global_position DESC LIMIT 2;

.print -- a projection's catch-up loop: everything after its checkpoint
SELECT global_position, event_type, data
FROM event_all WHERE global_position > 4 ORDER BY global_position;
