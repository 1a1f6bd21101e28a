# pg.tcl -- a throwaway PostgreSQL cluster for the PostgreSQL tests.
#
#   source [file join [file dirname [info script]] pg.tcl]
#   pg_start             ;# initdb in build/tmp, a free port on 127.0.0.1
#   set c [pg_db test]   ;# a new database with eventstore.sql installed
#   pg_sql $c {SELECT es_version('a','T')}      ;# rows, or an error
#   pg_catch $c {...}    ;# {0 rows} or {1 {SQLSTATE message}}
#   pg_stop              ;# also at exit, whatever happened
#
# The cluster runs as the postgres user when the tests run as root (the
# server refuses to run as root).  Debian's postgresql-15 provides the
# server, libpgtcl the Tcl interface (tool/deps.sh installs both).
package require Pgtcl

set ::pg_bindir /usr/lib/postgresql/15/bin
set ::pg_dir ""
set ::pg_port 0
set ::pg_script [file join [file dirname [file dirname [file normalize [info script]]]] \
                   sql postgres eventstore.sql]

proc pg_as_server {args} {
  if {[exec id -u] == 0} {
    return [exec runuser -u postgres -- {*}$args 2>@1]
  }
  return [exec {*}$args 2>@1]
}

# A port nothing listens on now.
proc pg_free_port {} {
  set s [socket -server {apply {{c a p} {close $c}}} -myaddr 127.0.0.1 0]
  set port [lindex [fconfigure $s -sockname] 2]
  close $s
  return $port
}

proc pg_start {{name main} {extra {}}} {
  set dir [file join [file dirname [file dirname [file normalize [info script]]]] \
             build tmp pg-$name-[pid]]
  file delete -force $dir
  file mkdir $dir
  if {[exec id -u] == 0} { exec chown postgres:postgres $dir }
  pg_as_server $::pg_bindir/initdb -D $dir/data -U postgres -A trust \
      --no-sync -E UTF8 --locale=C.UTF-8
  set port [pg_free_port]
  set conf [open $dir/data/postgresql.conf a]
  puts $conf "listen_addresses = '127.0.0.1'"
  puts $conf "port = $port"
  puts $conf "unix_socket_directories = '$dir'"
  puts $conf "fsync = off"
  puts $conf "max_connections = 50"
  foreach line $extra { puts $conf $line }
  close $conf
  pg_as_server $::pg_bindir/pg_ctl -D $dir/data -l $dir/log -w -t 60 start
  set ::pg_dir $dir
  set ::pg_port $port
  lappend ::pg_clusters $dir
  return $port
}

proc pg_stop {} {
  if {![info exists ::pg_clusters]} return
  foreach dir $::pg_clusters {
    catch {pg_as_server $::pg_bindir/pg_ctl -D $dir/data -m immediate -w stop}
  }
  set ::pg_clusters {}
}

# Stop every cluster at exit, however the test file ends.
rename exit pg_real_exit
proc exit {{code 0}} {
  pg_stop
  pg_real_exit $code
}

proc pg_conninfo {{db postgres} {user postgres}} {
  return "host=127.0.0.1 port=$::pg_port dbname=$db user=$user"
}

proc pg_connect_to {{db postgres} {user postgres}} {
  return [pg_connect -conninfo [pg_conninfo $db $user]]
}

# Run sql on connection c: its rows as a flat list, or a Tcl error
# "SQLSTATE message".
proc pg_sql {c sql} {
  set r [pg_exec $c $sql]
  set status [pg_result $r -status]
  if {$status ne "PGRES_TUPLES_OK" && $status ne "PGRES_COMMAND_OK"} {
    set msg "[pg_result $r -error sqlstate] [pg_result $r -error primary]"
    pg_result $r -clear
    error $msg
  }
  set rows {}
  if {$status eq "PGRES_TUPLES_OK"} { set rows [concat {*}[pg_result $r -llist]] }
  pg_result $r -clear
  return $rows
}

proc pg_catch {c sql} {
  set rc [catch {pg_sql $c $sql} out]
  list $rc $out
}

# A fresh database with eventstore.sql installed into schema es (the
# plain-script way), and a connection to it with search_path set.
proc pg_db {name} {
  set admin [pg_connect_to]
  pg_sql $admin "SET client_min_messages = warning"
  pg_sql $admin "DROP DATABASE IF EXISTS $name"
  pg_sql $admin "CREATE DATABASE $name"
  pg_disconnect $admin
  set c [pg_connect_to $name]
  set fd [open $::pg_script]; set script [read $fd]; close $fd
  pg_sql $c "CREATE SCHEMA es; SET search_path = es"
  pg_sql $c $script
  return $c
}
