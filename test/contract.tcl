# contract.tcl -- the contract cases of API.md, written once and run
# against both backends: contract_sqlite.test (the extension) and
# contract_pg.test (sql/postgres/eventstore.sql), so the two cannot drift.
#
# Each case is {name sql expected}: the SQL is the same text on both (the
# functions, the tables and views, -> and ->>, IN, LIMIT; a JSON boolean is
# read with ->, since ->> gives 1 on SQLite and true on PostgreSQL);
# expected is the rows as
# a flat list, or {error MESSAGE} for an error whose message is the same on
# both.  A case that writes reads nothing back in the same statement: on
# PostgreSQL a statement's reads see the store as it was when it began.  Where PostgreSQL's types make an output differ, the SQL reads it
# the same way on both (data->>'k', not the JSON text; positions, not
# timestamp text), so the difference is stated once: here.  A case that
# needs another spelling on one backend gives {sqlite SQL pg SQL} instead
# of SQL.
#
# A runner provides contract_run {sql} -> {0 rows} or {1 message}, and a
# fresh empty store before each group (contract_reset).

set ::contract_cases_text {
  # --- appends: both forms, versions, results
  append.1 {SELECT es_append('c1','Task','no_stream','Created','{"title":"a"}') ->> 'new_version'} {1}
  append.2 {SELECT es_append('c1','Task',1,'[{"event_type":"Assigned","data":{"to":"ann"}},{"event_type":"Started"}]') ->> 'new_version'} {3}
  append.3 {SELECT es_append('c1','Task',3,'Done','{}','{"tenant_id":"acme","actor_id":"bob"}') ->> 'global_position'} {4}
  append.4 {SELECT es_append('c2','Task','any','{"event_type":"Created"}') ->> 'new_version'} {1}
  append.5 {SELECT es_append('c2','Task','stream_exists','Renamed','{}') ->> 'new_version'} {2}
  append.6 {SELECT es_append('c2','Task',-1,'Renamed','{}') ->> 'new_version'} {3}
  append.7 {SELECT es_append('c2','Task','ANY','Renamed','{}') ->> 'new_version'} {4}
  append.8 {SELECT es_append('c2','Task','4','Renamed','{}') ->> 'new_version'} {5}
  append.9 {SELECT es_append('c3','Order',0,'Placed','{}') -> 'success'} {true}
  append.10 {SELECT es_append('c3','Order',1,'Paid','{}') -> 'conflict'} {false}
  # --- versions and positions
  version.1 {SELECT es_version('c1','Task'), es_version('c1:Task'), es_version('none','Task')} {4 4 0}
  version.2 {SELECT es_global_position()} {11}
  version.3 {SELECT es_version('c1','Order')} {0}
  # --- conflicts
  conflict.1 {SELECT es_append('c1','Task',2,'X','{}')} {error {es_append: version conflict on stream 'c1:Task': expected version 2, actual version 4}}
  conflict.2 {SELECT es_append('c1','Task','no_stream','X','{}')} {error {es_append: version conflict on stream 'c1:Task': expected version 0, actual version 4}}
  conflict.3 {SELECT es_append('new','Task','stream_exists','X','{}')} {error {es_append: version conflict on stream 'new:Task': expected version -2, actual version 0}}
  conflict.4 {SELECT es_version('c1','Task'), es_global_position()} {4 11}
  # --- idempotency
  idem.1 {SELECT es_append('i1','T',0,'[{"event_type":"A","event_id":"11111111-1111-4111-8111-111111111111"},{"event_type":"B","event_id":"22222222-2222-4222-8222-222222222222"}]') ->> 'global_position'} {13}
  idem.2 {SELECT es_append('i1','T',0,'[{"event_type":"A","event_id":"11111111-1111-4111-8111-111111111111"},{"event_type":"B","event_id":"22222222-2222-4222-8222-222222222222"}]') ->> 'global_position'} {13}
  idem.3 {SELECT es_append('i2','T',0,'[{"event_type":"A","event_id":"11111111-1111-4111-8111-111111111111"},{"event_type":"C"}]') ->> 'new_version'} {1}
  idem.4 {SELECT es_append('i3','T',0,'[{"event_type":"Other","event_id":"11111111-1111-4111-8111-111111111111"}]')} {error {es_append: event id 11111111-1111-4111-8111-111111111111 is already stored with different content}}
  idem.5 {SELECT es_append('i3','T',0,'[{"event_type":"A","event_id":"33333333-3333-4333-8333-333333333333"},{"event_type":"B","event_id":"33333333-3333-4333-8333-333333333333"}]')} {error {es_append: event id 33333333-3333-4333-8333-333333333333 appears twice in the batch with different content}}
  idem.6 {SELECT es_version('i3','T'), es_event_exists('11111111-1111-4111-8111-111111111111'), es_event_exists('33333333-3333-4333-8333-333333333333')} {0 1 0}
  idem.7 {SELECT count(*) FROM event_all WHERE event_id='11111111-1111-4111-8111-111111111111'} {1}
  # --- reads: event_stream in its three forms, and event_all
  read.1 {SELECT stream_position, event_type, data->>'title' FROM event_stream('c1:Task')} {1 Created a 2 Assigned {} 3 Started {} 4 Done {}}
  read.2 {SELECT stream_position FROM event_stream WHERE aggregate_id='c1' AND aggregate_type='Task' AND stream_position > 1 ORDER BY stream_position DESC LIMIT 2} {4 3}
  read.3 {SELECT global_position, stream_id, aggregate_version FROM event_stream WHERE stream_id='c3:Order' ORDER BY stream_position} {10 c3:Order 1 11 c3:Order 2}
  read.4 {SELECT global_position FROM event_all WHERE global_position > 8 ORDER BY global_position LIMIT 2} {9 10}
  read.5 {SELECT global_position FROM event_all ORDER BY global_position DESC LIMIT 3} {14 13 12}
  read.6 {SELECT global_position, tenant_id, actor_id FROM event_all WHERE tenant_id = 'acme' ORDER BY global_position} {4 acme bob}
  read.7 {SELECT global_position FROM event_all WHERE event_type IN ('Created','Paid') ORDER BY global_position} {1 5 11}
  read.8 {SELECT count(*), count(DISTINCT aggregate_id), count(DISTINCT stream_id) FROM event_all} {14 5 5}
  read.9 {SELECT global_position FROM event_all WHERE aggregate_type = 'Order' ORDER BY global_position} {10 11}
  read.10 {SELECT data->>'to' FROM event_all WHERE event_type = 'Assigned'} {ann}
  read.11 {SELECT global_position FROM event_all WHERE global_position BETWEEN 3 AND 5 ORDER BY global_position DESC} {5 4 3}
  read.12 {SELECT global_position FROM event_all ORDER BY global_position LIMIT 2 OFFSET 3} {4 5}
  read.13 {SELECT count(*) FROM event_stream('nothing:Task')} {0}
  read.14 {SELECT event_version, metadata->>'x' FROM event_stream('c1:Task') WHERE stream_position=1} {1 {}}
  # --- timestamps compare as instants
  time.1 {SELECT es_append('t1','T',0,'E','{}','{"occurred_at":"2026-11-26 12:00:00+02:00"}') ->> 'new_version'} {1}
  time.2 {SELECT es_append('t1','T',1,'E','{}','{"occurred_at":1795687201}') ->> 'new_version'} {2}
  time.3 {SELECT stream_position FROM event_stream('t1:T') WHERE occurred_at = '2026-11-26T10:00:00Z'} {1}
  time.4 {SELECT stream_position FROM event_stream('t1:T') WHERE occurred_at > '2026-11-26 10:00:00.5Z' ORDER BY stream_position} {2}
  # --- bad input: errors that name the function and the problem
  bad.1 {SELECT es_append('','Task',0,'E','{}')} {error {es_append: aggregate_id is empty}}
  bad.2 {SELECT es_append('a','Bad Type',0,'E','{}')} {error {es_append: aggregate_type 'Bad Type' is not a valid type name (1-255 letters, digits, '_', '.' or '-')}}
  bad.3 {SELECT es_append('a','Task','sometimes','E','{}')} {error {es_append: expected_version 'sometimes' is not a version (use an integer >= 0, 'no_stream', 'any' or 'stream_exists')}}
  bad.4 {SELECT es_append('a','Task',-3,'E','{}')} {error {es_append: expected_version -3 is out of range (use n >= 0, -1 for any, -2 for stream_exists)}}
  bad.5 {SELECT es_append('a','Task',0,'bad type','{}')} {error {es_append: event_type 'bad type' is not a valid type name (1-255 letters, digits, '_', '.' or '-')}}
  bad.6 {SELECT es_append('a','Task',0,'E','[1]')} {error {es_append: data must be a JSON object}}
  bad.7 {SELECT es_append('a','Task',0,'[]')} {error {es_append: events is an empty array: nothing to append}}
  bad.8 {SELECT es_append('a','Task',0,'[{"event_type":"E","colour":"red"}]')} {error {es_append: event 1: unknown key 'colour' in the event (allowed: event_type, data, event_id, event_version, occurred_at, tenant_id, actor_id, correlation_id, causation_id, metadata)}}
  bad.9 {SELECT es_append('a','Task',0,'[{"data":{}}]')} {error {es_append: event 1: event_type is missing}}
  bad.10 {SELECT es_append('a','Task',0,'{"event_type":"E","event_id":"nope"}')} {error {es_append: event_id is not a UUID: 'nope'}}
  bad.11 {SELECT es_append('a','Task',0,'{"event_type":"E","event_version":0}')} {error {es_append: event_version must be an integer >= 1, not 0}}
  bad.12 {SELECT es_append('a','Task',0,'{"event_type":"E","occurred_at":"2026-02-30"}')} {error {es_append: occurred_at is not a valid timestamp: '2026-02-30' (use ISO-8601 such as 2026-11-26T10:00:00Z, or Unix seconds)}}
  bad.13 {SELECT es_append('a','Task',0,'E','{}','{"event_type":"F"}')} {error {es_append: event_type belongs in its own argument, not in options}}
  bad.14 {SELECT es_append('a','Task',0,'{"event_type":"E","tenant_id":""}')} {error {es_append: tenant_id is empty}}
  bad.15 {SELECT es_version('nocolon')} {error {es_version: stream_id 'nocolon' is not of the form aggregate_id:aggregate_type}}
  bad.16 {SELECT es_version('a:')} {error {es_version: stream_id 'a:' is not of the form aggregate_id:aggregate_type}}
  bad.17 {SELECT es_event_exists('nope')} {error {es_event_exists: 'nope' is not a UUID}}
  bad.18 {SELECT count(*) FROM event_stream('a')} {error {event_stream: stream_id 'a' is not of the form aggregate_id:aggregate_type}}
  bad.19 {SELECT es_global_position(), es_version('a','Task')} {16 0}
  # --- immutability
  immutable.1 {UPDATE es_events SET stream_position=0} {error {eventstore: es_events is append-only: stored events cannot be updated}}
  immutable.2 {DELETE FROM es_events} {error {eventstore: es_events is append-only: stored events cannot be deleted}}
  immutable.3 {DELETE FROM es_streams} {error {eventstore: es_streams is append-only: stored streams cannot be deleted}}
  # --- consumers: checkpoints, compare-and-set, the listing, es_wait
  cp.1 {SELECT es_checkpoint('proj')} {0}
  cp.2 {SELECT es_checkpoint_set('proj', 4)} {4}
  cp.3 {SELECT es_checkpoint_set('proj', 10, 4)} {10}
  cp.4 {SELECT es_checkpoint_set('proj', 12, 4)} {error {es_checkpoint_set: checkpoint 'proj' is at 10, not 4}}
  cp.5 {SELECT es_checkpoint_set('proj', 3)} {error {es_checkpoint_set: checkpoint 'proj' is at 10: without expected_position it only moves forward (to move it back to 3, give expected_position 10)}}
  cp.6 {SELECT es_checkpoint_set('proj', 17)} {error {es_checkpoint_set: position 17 is beyond the newest event (es_global_position() is 16)}}
  cp.7 {SELECT es_checkpoint_set('proj', -1)} {error {es_checkpoint_set: position -1 is out of range (it must be 0 or more)}}
  cp.8 {SELECT es_checkpoint_set('other', 2, 5)} {error {es_checkpoint_set: checkpoint 'other' is at 0, not 5}}
  cp.9 {SELECT es_checkpoint('')} {error {es_checkpoint: name is empty}}
  cp.10 {SELECT es_checkpoint_set('proj', 3, 10)} {3}
  cp.10.1 {SELECT es_checkpoint('proj')} {3}
  cp.11 {SELECT name, position, lag FROM es_checkpoints ORDER BY name} {proj 3 13}
  cp.12 {SELECT es_wait(3, 0), es_wait(16, 10), es_wait(0)} {16 16 16}
  cp.13 {SELECT es_wait(-1)} {error {es_wait: after_position -1 is out of range (it must be 0 or more)}}
  cp.14 {UPDATE es_consumers SET position = 0} {error {eventstore: es_consumers is changed only by es_checkpoint_set() and es_clear()}}
  # --- es_member: the documented hash, the same on both
  member.1 {SELECT es_member('order-1:Order', 4), es_member('order-2:Order', 4), es_member('order-3:Order', 4), es_member('a:T', 1000), es_member('x:T', 2147483647)} {3 2 1 570 604088106}
  member.2 {SELECT es_member('ünïcode-Ω:Task', 7), es_member('日本-注文:Order', 100), es_member('c1:Task', 1)} {4 8 0}
  member.3 {SELECT es_member('c1:Task', 0)} {error {es_member: group_size 0 is out of range (it must be 1 or more)}}
  member.4 {SELECT es_member('nocolon', 2)} {error {es_member: stream_id 'nocolon' is not of the form aggregate_id:aggregate_type}}
  # --- snapshots
  snap.1 {SELECT es_snapshot('c1','Task')} {{}}
  snap.2 {SELECT es_snapshot_save('c1','Task',2,'{"n":2}')} {2}
  snap.3 {SELECT es_snapshot_save('c1','Task',1,'{"n":1}')} {2}
  snap.3.1 {SELECT es_snapshot('c1','Task') ->> 'version', es_snapshot('c1','Task') -> 'state' ->> 'n'} {2 2}
  snap.4 {SELECT es_snapshot_save('c1','Task',4,'{"n":4}')} {4}
  snap.4.1 {SELECT es_snapshot('c1','Task') -> 'state' ->> 'n', es_snapshot('c1','Task') ->> 'schema_version'} {4 1}
  snap.5 {SELECT es_snapshot_save('c1','Task',1,'{"shape":2}',2)} {1}
  snap.5.1 {SELECT es_snapshot('c1','Task',2) ->> 'version', es_snapshot('c1','Task') ->> 'version'} {1 4}
  snap.6 {SELECT es_snapshot_save('c1','Task',5,'{}')} {error {es_snapshot_save: version 5 is beyond stream 'c1:Task', which is at version 4}}
  snap.7 {SELECT es_snapshot_save('nope','Task',1,'{}')} {error {es_snapshot_save: stream 'nope:Task' does not exist}}
  snap.8 {SELECT es_snapshot_save('c1','Task',1,'[1]')} {error {es_snapshot_save: state must be a JSON object}}
  snap.9 {SELECT es_snapshot_save('c1','Task',0,'{}')} {error {es_snapshot_save: version 0 is out of range (it must be 1 or more)}}
  snap.10 {SELECT length(es_snapshot('c1','Task') ->> 'stored_at')} {27}
  snap.11 {SELECT es_snapshot_delete('c1','Task')} {2}
  snap.11.1 {SELECT es_snapshot('c1','Task'), es_snapshot_delete('c1','Task')} {{} 0}
  snap.12 {SELECT es_snapshot_save('c2','Task',5,'{"n":5}')} {5}
  snap.13 {DELETE FROM es_snapshots} {error {eventstore: es_snapshots is changed only by es_snapshot_save(), es_snapshot_delete() and es_clear()}}
  # --- the store checks out
  verify.1 {SELECT es_verify() -> 'ok', es_verify() ->> 'events', es_verify() ->> 'global_position'} {true 16 16}
  info.1 {SELECT es_info() ->> 'version'} {1.0.0}
}

# (The comment lines of the list above are dropped here.)
set ::contract_cases [join [lsearch -all -inline -not -regexp \
    [split $::contract_cases_text \n] {^\s*#}] \n]

# Run every case with the runner's contract_run; report each through
# do_test, named contract-<case>.
proc contract_all {} {
  foreach {name sql expected} $::contract_cases {
    if {[llength $sql] == 4 && [lindex $sql 0] eq "sqlite"} {
      set sql [dict get $sql $::contract_backend]
    }
    if {[lindex $expected 0] eq "error"} {
      set want [list 1 [lindex $expected 1]]
    } else {
      set want [list 0 $expected]
    }
    do_test $name [list contract_run $sql] $want
  }
}
