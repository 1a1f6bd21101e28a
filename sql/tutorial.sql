-- tutorial.sql -- the event-store tutorial, in SQL.
--
-- The nine steps of eventsource-py's "Tutorial 4: Event Stores", with the
-- same sections and values, on an in-memory database:
--
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/tutorial.sql
--
-- (`make demo` runs it.)  Step 4 provokes a version conflict on purpose:
-- the shell prints the error and carries on.
.mode list
.headers off

-- The two tasks' ids, and the id of the append that step 4 expects to be
-- refused, so that the script can see it was.
CREATE TEMP TABLE tutorial AS
  SELECT es_uuid() AS task_id, es_uuid() AS task2_id, es_uuid() AS stale_event_id;

.print ============================================================
.print Tutorial 4: Event Stores
.print ============================================================

.print
.print 1. Appending events
.print ------------------------------------------------------------
-- MATERIALIZED: the result is read three times, the append must run once.
WITH appended(r) AS MATERIALIZED (
  SELECT es_append(task_id, 'Task', 'no_stream', 'TaskCreated',
                   '{"title":"Learn event stores"}') FROM tutorial)
SELECT '   Success: ' || CASE WHEN r->>'success' THEN 'True' ELSE 'False' END
       || char(10) || '   New version: ' || (r->>'new_version')
       || char(10) || '   Global position: ' || (r->>'global_position')
FROM appended;

.print
.print 2. Reading events
.print ------------------------------------------------------------
-- get_events(task_id, "Task"): the stream, its version and its events.
SELECT '   Aggregate ID: ' || task_id || char(10) || '   Aggregate type: Task'
       || char(10) || '   Version: ' || es_version(task_id, 'Task')
       || char(10) || '   Events:'
FROM tutorial;
SELECT printf('     - v%d: %s', aggregate_version, event_type)
FROM tutorial, event_stream WHERE aggregate_id = task_id AND aggregate_type = 'Task'
ORDER BY stream_position;

.print
.print 3. Appending another event
.print ------------------------------------------------------------
SELECT printf('   New version: %d',
              es_append(task_id, 'Task', 1, 'TaskCompleted', '{}') ->> 'new_version')
FROM tutorial;

.print
.print 4. Optimistic locking (conflict detection)
.print ------------------------------------------------------------
-- Expected version 1, but the stream is at 2: es_append raises
-- "version conflict" (SQLITE_CONSTRAINT_FUNCTION) and stores nothing.
SELECT es_append(task_id, 'Task', 1, 'TaskReassigned',
                 json_object('new_assignee', es_uuid()),
                 json_object('event_id', stale_event_id))
FROM tutorial;
SELECT '   Conflict detected!' || char(10) || '   Expected version: 1'
       || char(10) || '   Actual version: ' || es_version(task_id, 'Task')
FROM tutorial WHERE NOT es_event_exists(stale_event_id);

.print
.print 5. Streaming events with read_stream()
.print ------------------------------------------------------------
SELECT '   Stream ID: ' || task_id || ':Task' || char(10) || '   Events:' FROM tutorial;
SELECT printf('     - Position %d: %s', stream_position, event_type)
FROM tutorial, event_stream(task_id || ':Task');

.print
.print 6. Reading all events with read_all()
.print ------------------------------------------------------------
-- A second task (prints nothing: es_append never returns NULL).
SELECT 1 FROM tutorial
WHERE es_append(task2_id, 'Task', 0, 'TaskCreated', '{"title":"Second task"}') IS NULL;
.print "   All events in global order:"
SELECT printf('     - Global pos %d: %s/%s', global_position, aggregate_type, event_type)
FROM event_all ORDER BY global_position;

.print
.print 7. Reading with ReadOptions (backward, limited)
.print ------------------------------------------------------------
.print "   Last 2 events (newest first):"
SELECT printf('     - Global pos %d: %s', global_position, event_type)
FROM event_all ORDER BY global_position DESC LIMIT 2;

.print
.print 8. Get events by aggregate type
.print ------------------------------------------------------------
SELECT printf('   Total Task events: %d', count(*)) FROM event_all WHERE aggregate_type = 'Task';
SELECT printf('     - %s for task %s', event_type, aggregate_id)
FROM event_all WHERE aggregate_type = 'Task' ORDER BY global_position;

.print
.print 9. Event store metadata
.print ------------------------------------------------------------
SELECT '   Total events: ' || count(*)
       || char(10) || '   Total aggregates: ' || count(DISTINCT aggregate_id)
       || char(10) || '   Current global position: ' || es_global_position()
FROM event_all;

.print
.print ============================================================
.print Tutorial complete!
.print ============================================================
