-- event_exists.sql -- event_exists(event_id), get_stream_version and
-- get_global_position.
--   sqlite3 :memory: -cmd '.load ./eventstore' < sql/examples/event_exists.sql
.read sql/examples/setup.sql

.print -- is this event stored?
SELECT es_event_exists('00000000-0000-4000-8000-000000000003'),
       es_event_exists('00000000-0000-4000-8000-0000000000ff');

.print -- the event with that id
SELECT stream_id, stream_position, event_type FROM event_all
WHERE event_id = '00000000-0000-4000-8000-000000000003';

.print -- versions and the global position
SELECT es_version('task-1', 'Task'), es_version('order-7:Order'),
       es_version('nobody', 'Task'), es_global_position();
