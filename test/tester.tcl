# tester.tcl -- a small test harness in the style of SQLite's own.
#
# SQLite's test/tester.tcl needs its testfixture binary; this one runs in
# a plain tclsh with Debian's libsqlite3-tcl.  A test file:
#
#   source [file join [file dirname [info script]] tester.tcl]
#   do_execsql_test 1.1 { SELECT es_version('a','T') } {0}
#   do_catchsql_test 1.2 { SELECT es_append() } {1 {wrong number ...}}
#   finish_test
#
# The database handle `db` is open on an in-memory database with the
# extension loaded.  ES_EXTENSION (environment) names the extension to
# test; the default is ./eventstore.so at the top of the checkout.

package require sqlite3

set ::testdir [file dirname [file normalize [info script]]]
set ::topdir [file dirname $::testdir]
if {[info exists ::env(ES_EXTENSION)]} {
  set ::es_extension [file normalize $::env(ES_EXTENSION)]
} else {
  set ::es_extension [file join $::topdir eventstore.so]
}
if {[info exists ::env(ES_TESTING_EXTENSION)]} {
  set ::es_testing_extension [file normalize $::env(ES_TESTING_EXTENSION)]
} else {
  set ::es_testing_extension [file join $::topdir build testing eventstore.so]
}
# Where the test programs (static_link, oom_test) are: build/, or
# build/asan/ under `make asan`.
if {[info exists ::env(ES_BINDIR)]} {
  set ::es_bindir [file normalize $::env(ES_BINDIR)]
} else {
  set ::es_bindir [file join $::topdir build]
}
# Under `make asan` the sanitizers' runtime is preloaded into tclsh (which
# is not instrumented).  A child that loads the extension needs it too
# (with_extension_env); other programs must not get it: the PostgreSQL
# server, chown, and the test programs linked with the sanitizers already.
if {[info exists ::env(LD_PRELOAD)]} {
  set ::es_preload $::env(LD_PRELOAD)
  unset ::env(LD_PRELOAD)
} else {
  set ::es_preload ""
}
# with_extension_env SCRIPT ?HOST?: HOST "interpreter" (python3, node)
# also turns LeakSanitizer off for the child, which would report the
# interpreter's own allocations still held at exit.
proc with_extension_env {script {host program}} {
  set saved ""
  if {$::es_preload ne ""} {
    set ::env(LD_PRELOAD) $::es_preload
    if {$host eq "interpreter" && [info exists ::env(ASAN_OPTIONS)]} {
      set saved $::env(ASAN_OPTIONS)
      set ::env(ASAN_OPTIONS) "$saved:detect_leaks=0"
    }
  }
  set rc [catch {uplevel 1 $script} out opts]
  catch {unset ::env(LD_PRELOAD)}
  if {$saved ne ""} { set ::env(ASAN_OPTIONS) $saved }
  return -options $opts $out
}

set ::nPass 0
set ::nFail 0
set ::failed {}
# Failures are named after their file, as SQLite's testprefix does:
# vtab_basic-2.1.
set ::testprefix [file rootname [file tail $::argv0]]

# Open database handle $name on $path with the extension loaded.
proc es_open {name path {ext ""}} {
  if {$ext eq ""} { set ext $::es_extension }
  sqlite3 $name $path
  $name enable_load_extension 1
  $name eval {SELECT load_extension($ext)}
  $name enable_load_extension 0
}

# A TEMP view es_ref of the stored events (storage format 2) with one
# column per field, defaults filled in: what tests compare the virtual
# tables with, and read the store through, without depending on how it
# lays the fields out.
proc es_ref_view {{dbh db}} {
  $dbh eval {
    CREATE TEMP VIEW IF NOT EXISTS es_ref AS
    SELECT e.global_position, e.stream_key, e.stream_position,
           s.aggregate_id, s.aggregate_type, e.event_id, k.event_type,
           coalesce(e.event_version, 1) AS event_version, e.tenant_id,
           e.actor_id, e.correlation_id, e.causation_id,
           coalesce(e.occurred_at, e.stored_at) AS occurred_at, e.stored_at,
           e.data, coalesce(e.metadata, '{}') AS metadata, e.kind
    FROM main.es_events e JOIN main.es_streams s USING(stream_key)
    JOIN main.es_kinds k USING(kind)
  }
}

# A fresh scratch file name under build/tmp, removed with its journals.
proc test_file {name} {
  set dir [file join $::topdir build tmp]
  file mkdir $dir
  set path [file join $dir "$name-[pid].db"]
  foreach suffix {"" -wal -shm -journal} { file delete -force $path$suffix }
  return $path
}

proc reset_db {} {
  catch {db close}
  es_open db :memory:
}

proc test_report {name ok got expected} {
  set name "$::testprefix-$name"
  if {$ok} {
    incr ::nPass
  } else {
    incr ::nFail
    lappend ::failed $name
    puts "! $name failed"
    puts "!   expected: \[$expected\]"
    puts "!   got:      \[$got\]"
  }
}

proc do_test {name script expected} {
  set rc [catch {uplevel #0 $script} got]
  if {$rc == 1} { set got "TCL ERROR: $got" }
  test_report $name [expr {$got eq $expected}] $got $expected
}

# Like do_test, but $pattern is a [string match] pattern.
proc do_test_glob {name script pattern} {
  set rc [catch {uplevel #0 $script} got]
  if {$rc == 1} { set got "TCL ERROR: $got" }
  test_report $name [string match $pattern $got] $got $pattern
}

proc do_execsql_test {name sql expected {dbh db}} {
  do_test $name [list $dbh eval $sql] [list {*}$expected]
}

proc catchsql {sql {dbh db}} {
  set rc [catch {uplevel #0 [list $dbh eval $sql]} msg]
  list $rc $msg
}

proc do_catchsql_test {name sql expected {dbh db}} {
  do_test $name [list catchsql $sql $dbh] [list {*}$expected]
}

# The result list of SQL, run in the caller's scope (for $variables).
proc execsql {sql {dbh db}} {
  uplevel 1 [list $dbh eval $sql]
}

proc finish_test {} {
  catch {db close}
  puts "[file tail [info script]]: $::nPass passed, $::nFail failed"
  # The line all.tcl reads.
  puts "RESULT $::nPass $::nFail [join $::failed ,]"
  exit [expr {$::nFail > 0}]
}

es_open db :memory:
