# mutate.tcl -- break each guarantee on purpose and see which tests catch it.
#
#   tclsh tool/mutate.tcl [NAME ...]        (make mutate)
#   tclsh tool/mutate.tcl --check            (test/mutations.test)
#
# For each mutation below: copy the sources into build/mutate/NAME, make
# the one change (the text must occur exactly once), build, run the whole
# suite there, and report the tests that failed.  A mutation that no test
# catches is a hole in the suite: it gets a test.  The results go to
# build/mutate/report.md, in the form test/README.md lists them.  --check
# only says whether every mutation still applies to the sources (its text
# occurs exactly once), so that a change that moves the text is noticed by
# `make test` rather than by the next `make mutate`.
set top [file dirname [file dirname [file normalize [info script]]]]
cd $top

# The mutations: tool/mutations.txt (see its head for the format).
proc readMutations {path} {
  set fd [open $path]; set text [read $fd]; close $fd
  set list {}
  set name ""
  foreach line [split $text \n] {
    if {[regexp {^=== (\S+)$} $line -> n]} {
      if {$name ne ""} { lappend list $name $file $old $new $what }
      set name $n; set file ""; set what ""; set old {}; set new {}; set part ""
    } elseif {$name eq "" || [string match "#*" $line] && $part eq ""} {
      continue
    } elseif {[regexp {^file: (.*)$} $line -> file]} {
    } elseif {[regexp {^breaks: (.*)$} $line -> what]} {
    } elseif {$line eq "--- old"} { set part old
    } elseif {$line eq "--- new"} { set part new
    } elseif {$part ne ""} { lappend $part $line }
  }
  if {$name ne ""} { lappend list $name $file $old $new $what }
  set out {}
  foreach {n f o w b} $list {
    # Blank lines between blocks are not part of the replacement.
    while {[llength $w] && [lindex $w end] eq ""} { set w [lrange $w 0 end-1] }
    lappend out $n $f [join $o \n] [join $w \n] $b
  }
  return $out
}
set mutations [readMutations [file join $top tool mutations.txt]]

proc occurrences {hay needle} {
  set n 0
  set i 0
  while {[set j [string first $needle $hay $i]] >= 0} {
    incr n
    set i [expr {$j + 1}]
  }
  return $n
}

if {[lindex $argv 0] eq "--check"} {
  set nBad 0
  foreach {name file old new what} $mutations {
    if {[catch {set fd [open $file]; set src [read $fd]; close $fd}]} {
      puts "$name: no file $file"
      incr nBad
      continue
    }
    set n [occurrences $src $old]
    if {$n != 1} {
      puts "$name: the text occurs $n times in $file"
      incr nBad
    }
  }
  puts "[expr {[llength $mutations] / 5}] mutations, $nBad that do not apply"
  exit [expr {$nBad > 0}]
}

set only $argv
file mkdir build/mutate
set report [open build/mutate/report.md w]
puts $report "| mutation | breaks | caught by |"
puts $report "|---|---|---|"
set nMissed 0
foreach {name file old new what} $mutations {
  if {[llength $only] && [lsearch -exact $only $name] < 0} continue
  set dir [file join build mutate $name]
  file delete -force $dir
  file mkdir $dir $dir/build
  foreach f [glob -nocomplain *] {
    if {$f ne "build"} { file copy $f $dir/$f }
  }
  if {[file exists build/node]} { file link -symbolic $dir/build/node [file normalize build/node] }
  # mutations.test checks that each mutation applies to unchanged sources:
  # in a mutated tree it would fail whatever the mutation breaks.
  file delete $dir/test/mutations.test
  set fd [open $dir/$file]; set src [read $fd]; close $fd
  set n [occurrences $src $old]
  if {$n != 1} { error "$name: the text occurs $n times in $file" }
  set at [string first $old $src]
  set src [string replace $src $at [expr {$at + [string length $old] - 1}] $new]
  set fd [open $dir/$file w]; puts -nonewline $fd $src; close $fd
  puts "== $name ($what)"
  if {[catch {exec make -s -j2 -C $dir test-programs 2>@1} out]} {
    puts "$name: does not build:\n$out"
    exit 1
  }
  catch {exec [info nameofexecutable] $dir/test/all.tcl 2>@1} out
  set caught {}
  foreach line [split $out \n] {
    if {[regexp {^! (\S+) failed} $line -> t]} { lappend caught $t }
    if {[regexp {^!! (\S+) did not finish} $line -> t]} { lappend caught "$t (did not finish)" }
  }
  if {[llength $caught] == 0} { incr nMissed }
  set shown [lrange $caught 0 5]
  if {[llength $caught] > 6} { lappend shown "and [expr {[llength $caught]-6}] more" }
  set cell [expr {[llength $caught] ? [join $shown ", "] : "**no test**"}]
  puts "   caught by [llength $caught]: $cell"
  puts $report "| $name | $what | $cell |"
  file delete -force $dir
}
close $report
puts "report: build/mutate/report.md; mutations no test caught: $nMissed"
exit [expr {$nMissed > 0}]
