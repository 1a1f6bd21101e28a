// node_check.js -- eventstore loaded into Node's better-sqlite3, which
// bundles its own, newer SQLite built without deprecated interfaces.
// Run by node.test when better-sqlite3 can be found (NODE_PATH); prints
// "ok <check>" or "FAIL <check>: <detail>" per check.
const Database = require('better-sqlite3');
const ext = process.argv[2];
let fails = 0;
function check(name, cond, detail) {
  if (cond) console.log('ok ' + name);
  else { fails++; console.log('FAIL ' + name + ': ' + detail); }
}
const db = new Database(':memory:');
db.loadExtension(ext);
const r = JSON.parse(db.prepare('SELECT es_append(?,?,?,?,?) AS r')
  .get('t1', 'Task', 0, 'TaskCreated', '{"title":"x"}').r);
check('append', r.new_version === 1 && r.global_position === 1, JSON.stringify(r));
try {
  db.prepare("SELECT es_append('t1','Task',0,'X','{}')").get();
  check('conflict', false, 'no error');
} catch (e) {
  check('conflict code', e.code === 'SQLITE_CONSTRAINT_FUNCTION', e.code);
}
db.prepare("SELECT es_append('t1','Task',1,'[{\"event_type\":\"A\"},{\"event_type\":\"B\"}]')").get();
const rows = db.prepare("SELECT stream_position AS p, event_type AS t FROM event_stream('t1:Task') ORDER BY stream_position DESC LIMIT 2").all();
check('read', rows.length === 2 && rows[0].p === 3 && rows[1].t === 'A', JSON.stringify(rows));
check('verify', JSON.parse(db.prepare('SELECT es_verify() AS v').get().v).ok === true, '');
db.exec('SELECT es_clear()');
check('clear', db.prepare('SELECT count(*) AS n FROM event_all').get().n === 0, '');
db.close();
process.exit(fails ? 1 : 0);
