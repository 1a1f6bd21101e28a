# race_worker.tcl -- one of the processes of race.test.
#
#   tclsh race_worker.tcl EXTENSION DBFILE WORKER ROUNDS MODE
#
# MODE "fixed": round r appends to stream r with expected version 0.
# MODE "read":  every round reads stream "hot"'s version and appends at it.
# Prints one line per round: "ok <global_position>" for an append it was
# told succeeded, "conflict" or "error <message>".
package require sqlite3
lassign $argv ext path worker rounds mode
sqlite3 db $path
db enable_load_extension 1
db eval {SELECT load_extension($ext)}
db timeout 10000
# Wait for the start signal so that the workers begin together.
while {![file exists $path.go]} { after 1 }
for {set r 0} {$r < $rounds} {incr r} {
  if {$mode eq "fixed"} {
    set id "s$r"
    set v 0
  } else {
    set id hot
    set v [db eval {SELECT es_version('hot','T')}]
  }
  set data "{\"worker\":$worker,\"round\":$r}"
  if {[catch {db eval {SELECT es_append($id,'T',$v,'E',$data)->>'global_position'}} msg]} {
    if {[string match "*version conflict*" $msg]} {
      puts conflict
    } else {
      puts "error $msg"
    }
  } else {
    puts "ok $msg"
  }
}
db close
