-- setup.sql -- the small store the examples read: two tasks and an order,
-- two tenants, fixed ids and times (one event per hour from
-- 2026-11-26T08:00:00Z).  Each example starts with `.read` of this file.
.mode list
.headers off
SELECT NULL WHERE es_append('task-1', 'Task', 'no_stream', '[
  {"event_type":"TaskCreated","data":{"title":"Write docs"},"tenant_id":"acme",
   "event_id":"00000000-0000-4000-8000-000000000001","occurred_at":"2026-11-26T08:00:00Z"},
  {"event_type":"TaskAssigned","data":{"to":"ann"},"tenant_id":"acme",
   "event_id":"00000000-0000-4000-8000-000000000002","occurred_at":"2026-11-26T09:00:00Z"}]') IS NULL;
SELECT NULL WHERE es_append('order-7', 'Order', 'no_stream', 'OrderPlaced', '{"total":42}',
  '{"tenant_id":"globex","event_id":"00000000-0000-4000-8000-000000000003","occurred_at":"2026-11-26T10:00:00Z"}') IS NULL;
SELECT NULL WHERE es_append('task-1', 'Task', 2, 'TaskStarted', '{}',
  '{"tenant_id":"acme","event_id":"00000000-0000-4000-8000-000000000004","occurred_at":"2026-11-26 12:00:00+01:00"}') IS NULL;
SELECT NULL WHERE es_append('task-2', 'Task', 'no_stream', 'TaskCreated', '{"title":"Review"}',
  '{"tenant_id":"globex","event_id":"00000000-0000-4000-8000-000000000005","occurred_at":"2026-11-26T12:00:00Z"}') IS NULL;
SELECT NULL WHERE es_append('task-1', 'Task', 3, 'TaskCompleted', '{}',
  '{"tenant_id":"acme","event_id":"00000000-0000-4000-8000-000000000006","occurred_at":1795694400}') IS NULL;
