-- projection_batch.sql -- one batch of the projection of projection.sql:
-- at most 3 events after the checkpoint 'open-tasks', applied to the read
-- model and the checkpoint moved, in one transaction.
-- BEGIN IMMEDIATE takes the write lock first, so the batch read is the
-- one committed.  (The events are read into a TEMP table, so that the batch's end is
-- known when the checkpoint is set; "WHERE true" is how SQLite's upsert
-- after a SELECT is written.)
BEGIN IMMEDIATE;
CREATE TEMP TABLE batch AS
  SELECT global_position, tenant_id, event_type FROM event_all
  WHERE global_position > es_checkpoint('open-tasks')
  ORDER BY global_position LIMIT 3;
INSERT INTO open_tasks
  SELECT tenant_id, sum(CASE event_type WHEN 'TaskCreated' THEN 1
                                        WHEN 'TaskCompleted' THEN -1 ELSE 0 END)
  FROM batch WHERE true GROUP BY tenant_id
  ON CONFLICT(tenant_id) DO UPDATE SET n = n + excluded.n;
SELECT es_checkpoint_set('open-tasks', (SELECT max(global_position) FROM batch),
                         es_checkpoint('open-tasks'));
DROP TABLE batch;
COMMIT;
SELECT tenant_id, n FROM open_tasks ORDER BY tenant_id;
SELECT name, position, lag FROM es_checkpoints;
