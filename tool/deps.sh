#!/bin/sh
# deps.sh -- make sure the packages eventstore builds and tests with are
# installed.  Run by `make test` and `make demo`; `make valgrind` and
# `make fuzz` name the extra packages they need as arguments.
#
# On Debian: installs what is missing with apt-get when run as root, and
# otherwise prints the exact apt-get line to run and fails.
set -eu

PACKAGES="sqlite3 libsqlite3-dev tcl libsqlite3-tcl uuid-dev $*"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
      *"install ok installed"*) ;;
      *) missing="$missing $p" ;;
    esac
  done
else
  # Not Debian: check for what the packages provide.
  command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
  [ -f /usr/include/sqlite3.h ] || missing="$missing libsqlite3-dev"
  command -v tclsh >/dev/null 2>&1 || missing="$missing tcl"
  echo 'package require sqlite3' | tclsh >/dev/null 2>&1 || missing="$missing libsqlite3-tcl"
  [ -f /usr/include/uuid/uuid.h ] || missing="$missing uuid-dev"
  if [ -n "$missing" ]; then
    echo "eventstore: missing:$missing (install the equivalents of these Debian packages)" >&2
    exit 1
  fi
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "eventstore: installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $missing >/dev/null
  exit 0
fi

echo "eventstore: these packages are missing:$missing" >&2
echo "eventstore: install them with:" >&2
echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
exit 1
