# busy_holder.tcl -- a second process for busy.test.
#
#   tclsh busy_holder.tcl EXTENSION DBFILE MODE MS
#
# MODE "hold":   BEGIN IMMEDIATE, append one event to stream holder:T, print
#                "ready", hold the write lock MS milliseconds, COMMIT.
# MODE "append": append one event to stream holder:T, print "ready", exit.
package require sqlite3
lassign $argv ext path mode ms
sqlite3 db $path
db enable_load_extension 1
db eval {SELECT load_extension($ext)}
db timeout 10000
if {$mode eq "hold"} {
  db eval {BEGIN IMMEDIATE; SELECT es_append('holder','T',-1,'Held','{}')}
  puts ready; flush stdout
  after $ms
  db eval COMMIT
} else {
  db eval {SELECT es_append('holder','T',-1,'Appended','{}')}
  puts ready; flush stdout
}
db close
