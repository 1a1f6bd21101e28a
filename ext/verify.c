/*
** verify.c -- es_verify(): check the store's invariants.
**
** Returns a JSON report:
**   {"ok":true,"events":N,"streams":M,"global_position":G,...}
** or "ok":false with "problems": the first problems found (at most a few
** of each kind), each a sentence that names the stream or position.
**
** Invariants (API.md):
**   - the schema is the one eventstore creates, of a version it knows;
**   - every stream's positions are 1..n without gaps, so its recorded
**     version (the highest position) equals its event count;
**   - within a stream, stream order is global order;
**   - global positions are 1..N without gaps (none was ever deleted or
**     reused) and stored_at never goes backwards along them;
**   - event ids are unique 16-byte UUIDs;
**   - the bookkeeping agrees with the events: every event's stream and kind
**     exist and name the same aggregate type, every stream and every kind
**     has events, checkpoints are within the store, and snapshots within
**     their streams.
**
** All checks read one snapshot: in autocommit mode they run inside a read
** transaction of their own.
*/
#include "es_internal.h"

#define ES_VERIFY_MAX_PER_CHECK 5

typedef struct EsCheck EsCheck;
struct EsCheck {
  const char *zSql;       /* each row is one problem; column 0 its text */
};

static const EsCheck aCheck[] = {
  { "SELECT printf('stream %s:%s has positions %d..%d for %d events"
    " (expected 1..%d)', s.aggregate_id, s.aggregate_type, min(e.stream_position),"
    " max(e.stream_position), count(*), count(*))"
    " FROM main.es_events e JOIN main.es_streams s USING(stream_key)"
    " GROUP BY e.stream_key"
    " HAVING min(e.stream_position)!=1 OR max(e.stream_position)!=count(*)" },
  { "SELECT printf('stream %s:%s: position %d (global %d) comes after"
    " position %d (global %d)', s.aggregate_id, s.aggregate_type,"
    " a.stream_position, a.global_position, b.stream_position,"
    " b.global_position)"
    " FROM main.es_events a JOIN main.es_events b"
    " ON b.stream_key=a.stream_key AND b.stream_position=a.stream_position+1"
    " JOIN main.es_streams s ON s.stream_key=a.stream_key"
    " WHERE b.global_position<a.global_position" },
  { "SELECT printf('global positions run to %d but only %d events are"
    " stored: events were removed', max(global_position), count(*))"
    " FROM main.es_events HAVING count(*)>0 AND"
    " (max(global_position)!=count(*) OR min(global_position)!=1)" },
  { "SELECT printf('stored_at goes backwards at global position %d',"
    " global_position) FROM (SELECT global_position, stored_at,"
    " lag(stored_at) OVER (ORDER BY global_position) AS prev"
    " FROM main.es_events) WHERE stored_at<prev" },
  { "SELECT printf('event at global position %d has a malformed event_id',"
    " global_position) FROM main.es_events"
    " WHERE typeof(event_id)!='blob' OR length(event_id)!=16" },
  { "SELECT printf('event id %s is stored %d times', hex(event_id), count(*))"
    " FROM main.es_events GROUP BY event_id HAVING count(*)>1" },
  { "SELECT printf('event at global position %d belongs to stream key %d,"
    " which does not exist', e.global_position, e.stream_key)"
    " FROM main.es_events e LEFT JOIN main.es_streams s USING(stream_key)"
    " WHERE s.stream_key IS NULL" },
  { "SELECT printf('event at global position %d is of kind %d, which does"
    " not exist', e.global_position, e.kind)"
    " FROM main.es_events e LEFT JOIN main.es_kinds k USING(kind)"
    " WHERE k.kind IS NULL" },
  { "SELECT printf('event at global position %d is of kind %d, of aggregate"
    " type %s, in stream %s:%s', e.global_position, e.kind, k.aggregate_type,"
    " s.aggregate_id, s.aggregate_type)"
    " FROM main.es_events e JOIN main.es_kinds k USING(kind)"
    " JOIN main.es_streams s USING(stream_key)"
    " WHERE k.aggregate_type IS NOT s.aggregate_type" },
  { "SELECT printf('stream %s:%s is recorded but has no events',"
    " aggregate_id, aggregate_type) FROM main.es_streams s WHERE NOT EXISTS"
    " (SELECT 1 FROM main.es_events e WHERE e.stream_key=s.stream_key)" },
  { "SELECT printf('kind %d (%s, %s) is recorded but has no events', kind,"
    " aggregate_type, event_type) FROM main.es_kinds k WHERE NOT EXISTS"
    " (SELECT 1 FROM main.es_events e WHERE e.kind=k.kind)" },
  { "SELECT printf('the checkpoint %s is at %d, beyond the newest event (%d)',"
    " name, position, (SELECT coalesce(max(global_position),0) FROM"
    " main.es_events)) FROM main.es_consumers WHERE position>(SELECT"
    " coalesce(max(global_position),0) FROM main.es_events) OR position<0" },
  { "SELECT printf('the snapshot of stream key %d is at version %d, beyond"
    " the stream''s %d', p.stream_key, p.version, coalesce((SELECT"
    " max(e.stream_position) FROM main.es_events e WHERE"
    " e.stream_key=p.stream_key),0)) FROM main.es_snapshots p"
    " WHERE p.version<1 OR p.version>coalesce((SELECT max(e.stream_position)"
    " FROM main.es_events e WHERE e.stream_key=p.stream_key),0)" },
};

