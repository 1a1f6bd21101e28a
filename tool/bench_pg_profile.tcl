# bench_pg_profile.tcl -- where an append's time goes on PostgreSQL.
#   tclsh tool/bench_pg_profile.tcl [--appends N]      (make bench-pg-profile)
#
# On a throwaway cluster (test/pg.tcl) with pg_stat_statements loaded and
# track_functions = all, pgbench runs N appends of one event each, every
# one its own transaction (P1b's shape, 500 streams), once through the
# twin's es_append and once as the hand-written statements of
# tool/bench_pg.c (lock the counter row and read the version, INSERT,
# bump the counter), each on a fresh schema.  It prints both rates and
# their ratio, then, for the twin, the time of each PL/pgSQL function
# (self and total, per call) and of the statements run inside them
# (pg_stat_statements.track = all), so that docs/postgres.md can say
# where the time goes; and the plan of P2's read of one stream on each
# side.
set top [file dirname [file dirname [file normalize [info script]]]]
cd $top
source [file join $top test pg.tcl]

set nAppend 5000
if {[lindex $argv 0] eq "--appends"} { set nAppend [lindex $argv 1] }

pg_start profile [list "shared_buffers = 256MB" "synchronous_commit = on" \
                       "shared_preload_libraries = 'pg_stat_statements'" \
                       "pg_stat_statements.track = all" \
                       "track_functions = all"]

# psql as the cluster's superuser, with ON_ERROR_STOP.
proc psql {args} {
  pg_as_server $::pg_bindir/psql -X -q -v ON_ERROR_STOP=1 \
      -h 127.0.0.1 -p $::pg_port -U postgres -d postgres {*}$args
}

# pgbench's rate (transactions per second, without connection time).
proc pgbench_tps {script} {
  set f [file join $::pg_dir bench.sql]
  set fd [open $f w]; puts $fd $script; close $fd
  file attributes $f -permissions 0644
  set out [pg_as_server $::pg_bindir/pgbench -n -M prepared -c 1 \
               -t $::nAppend -f $f -h 127.0.0.1 -p $::pg_port -U postgres postgres]
  if {![regexp {tps = ([0-9.]+) \(without initial connection time\)} $out -> tps]} {
    error "pgbench: no rate in:\n$out"
  }
  return $tps
}

set rc [catch {
  psql -c "CREATE EXTENSION pg_stat_statements"
  psql -c "CREATE SCHEMA bench_ext" -c "SET search_path = bench_ext" \
       -f [file join $top sql postgres eventstore.sql]
  psql -c "ALTER ROLE postgres SET search_path = bench_ext, bench_hand, public"
  psql -c "CREATE SCHEMA bench_hand" -c "SET search_path = bench_hand" \
       -c "CREATE TABLE counter(id int PRIMARY KEY, n bigint NOT NULL)" \
       -c "INSERT INTO counter VALUES (1, 0)" \
       -c "CREATE TABLE events(global_position bigint PRIMARY KEY,
             stream_id text NOT NULL, stream_position int NOT NULL,
             event_id uuid NOT NULL UNIQUE, event_type text NOT NULL,
             payload jsonb NOT NULL, created_at timestamptz NOT NULL,
             UNIQUE (stream_id, stream_position))"
  set data {{"sku":"SKU-1","quantity":2,"price":1999,"note":"a line of an order"}}

  psql -c "SELECT pg_stat_statements_reset(), pg_stat_reset()"
  set tpsExt [pgbench_tps [string map [list @DATA@ $data] {
\set s random(1, 500)
SELECT bench_ext.es_append('order-' || :s, 'Order', -1, 'OrderLineAdded', '@DATA@'::json);
}]]
  # Function and statement times of the twin's run, before the hand run.
  set funcs [psql -A -F " | " -c "
    SELECT funcname, calls,
           round((self_time * 1000 / calls)::numeric, 1) AS self_us,
           round((total_time * 1000 / calls)::numeric, 1) AS total_us
      FROM pg_stat_user_functions WHERE calls > 0
     ORDER BY self_time DESC LIMIT 12"]
  set stmts [psql -A -F " | " -c "
    SELECT calls, round((total_exec_time * 1000 / calls)::numeric, 1) AS us,
           regexp_replace(left(query, 90), '\\s+', ' ', 'g') AS statement
      FROM pg_stat_statements WHERE calls >= $nAppend
     ORDER BY total_exec_time DESC LIMIT 12"]

  set tpsHand [pgbench_tps [string map [list @DATA@ $data] {
\set s random(1, 500)
BEGIN;
SELECT c.n AS n, coalesce((SELECT max(stream_position) FROM bench_hand.events WHERE stream_id = 'order-' || :s), 0) AS v FROM bench_hand.counter c WHERE id = 1 FOR UPDATE \gset
INSERT INTO bench_hand.events VALUES (:n + 1, 'order-' || :s, :v + 1, gen_random_uuid(), 'OrderLineAdded', '@DATA@'::jsonb, clock_timestamp());
UPDATE bench_hand.counter SET n = :n + 1 WHERE id = 1;
COMMIT;
}]]
  # One stream read both ways (P2's query), planned and timed.
  set plans {}
  foreach {side sql} {
    twin {SELECT global_position, stream_id, stream_position, event_id, event_type, data, occurred_at FROM bench_ext.event_stream('order-7:Order')}
    hand-written {SELECT global_position, stream_id, stream_position, event_id, event_type, payload, created_at FROM bench_hand.events WHERE stream_id = 'order-7' ORDER BY stream_position}
  } {
    psql -c "VACUUM ANALYZE"
    append plans "\n$side:\n" [psql -A -t -c "EXPLAIN (ANALYZE, COSTS off) $sql"] "\n"
  }
  puts "appends of one event, each its own transaction, $nAppend of each, one client"
  puts [format "twin %.0f/s, hand-written %.0f/s, ratio %.2f" $tpsExt $tpsHand \
            [expr {$tpsExt / $tpsHand}]]
  puts "\nthe twin's functions, by self time (µs per call):\n$funcs"
  puts "\nstatements run $nAppend times or more, by total time (µs per call):\n$stmts"
  puts "\none stream read (P2's query), EXPLAIN ANALYZE:$plans"
} err]
pg_stop
if {$rc} { puts stderr $err; exit 1 }
