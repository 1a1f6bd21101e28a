# amalgamate.tcl -- write the single-file build: dist/eventstore.c and
# dist/eventstore.h (make amalgamation).
#
#   tclsh tool/amalgamate.tcl VERSION
#
# dist/eventstore.c is the public header, the internal header and every
# source file of ext/ and vtab/, in the order of the Makefile's EXT_SRC,
# with their #include lines of project headers taken out.  It builds the
# loadable module by itself:
#     cc -O2 -shared -fPIC dist/eventstore.c -o eventstore.so -luuid -lm
# and compiles into a program with -DSQLITE_CORE (as FTS5's fts5.c and
# sqlite-vec's amalgamation do).
#
# Every internal function and table is made static, as SQLite's own
# amalgamation does with SQLITE_PRIVATE, so that the one file exports one
# symbol, sqlite3_eventstore_init, and a program that links it in can have
# functions of any name: in the internal header each declaration of an
# es* function or object gets `static`, and so does the definition of each
# object (a function's definition takes its linkage from the declaration;
# an object's would clash).  The test (test/dist.test) checks that nm
# shows nothing else.
set topdir [file dirname [file dirname [file normalize [info script]]]]
set version [lindex $argv 0]

proc slurp {path} {
  set fd [open $path]
  set s [read $fd]
  close $fd
  return $s
}

# The sources, in the Makefile's order.
set mk [slurp [file join $topdir Makefile]]
if {![regexp {EXT_SRC\s*=((?:[^\n]*\\\n)*[^\n]*)} $mk -> srcList]} {
  error "Makefile: no EXT_SRC"
}
set sources [regexp -all -inline {\S+\.c} $srcList]

# The internal header, with its declarations made static.
set objects {}
set internal {}
foreach line [split [slurp [file join $topdir ext es_internal.h]] \n] {
  if {[regexp {^extern (.*\m(es[A-Z][A-Za-z0-9]*)\[.*)$} $line -> rest name]} {
    lappend objects $name
    set line "static $rest"
  } elseif {[regexp {^(const )?[A-Za-z_][A-Za-z0-9_]*[ *]+es[A-Z][A-Za-z0-9]*\(} $line]} {
    set line "static $line"
  }
  lappend internal $line
}
set internal [join $internal \n]

set out [open [file join $topdir dist eventstore.c] w]
fconfigure $out -translation lf
puts $out "/*
** eventstore.c -- eventstore $version in one file (make amalgamation).
** Do not edit: it is generated from ext/ and vtab/ by tool/amalgamate.tcl.
**
**   cc -O2 -shared -fPIC eventstore.c -o eventstore.so -luuid -lm
**   cc -DSQLITE_CORE -c eventstore.c      (into a program: see eventstore.h)
*/
#define ES_ENTRY_FILE"
puts $out "/************** eventstore.h **************/"
puts $out [slurp [file join $topdir ext eventstore.h]]
puts $out "/************** es_internal.h **************/"
puts $out $internal
foreach src $sources {
  set text [slurp [file join $topdir $src]]
  # Project headers are already above; system headers stay.
  regsub -all -line {^#include "[^"]*(es_internal|eventstore)\.h"\n} $text {} text
  # SQLITE_EXTENSION_INIT1, but private: the module exports only its entry
  # point (the Makefile's build gets the same with -fvisibility=hidden).
  regsub -all -line {^SQLITE_EXTENSION_INIT1$} $text \
      "#ifndef SQLITE_CORE\nstatic const sqlite3_api_routines *sqlite3_api = 0;\n#endif" text
  foreach name $objects {
    # The definition of an object declared static above.
    regsub -all -line "^(const \[^\n;(\]*\\m$name\\\[)" $text {static \1} text
  }
  puts $out "/************** $src **************/"
  puts $out $text
}
close $out

set hdr [open [file join $topdir dist eventstore.h] w]
fconfigure $hdr -translation lf
puts -nonewline $hdr [slurp [file join $topdir ext eventstore.h]]
close $hdr
puts "dist/eventstore.c: [llength $sources] files, eventstore $version"