#define N_CHECK ((int)(sizeof(aCheck)/sizeof(aCheck[0])))
#define N_COUNT 3
static const char *const azCount[N_COUNT] = {
  "SELECT count(*) FROM main.es_events",
  "SELECT count(*) FROM main.es_streams",
  "SELECT max(global_position) FROM main.es_events",
};

/*
** Everything es_verify runs is prepared before its read transaction
** begins (see scope.c: out of memory while preparing inside a nested
** statement would interrupt the COMMIT that ends the transaction).
*/
typedef struct Verify Verify;
struct Verify {
  sqlite3_stmt *apCheck[N_CHECK];
  sqlite3_stmt *apCount[N_COUNT];
  i64 aCount[N_COUNT];
};

static int prepareAll(EsConn *p, Verify *pV){
  int i, rc = SQLITE_OK;
  for(i=0; i<N_CHECK && rc==SQLITE_OK; i++){
    rc = sqlite3_prepare_v2(p->db, aCheck[i].zSql, -1, &pV->apCheck[i], 0);
  }
  for(i=0; i<N_COUNT && rc==SQLITE_OK; i++){
    rc = sqlite3_prepare_v2(p->db, azCount[i], -1, &pV->apCount[i], 0);
  }
  return rc;
}

static void finalizeAll(Verify *pV){
  int i;
  for(i=0; i<N_CHECK; i++) sqlite3_finalize(pV->apCheck[i]);
  for(i=0; i<N_COUNT; i++) sqlite3_finalize(pV->apCount[i]);
}

/* Record one problem. */
static void addProblem(sqlite3_str *pProblems, int *pnProblem,
                       const char *zProblem){
  if( *pnProblem ) sqlite3_str_appendchar(pProblems, 1, ',');
  esJsonAppendString(pProblems, zProblem, -1);
  (*pnProblem)++;
}

/*
** The store's shape, checked first: the other checks assume it.  A
** missing table, or a store that disappeared, is a problem to report, not
** an error.  *pbShaped is set if the other checks can run.
*/
static int checkShape(EsConn *p, int bExists, sqlite3_str *pProblems,
                      int *pnProblem, int *pbShaped){
  char *zErr = 0;
  int rc, iFormat = 0;
  *pbShaped = 0;
  if( !bExists ){
    int bDropped;
    rc = esSchemaWasDropped(p, &bDropped);
    if( rc==SQLITE_OK && bDropped ){
      addProblem(pProblems, pnProblem, ES_DROPPED_PROBLEM);
    }
    return rc;
  }
  rc = esSchemaCheck(p, &iFormat, &zErr);
  if( rc==SQLITE_OK && iFormat<ES_SCHEMA_VERSION ){
    addProblem(pProblems, pnProblem, "the store is in storage format 1,"
        " written by an older eventstore: es_init() upgrades it in place");
  }else if( rc==SQLITE_OK ){
    *pbShaped = 1;
  }else if( rc==SQLITE_NOMEM || zErr==0 ){
    /* (A message made before memory ran out is freed too: without this
    ** free, test/oom.test found it leaked.) */
    sqlite3_free(zErr);
    return SQLITE_NOMEM;
  }else{
    addProblem(pProblems, pnProblem, zErr);
  }
  sqlite3_free(zErr);
  return SQLITE_OK;
}

