# pg_worker.tcl -- one process of pg_concurrency.test.
#
#   tclsh pg_worker.tcl CONNINFO ROLE ID SECONDS
#
# ROLE "writer": until SECONDS have passed, append to a shared stream
#   (shared-0..3:T) or to its own (w<ID>:T): read the version, then
#   append at it.  Prints "ok STREAM POSITION GLOBAL" for every append it
#   was told succeeded and "conflict STREAM EXPECTED ACTUAL" for every
#   version conflict.
# ROLE "consumer": one of several instances of one consumer 'proj': read
#   the checkpoint and up to 20 events after it, then in one transaction
#   record them in public.handled and move the checkpoint by
#   compare-and-set; a refusal (ES409: another instance moved it) rolls
#   the transaction back.  Runs past SECONDS until it has caught up with
#   the head (the writers stop at SECONDS).  Prints "batch N" per
#   committed batch and "refused" per refusal.
# ROLE "reader": poll event_all from its checkpoint (global_position >
#   checkpoint ORDER BY global_position LIMIT 50), as a projection does.
#   Prints "gap CHECKPOINT FIRST" whenever the rows do not start right
#   after the checkpoint or skip a position, and "read N" at the end.
package require Pgtcl
lassign $argv conninfo role id seconds
set c [pg_connect -conninfo $conninfo]
set r [pg_exec $c "SET search_path = es"]; pg_result $r -clear
set deadline [expr {[clock milliseconds] + int($seconds*1000)}]
proc q {sql} {
  set r [pg_exec $::c $sql]
  set st [pg_result $r -status]
  set out [list $st [pg_result $r -error sqlstate] [pg_result $r -error primary] \
               [concat {*}[pg_result $r -llist]]]
  pg_result $r -clear
  return $out
}
expr {srand($id * 7919)}
if {$role eq "writer"} {
  set n 0
  while {[clock milliseconds] < $deadline} {
    if {rand() < 0.5} { set s "shared-[expr {int(rand()*4)}]" } else { set s "w$id" }
    lassign [q "SELECT es_version('$s','T')"] st - - v
    set data "{\"w\":$id,\"n\":[incr n]}"
    lassign [q "SELECT es_append('$s','T',$v,'E','$data') ->> 'global_position'"] st code msg g
    if {$st eq "PGRES_TUPLES_OK"} {
      puts "ok $s [expr {$v + 1}] $g"
    } elseif {$code eq "ES409" && [regexp {actual version (\d+)} $msg -> actual]} {
      puts "conflict $s $v $actual"
    } else {
      puts "error $code $msg"
    }
  }
} elseif {$role eq "consumer"} {
  while 1 {
    lassign [q "SELECT es_checkpoint('proj')"] st - - cp
    lassign [q "SELECT global_position FROM event_all WHERE global_position > $cp
                ORDER BY global_position LIMIT 20"] st code msg rows
    if {$st ne "PGRES_TUPLES_OK"} { puts "error $code $msg"; break }
    if {[llength $rows] == 0} {
      if {[clock milliseconds] >= $deadline + 500} break
      q "SELECT es_wait($cp, 100)"
      continue
    }
    after [expr {int(rand()*5)}]
    q "BEGIN"
    foreach g $rows { q "INSERT INTO public.handled VALUES ($g, $id)" }
    lassign [q "SELECT es_checkpoint_set('proj', [lindex $rows end], $cp)"] st code msg
    if {$st eq "PGRES_TUPLES_OK"} {
      q "COMMIT"
      puts "batch [llength $rows]"
    } elseif {$code eq "ES409"} {
      q "ROLLBACK"
      puts "refused"
    } else {
      q "ROLLBACK"
      puts "error $code $msg"
      break
    }
  }
} else {
  set ckpt 0
  set nRead 0
  while {[clock milliseconds] < $deadline} {
    lassign [q "SELECT global_position FROM event_all WHERE global_position > $ckpt
                ORDER BY global_position LIMIT 50"] st code msg rows
    if {$st ne "PGRES_TUPLES_OK"} { puts "error $code $msg"; break }
    set want [expr {$ckpt + 1}]
    foreach g $rows {
      if {$g != $want} { puts "gap $ckpt $g"; break }
      incr want
    }
    if {[llength $rows]} { set ckpt [lindex $rows end] }
    incr nRead [llength $rows]
  }
  puts "read $nRead"
}
pg_disconnect $c
