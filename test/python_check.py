# python_check.py -- eventstore as a Python application uses it: loaded
# into Debian's python3 sqlite3 module.  Run by python.test; prints
# "ok <check>" or "FAIL <check>: <detail>" per check.
import sqlite3, sys, json

ext = sys.argv[1]
fails = 0
def check(name, cond, detail=""):
    global fails
    if cond:
        print("ok", name)
    else:
        fails += 1
        print("FAIL", name + ":", detail)

db = sqlite3.connect(":memory:", isolation_level=None)
db.enable_load_extension(True)
db.load_extension(ext)
db.enable_load_extension(False)

r = json.loads(db.execute("SELECT es_append(?,?,?,?,?)",
                          ("t1", "Task", 0, "TaskCreated", '{"title":"x"}')).fetchone()[0])
check("append result", r == {"success": True, "new_version": 1,
                             "global_position": 1, "conflict": False}, r)
try:
    db.execute("SELECT es_append('t1','Task',0,'TaskCreated','{}')").fetchall()
    check("conflict raises", False, "no error")
except sqlite3.Error as e:
    check("conflict extended code", e.sqlite_errorcode == 1043, e.sqlite_errorcode)
    check("conflict message", str(e) == "es_append: version conflict on stream "
          "'t1:Task': expected version 0, actual version 1", str(e))

# The driver's legacy transaction control opens a transaction only before
# INSERT/UPDATE/DELETE, so a SELECT es_append(...) commits at once unless
# the application began a transaction itself.
db2 = sqlite3.connect(":memory:")
db2.enable_load_extension(True)
db2.load_extension(ext)
db2.execute("BEGIN")
db2.execute("SELECT es_append('a','T',0,'E','{}')")
db2.rollback()
check("driver rollback", db2.execute("SELECT es_version('a','T')").fetchone()[0] == 0)
db2.execute("SELECT es_append('a','T',0,'E','{}')")
db2.commit()
check("driver commit", db2.execute("SELECT es_version('a:T')").fetchone()[0] == 1)

rows = db.execute("SELECT global_position, stream_id, event_type, data->>'title' "
                  "FROM event_stream WHERE aggregate_id=? AND aggregate_type=?",
                  ("t1", "Task")).fetchall()
check("read back", rows == [(1, "t1:Task", "TaskCreated", "x")], rows)
check("verify", json.loads(db.execute("SELECT es_verify()").fetchone()[0])["ok"] is True)

# Messages that quote an input are valid UTF-8 (a cut inside a character
# made Python raise UnicodeDecodeError instead of showing the message).
try:
    db.execute("SELECT es_append('q', ?, 0, 'E', '{}')", ("x" + "\u00c4" * 60,)).fetchall()
    check("utf8 message raises", False, "no error")
except sqlite3.Error as e:
    check("utf8 message", str(e) == "es_append: aggregate_type 'x" + "\u00c4" * 31 +
          "...' is not a valid type name (1-255 letters, digits, '_', '.' or '-')", str(e))
except UnicodeDecodeError as e:
    check("utf8 message", False, repr(e))

# A read-then-append in a deferred transaction while another connection
# appends: SQLITE_BUSY_SNAPSHOT (517) is kept, with a message that says
# what to do instead of "database is locked".
import os, tempfile
path = os.path.join(tempfile.mkdtemp(), "busy.db")
a = sqlite3.connect(path, isolation_level=None)
b = sqlite3.connect(path, isolation_level=None)
for c in (a, b):
    c.enable_load_extension(True)
    c.load_extension(ext)
a.execute("PRAGMA journal_mode=WAL")
a.execute("SELECT es_init()")
a.execute("BEGIN")
a.execute("SELECT es_version('s','T')").fetchone()
b.execute("SELECT es_append('s','T',0,'E','{}')").fetchone()
try:
    a.execute("SELECT es_append('s','T',0,'E','{}')").fetchone()
    check("busy snapshot raises", False, "no error")
except sqlite3.Error as e:
    check("busy snapshot code", e.sqlite_errorcode == 517, e.sqlite_errorcode)
    check("busy snapshot message", "BEGIN IMMEDIATE" in str(e)
          and "locked" not in str(e), str(e))
a.execute("ROLLBACK")
a.close()
b.close()

db.close()
db2.close()
sys.exit(1 if fails else 0)