/* Run every check; problems go to pProblems, *pnProblem counts them. */
static int runChecks(Verify *pV, sqlite3_str *pProblems, int *pnProblem){
  int i, rc = SQLITE_OK;
  for(i=0; i<N_CHECK && rc==SQLITE_OK; i++){
    sqlite3_stmt *pStmt = pV->apCheck[i];
    int n = 0;
    while( rc==SQLITE_OK ){
      rc = sqlite3_step(pStmt);
      if( rc!=SQLITE_ROW ) break;
      addProblem(pProblems, pnProblem, (const char*)sqlite3_column_text(pStmt, 0));
      rc = ++n>=ES_VERIFY_MAX_PER_CHECK ? SQLITE_DONE : SQLITE_OK;
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    sqlite3_reset(pStmt);
  }
  for(i=0; i<N_COUNT && rc==SQLITE_OK && *pnProblem==0; i++){
    rc = sqlite3_step(pV->apCount[i]);
    if( rc==SQLITE_ROW ){
      pV->aCount[i] = sqlite3_column_int64(pV->apCount[i], 0);
      rc = SQLITE_OK;
    }
    sqlite3_reset(pV->apCount[i]);
  }
  return rc;
}

void esVerifyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  sqlite3 *db = p->db;
  sqlite3_str *pOut, *pProblems;
  Verify v;
  int rc, bExists = 0, bShaped = 0, nProblem = 0, bOwnTxn = 0;
  char *zProblems, *zOut;
  (void)argc; (void)argv;

  memset(&v, 0, sizeof(v));
  pProblems = sqlite3_str_new(db);
  rc = esSchemaExists(p, &bExists);
  if( rc==SQLITE_OK ) rc = checkShape(p, bExists, pProblems, &nProblem, &bShaped);
  if( rc==SQLITE_OK && bShaped ) rc = prepareAll(p, &v);
  if( rc==SQLITE_OK && bShaped && sqlite3_get_autocommit(db)
   && !esScopeWritingStatementRunning(db) ){
    /* One snapshot for all checks: a read transaction of our own. */
    sqlite3_stmt *pStmt;
    rc = esConnStmt(p, ES_STMT_COMMIT, &pStmt);
    if( rc==SQLITE_OK ) rc = esConnStmt(p, ES_STMT_ROLLBACK, &pStmt);
    if( rc==SQLITE_OK ) rc = esConnRun(p, ES_STMT_BEGIN);
    bOwnTxn = rc==SQLITE_OK;
  }
  if( rc==SQLITE_OK && bShaped ){
    rc = runChecks(&v, pProblems, &nProblem);
  }
  finalizeAll(&v);
  if( bOwnTxn && !sqlite3_get_autocommit(db) ){
    if( esConnRun(p, ES_STMT_COMMIT)!=SQLITE_OK
     && esConnRun(p, ES_STMT_ROLLBACK)!=SQLITE_OK
     && !sqlite3_get_autocommit(db) ){
      p->bOrphanTxn = 1;
    }
  }
  zProblems = sqlite3_str_finish(pProblems);
  if( rc!=SQLITE_OK ){
    sqlite3_free(zProblems);
    esResultDbError(ctx, "es_verify", rc);
    return;
  }
  pOut = sqlite3_str_new(db);
  sqlite3_str_appendf(pOut, "{\"ok\":%s,\"schema\":\"%s\",\"events\":%lld,"
      "\"streams\":%lld,\"global_position\":%lld",
      nProblem ? "false" : "true", bExists ? "present" : "absent",
      v.aCount[0], v.aCount[1], v.aCount[2]);
  if( nProblem ){
    sqlite3_str_appendf(pOut, ",\"problems\":[%s]", zProblems ? zProblems : "");
  }
  sqlite3_str_appendchar(pOut, 1, '}');
  sqlite3_free(zProblems);
  zOut = sqlite3_str_finish(pOut);
  if( zOut==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  esResultJson(ctx, zOut, -1, sqlite3_free);
}
