-- consumer_group.sql -- two workers share one feed: es_member gives each
-- stream to one of them, so each event is handled once and each stream's
-- events in order; each worker keeps a checkpoint of its own.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/consumer_group.sql
.read sql/examples/setup.sql

.print -- which worker each stream goes to (es_member(stream_id, 2))
SELECT DISTINCT stream_id, es_member(stream_id, 2) FROM event_all ORDER BY 1;

.print -- worker 0 handles its share after its checkpoint
BEGIN IMMEDIATE;
SELECT global_position, stream_id, event_type FROM event_all
 WHERE global_position > es_checkpoint('mailer-0')
   AND es_member(stream_id, 2) = 0
 ORDER BY global_position;
SELECT es_checkpoint_set('mailer-0', es_global_position(), es_checkpoint('mailer-0'));
COMMIT;

.print -- worker 1 handles its share after its checkpoint
BEGIN IMMEDIATE;
SELECT global_position, stream_id, event_type FROM event_all
 WHERE global_position > es_checkpoint('mailer-1')
   AND es_member(stream_id, 2) = 1
 ORDER BY global_position;
SELECT es_checkpoint_set('mailer-1', es_global_position(), es_checkpoint('mailer-1'));
COMMIT;

.print -- a new event goes to one worker only
SELECT NULL WHERE es_append('task-2', 'Task', 1, 'TaskAssigned', '{"to":"bob"}') IS NULL;
SELECT 'worker ' || es_member(stream_id, 2), global_position, stream_id, event_type
  FROM event_all WHERE global_position > 6;
SELECT name, position, lag FROM es_checkpoints ORDER BY name;
