-- snapshot.sql -- load an aggregate from its snapshot and the events
-- after it, instead of replaying its whole stream.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/snapshot.sql
.read sql/examples/setup.sql

-- task-1's state after its first 2 events (created, assigned to ann),
-- saved as its snapshot at version 2.
.print -- saved at version
SELECT es_snapshot_save('task-1', 'Task', 2,
                        '{"title":"Write docs","assignee":"ann","status":"open"}');

.print -- the snapshot
SELECT es_snapshot('task-1', 'Task') ->> 'version',
       es_snapshot('task-1', 'Task') -> 'state';

.print -- loading: the snapshot's state, then only the events after it
SELECT stream_position, event_type, data FROM event_stream('task-1:Task')
 WHERE stream_position > coalesce(es_snapshot('task-1','Task') ->> 'version', 0);

.print -- the state those events lead to (TaskStarted, TaskCompleted)
SELECT json_set(es_snapshot('task-1','Task') -> 'state', '$.status',
         (SELECT CASE event_type WHEN 'TaskStarted' THEN 'started'
                                 WHEN 'TaskCompleted' THEN 'done' END
            FROM event_stream('task-1:Task')
           WHERE stream_position > es_snapshot('task-1','Task') ->> 'version'
           ORDER BY stream_position DESC LIMIT 1));

.print -- an older snapshot never replaces a newer one; another shape is apart
SELECT es_snapshot_save('task-1', 'Task', 1, '{"title":"Write docs"}');
SELECT es_snapshot('task-1', 'Task', 2);

.print -- snapshots are a cache: deleting them loses nothing
SELECT es_snapshot_delete('task-1', 'Task'), es_version('task-1', 'Task');
