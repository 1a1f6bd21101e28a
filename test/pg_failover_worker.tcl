# pg_failover_worker.tcl -- one client of pg_failover.test.
#
#   tclsh pg_failover_worker.tcl CONNINFO ROLE ID SECONDS
#
# ROLE "writer": until SECONDS have passed, append batches of two events
#   to its own stream w<ID>:T at the version it knows.  CONNINFO names both
#   servers with target_session_attrs=read-write, so that when the primary
#   is gone the client finds the promoted standby.  A batch whose answer
#   was lost (the connection broke) is sent again, with the same event ids
#   and the same expected version: es_append answers a retry of a stored
#   batch with its original result, so nothing is stored twice.  Prints
#   "ack MS VERSION GLOBAL ID1 ID2" for every append it was told succeeded
#   (MS: milliseconds on the clock at the answer) and "lost MS" when a
#   connection broke.
# ROLE "reader": polls the standby (CONNINFO names it alone) the way a
#   projection does, from its checkpoint, and prints "gap ..." when the rows
#   do not start right after it or skip a position, "half ..." when they end
#   in the middle of a batch (every batch is two events, so a reader must
#   see both or neither), and "read N" at the end.
package require Pgtcl
lassign $argv conninfo role id seconds
set deadline [expr {[clock milliseconds] + int($seconds*1000)}]
set c ""

proc connect {} {
  while {[clock milliseconds] < $::deadline + 20000} {
    if {![catch {pg_connect -conninfo $::conninfo} c]} {
      set r [pg_exec $c "SET search_path = es"]; pg_result $r -clear
      return $c
    }
    after 50
  }
  puts "error cannot connect"
  exit 1
}

# {status sqlstate message rows}; status "lost" when the connection broke.
proc q {sql} {
  if {[catch {pg_exec $::c $sql} r]} { return [list lost {} $r {}] }
  set st [pg_result $r -status]
  set out [list $st [pg_result $r -error sqlstate] [pg_result $r -error primary] \
               [concat {*}[pg_result $r -llist]]]
  pg_result $r -clear
  if {$st eq "PGRES_FATAL_ERROR" && [lindex $out 1] eq ""} { lset out 0 lost }
  if {[lindex $out 1] in {57P01 57P02 57P03 25006}} { lset out 0 lost }
  return $out
}

proc uuid {} {
  format %08x-%04x-4%03x-8%03x-%012llx [expr {int(rand()*0xffffffff)}] \
    [expr {int(rand()*0xffff)}] [expr {int(rand()*0xfff)}] [expr {int(rand()*0xfff)}] \
    [expr {wide(rand()*0xffffffffffff)}]
}

expr {srand([pid] + $id)}
set c [connect]
if {$role eq "writer"} {
  set version 0
  set n 0
  while {[clock milliseconds] < $deadline} {
    set a [uuid]; set b [uuid]
    set batch "\[{\"event_type\":\"First\",\"event_id\":\"$a\",\"data\":{\"w\":$id,\"n\":[incr n]}},\
               {\"event_type\":\"Second\",\"event_id\":\"$b\",\"data\":{\"w\":$id,\"n\":$n}}\]"
    while 1 {
      lassign [q "SELECT es_append('w$id', 'T', $version, '$batch') ->> 'global_position'"] st code msg g
      if {$st eq "PGRES_TUPLES_OK"} {
        incr version 2
        puts "ack [clock milliseconds] $version $g $a $b"
        flush stdout
        break
      }
      if {$st eq "lost"} {
        puts "lost [clock milliseconds]"
        flush stdout
        catch {pg_disconnect $c}
        set c [connect]
        continue
      }
      puts "error $code $msg"
      exit 1
    }
  }
} else {
  set ckpt 0
  set nRead 0
  while {[clock milliseconds] < $deadline} {
    lassign [q "SELECT global_position, stream_position FROM event_all
                WHERE global_position > $ckpt ORDER BY global_position"] st code msg rows
    if {$st eq "lost"} {
      catch {pg_disconnect $c}
      set c [connect]
      continue
    }
    if {$st ne "PGRES_TUPLES_OK"} { puts "error $code $msg"; exit 1 }
    set expect [expr {$ckpt + 1}]
    foreach {g sp} $rows {
      if {$g != $expect} { puts "gap $ckpt $g"; break }
      incr expect
      incr nRead
    }
    if {[llength $rows] > 0} {
      if {[lindex $rows end] % 2 != 0} { puts "half [lindex $rows end-1] [lindex $rows end]" }
      set ckpt [lindex $rows end-1]
    }
    after 5
  }
  puts "read $nRead"
}
