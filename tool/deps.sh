#!/bin/sh
# deps.sh -- make sure everything eventstore builds and tests with is
# installed.  Run by `make test` and `make demo`; `make valgrind` and
# `make fuzz` name the extra Debian packages they need as arguments.
#
# On Debian: installs what is missing with apt-get when run as root, and
# otherwise prints the exact apt-get line to run and fails.  Then, for the
# Node test, better-sqlite3 from the npm registry into build/node (it
# builds its native module from source, about a minute, once).
set -eu
cd "$(dirname "$0")/.."

PACKAGES="sqlite3 libsqlite3-dev tcl libsqlite3-tcl uuid-dev python3
          python3-venv python3-asyncpg procps
          postgresql-15 postgresql-server-dev-15 libpq-dev libpgtcl $*"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
      *"install ok installed"*) ;;
      *) missing="$missing $p" ;;
    esac
  done
  # Node.js and npm: Debian's packages, unless a Node.js is installed
  # already (some machines carry a newer one of their own).
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
  fi
else
  # Not Debian: check for what the packages provide.
  command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
  [ -f /usr/include/sqlite3.h ] || missing="$missing libsqlite3-dev"
  command -v tclsh >/dev/null 2>&1 || missing="$missing tcl"
  echo 'package require sqlite3' | tclsh >/dev/null 2>&1 || missing="$missing libsqlite3-tcl"
  echo 'package require Pgtcl' | tclsh >/dev/null 2>&1 || missing="$missing libpgtcl"
  [ -x /usr/lib/postgresql/15/bin/postgres ] || missing="$missing postgresql-15"
  [ -f /usr/include/uuid/uuid.h ] || missing="$missing uuid-dev"
  command -v node >/dev/null 2>&1 || missing="$missing nodejs"
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
  if [ -n "$missing" ]; then
    echo "eventstore: missing:$missing (install the equivalents of these Debian packages)" >&2
    exit 1
  fi
fi

if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "eventstore: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >/dev/null
  else
    echo "eventstore: these packages are missing:$missing" >&2
    echo "eventstore: install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi

# better-sqlite3 for test/node.test: version 12 needs Node.js 20 or
# later, 11 runs on Debian's Node.js 18.
if [ ! -f build/node/node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  version=12
  [ "$major" -lt 20 ] && version=11
  echo "eventstore: installing better-sqlite3@$version from the npm registry into build/node"
  mkdir -p build/node
  if ! npm install --prefix build/node --no-audit --no-fund --loglevel=error \
       "better-sqlite3@$version" >build/node/npm.log 2>&1; then
    tail -n 20 build/node/npm.log >&2
    echo "eventstore: npm install better-sqlite3@$version failed (log: build/node/npm.log)" >&2
    exit 1
  fi
fi
exit 0
