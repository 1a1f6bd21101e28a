#!/bin/sh
# demo.sh -- run the tutorial (sql/tutorial.sql) in the sqlite3 shell on an
# in-memory database.  Step 4 provokes a version conflict on purpose; the
# shell reports it (and so exits with status 1).  This script succeeds if
# that conflict is the only error.
set -u
cd "$(dirname "$0")/.."
SQLITE3=${SQLITE3:-sqlite3}
err=$(mktemp)
"$SQLITE3" :memory: -cmd '.load ./eventstore' < sql/tutorial.sql 2>"$err"
cat "$err" >&2
others=$(grep -v "es_append: version conflict on stream '.*:Task': expected version 1, actual version 2" "$err")
nconflict=$(grep -c "version conflict" "$err")
rm -f "$err"
if [ -n "$others" ] || [ "$nconflict" -ne 1 ]; then
  echo "demo: unexpected errors (see above)" >&2
  exit 1
fi
echo "(the error above is step 4's conflict, shown on purpose)" >&2
