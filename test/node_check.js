// node_check.js -- eventstore loaded into Node's better-sqlite3, which
// bundles its own, newer SQLite built without deprecated interfaces.
// Run by node.test (better-sqlite3 from build/node, through NODE_PATH);
// prints "ok <check>" or "FAIL <check>: <detail>" per check.
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
// JSON values carry the JSON subtype, also in the SQLite of better-sqlite3
// (3.45 and later want SQLITE_RESULT_SUBTYPE on such functions).
const nested = db.prepare("SELECT json_object('d', data, 'r', es_append('t2','Task',0,'E','{\"k\":1}')) AS j FROM event_all WHERE global_position=1").get().j;
check('json subtype', nested === '{"d":{"title":"x"},"r":{"success":true,"new_version":1,"global_position":4,"conflict":false}}', nested);
// better-sqlite3's transaction() is deferred: read the version, then append.
const appendAt = db.transaction((id) => {
  const v = db.prepare('SELECT es_version(?, ?) AS v').get(id, 'Task').v;
  return JSON.parse(db.prepare('SELECT es_append(?, ?, ?, ?, ?) AS r').get(id, 'Task', v, 'E', '{}').r);
});
check('transaction', appendAt('t1').new_version === 4, '');
db.exec('SELECT es_clear()');
check('clear', db.prepare('SELECT count(*) AS n FROM event_all').get().n === 0, '');
db.close();
process.exit(fails ? 1 : 0);
