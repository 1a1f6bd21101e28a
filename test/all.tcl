# all.tcl -- run every test file and print "N passed, N failed".
#
# Each *.test file runs in a tclsh process of its own (under valgrind when
# ES_VALGRIND is set), so that one file cannot disturb another.  Exits
# non-zero if any test fails or any file fails to finish.

set testdir [file dirname [file normalize [info script]]]
set files [lsort [glob -directory $testdir *.test]]
if {[llength $argv] > 0} {
  set files {}
  foreach a $argv { lappend files [file normalize $a] }
}

# A file that does not finish in its time is killed and counted as
# failed: a broken guarantee can make a test loop (a scan that never ends),
# and CI must end.  Under valgrind everything runs some 30 times slower.
set limit 600
set cmd [list [info nameofexecutable]]
if {[info exists env(ES_VALGRIND)]} {
  set limit 1800
  set cmd [list valgrind -q --leak-check=full --show-leak-kinds=definite \
               --errors-for-leak-kinds=definite \
               --error-exitcode=1 --suppressions=$testdir/valgrind.supp \
               [info nameofexecutable]]
}
set cmd [list timeout --kill-after=10 $limit {*}$cmd]

set nPass 0
set nFail 0
set broken {}
set t0 [clock milliseconds]
foreach f $files {
  set tail [file tail $f]
  set rc [catch {exec {*}$cmd $f 2>@1} out opts]
  set result ""
  foreach line [split $out \n] {
    if {[string match "RESULT *" $line]} {
      set result $line
    } elseif {$line ne ""} {
      puts $line
    }
  }
  if {$result eq ""} {
    set why [dict get $opts -errorcode]
    if {[lindex $why 0] eq "CHILDSTATUS" && [lindex $why 2] == 124} {
      set why "killed after $limit s"
    }
    puts "!! $tail did not finish ($why)"
    lappend broken $tail
    incr nFail
    continue
  }
  lassign $result - p fl
  incr nPass $p
  incr nFail $fl
  if {$rc && $fl == 0} {
    # The tests passed but the process failed: valgrind or a sanitizer.
    puts "!! $tail: tests passed but the process exited with an error"
    lappend broken $tail
    incr nFail
  }
}
set secs [expr {([clock milliseconds] - $t0) / 1000.0}]
if {[llength $broken]} { puts "broken files: $broken" }
puts "([llength $files] files, $secs s)"
puts "$nPass passed, $nFail failed"
exit [expr {$nFail > 0}]
