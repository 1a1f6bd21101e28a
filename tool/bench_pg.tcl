# bench_pg.tcl -- run tool/bench --pg on a throwaway PostgreSQL cluster
# (test/pg.tcl: initdb in build/tmp, 127.0.0.1, a free port), then stop it.
#   tclsh tool/bench_pg.tcl [--rounds N] [P1a ...]      (make bench-pg)
set top [file dirname [file dirname [file normalize [info script]]]]
cd $top
source [file join $top test pg.tcl]
pg_start bench [list "shared_buffers = 256MB" "synchronous_commit = on" \
                     "max_wal_size = 4GB" "checkpoint_timeout = 30min"]
set rc [catch {exec tool/bench --pg [pg_conninfo] {*}$argv >@stdout 2>@stderr}]
pg_stop
exit $rc
