/*
** oom.c -- out-of-memory injection: every allocation the extension (or
** SQLite, on its behalf) makes can fail, one at a time.
**
** Built with -DSQLITE_CORE and linked into this program, with SQLite's
** memory methods replaced by ones that fail the Nth allocation once
** armed.  For each scenario and each N = 1, 2, ... until a run completes
** without reaching the Nth allocation:
**   - set up a fresh store (not armed), arm at N, run the operation;
**   - the operation either succeeds or fails with SQLITE_NOMEM, nothing
**     else;
**   - disarmed again: the connection is back in autocommit where the
**     scenario started there, PRAGMA integrity_check and es_verify() are
**     ok, and an append stored all of its events or none of them.
** Run by test/oom.test; prints one line per scenario and exits non-zero on
** the first failure.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sqlite3_eventstore_init(sqlite3*, char**, const sqlite3_api_routines*);

static sqlite3_mem_methods origMethods;
static int bArmed = 0, nCount = 0, nFailAt = 0, bFaulted = 0;

static void *faultMalloc(int n){
  if( bArmed && ++nCount==nFailAt ){ bFaulted = 1; return 0; }
  return origMethods.xMalloc(n);
}
static void *faultRealloc(void *p, int n){
  if( bArmed && ++nCount==nFailAt ){ bFaulted = 1; return 0; }
  return origMethods.xRealloc(p, n);
}

static void arm(int n){ nCount = 0; nFailAt = n; bFaulted = 0; bArmed = 1; }
static void disarm(void){ bArmed = 0; }

static void die(const char *zScenario, int n, const char *zWhat){
  printf("FAIL %s, allocation %d: %s\n", zScenario, n, zWhat);
  exit(1);
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    printf("setup failed: %s: %s\n", zSql, zErr);
    exit(1);
  }
}

static long long queryInt(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  long long v = -1;
  sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  if( p && sqlite3_step(p)==SQLITE_ROW ) v = sqlite3_column_int64(p, 0);
  sqlite3_finalize(p);
  return v;
}

/* Run every statement of zSql; the first failure's code, or SQLITE_OK. */
static int runArmed(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  const char *zTail = zSql;
  int rc = SQLITE_OK;
  while( rc==SQLITE_OK && zTail && zTail[0] ){
    rc = sqlite3_prepare_v2(db, zTail, -1, &p, &zTail);
    if( rc!=SQLITE_OK || p==0 ) break;
    while( (rc = sqlite3_step(p))==SQLITE_ROW ){
      int k;
      for(k=0; k<sqlite3_column_count(p); k++) (void)sqlite3_column_text(p, k);
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    rc = sqlite3_finalize(p)==SQLITE_OK ? rc : (rc ? rc : SQLITE_NOMEM);
    p = 0;
  }
  sqlite3_finalize(p);
  return rc;
}

typedef struct Scenario Scenario;
struct Scenario {
  const char *zName;
  const char *zSetup;     /* run unarmed */
  const char *zArmed;     /* run with the fault armed */
  const char *zAfter;     /* run unarmed before the checks (may be 0) */
  const char *zCount;     /* events of stream s:T afterwards ... */
  long long nBefore;      /* ... must be nBefore or nAfter */
  long long nAfter;
  int bMayOrphan;         /* creates the schema: see "orphaned" below */
};

#define BATCH "'[{\"event_type\":\"A\",\"data\":{\"k\":1}},{\"event_type\":\"B\"}," \
              "{\"event_type\":\"C\",\"tenant_id\":\"t\"},{\"event_type\":\"D\"}," \
              "{\"event_type\":\"E\",\"occurred_at\":\"2026-11-26 12:00:00+02:00\"}]'"

static const Scenario aScenario[] = {
  { "first append (creates the schema)", "",
    "SELECT es_append('s','T',0," BATCH ")", 0,
    "SELECT count(*) FROM event_all", 0, 5, 1 },
  { "batch append, autocommit",
    "SELECT es_append('s','T',0,'[{\"event_type\":\"X\"}]')",
    "SELECT es_append('s','T',1," BATCH ")", 0,
    "SELECT count(*) FROM es_events", 1, 6, 0 },
  { "one-event append to a new stream, autocommit",
    "SELECT es_init()",
    "SELECT es_append('s','T','no_stream','TaskCreated','{\"title\":\"t\"}',"
    " '{\"tenant_id\":\"acme\",\"event_id\":\"11111111-1111-4111-8111-111111111111\"}')", 0,
    "SELECT count(*) FROM es_events", 0, 1, 0 },
  { "batch append inside BEGIN ... COMMIT",
    "SELECT es_append('s','T',0,'[{\"event_type\":\"X\"}]')",
    "BEGIN; SELECT es_append('s','T',1," BATCH ");", "COMMIT",
    "SELECT count(*) FROM es_events", 1, 6, 0 },
  { "batch with given ids to a new stream inside BEGIN ... COMMIT",
    "SELECT es_init()",
    "BEGIN; SELECT es_append('s','T',0,'[{\"event_type\":\"A\",\"event_id\":"
    "\"33333333-3333-4333-8333-333333333333\"},{\"event_type\":\"B\",\"event_id\":"
    "\"44444444-4444-4444-8444-444444444444\"},{\"event_type\":\"C\"}]');", "COMMIT",
    "SELECT count(*) FROM es_events", 0, 3, 0 },
  { "one-event append to a new stream inside BEGIN ... COMMIT",
    "SELECT es_init()",
    "BEGIN; SELECT es_append('s','T',0,'E','{}');", "COMMIT",
    "SELECT count(*) FROM es_events", 0, 1, 0 },
  { "append under INSERT ... SELECT",
    "SELECT es_append('s','T',0,'[{\"event_type\":\"X\"}]'); CREATE TABLE log(r);",
    "INSERT INTO log SELECT es_append('s','T',1," BATCH ")", 0,
    "SELECT count(*) FROM es_events", 1, 6, 0 },
  { "replay of a stored batch",
    "SELECT es_append('s','T',0,'[{\"event_type\":\"A\",\"event_id\":\"22222222-2222-4222-8222-222222222222\"}]');"
    "SELECT es_append('s','T',1,'B','{}')",
    "SELECT es_append('s','T',0,'[{\"event_type\":\"A\",\"event_id\":\"22222222-2222-4222-8222-222222222222\"}]')", 0,
    "SELECT count(*) FROM es_events", 2, 2, 0 },
  { "reads through the virtual tables",
    "SELECT es_append('s','T',0," BATCH ")",
    "SELECT * FROM event_all WHERE event_type IN ('A','C') ORDER BY global_position DESC;"
    "SELECT * FROM event_stream('s:T') WHERE occurred_at > '2020-01-01';"
    "SELECT * FROM event_all WHERE tenant_id='t' LIMIT 1 OFFSET 0;"
    "SELECT es_version('s','T'), es_version('s:T'), es_global_position();", 0,
    "SELECT count(*) FROM es_events", 5, 5, 0 },
  { "es_verify", "SELECT es_append('s','T',0," BATCH ")", "SELECT es_verify()", 0,
    "SELECT count(*) FROM es_events", 5, 5, 0 },
  { "es_clear", "SELECT es_append('s','T',0," BATCH ")", "SELECT es_clear()", 0,
    "SELECT count(*) FROM event_all", 5, 0, 1 },
  { "es_checkpoint_set, autocommit", "SELECT es_append('s','T',0," BATCH ")",
    "SELECT es_checkpoint_set('p', 3)", 0,
    "SELECT coalesce((SELECT position FROM es_consumers WHERE name='p'), 0)",
    0, 3, 0 },
  { "es_checkpoint_set compare-and-set inside BEGIN ... COMMIT",
    "SELECT es_append('s','T',0," BATCH "); SELECT es_checkpoint_set('p', 1)",
    "BEGIN; SELECT es_checkpoint_set('p', 4, 1);", "COMMIT",
    "SELECT position FROM es_consumers WHERE name='p'", 1, 4, 0 },
  { "snapshots saved, read and deleted", "SELECT es_append('s','T',0," BATCH ")",
    "SELECT es_snapshot_save('s','T',3,'{\"a\": [1, 2]}');"
    "SELECT es_snapshot('s','T'); SELECT es_snapshot_delete('s','T');"
    "SELECT es_snapshot_save('s','T',2,'{}',2)", 0,
    "SELECT count(*) FROM es_snapshots", 0, 1, 0 },
  { "es_import of a batch, autocommit",
    "SELECT es_append('s','T',0,'[{\"event_type\":\"X\"}]')",
    "SELECT es_import('s','T',1,2,'2030-01-01T00:00:00Z','[{\"event_type\":\"A\","
    "\"event_id\":\"55555555-5555-4555-8555-555555555555\",\"data\":{\"k\":1}},"
    "{\"event_type\":\"B\",\"event_id\":\"66666666-6666-4666-8666-666666666666\"}]')", 0,
    "SELECT count(*) FROM es_events", 1, 3, 0 },
  { "es_import to a new stream inside BEGIN ... COMMIT",
    "SELECT es_init()",
    "BEGIN; SELECT es_import('s','T',0,1,'2030-01-01T00:00:01Z',"
    "'{\"event_type\":\"C\",\"event_id\":\"77777777-7777-4777-8777-777777777777\"}');", "COMMIT",
    "SELECT count(*) FROM es_events", 0, 1, 0 },
  { "readers of checkpoints and snapshots, es_wait, es_member",
    "SELECT es_append('s','T',0," BATCH "); SELECT es_checkpoint_set('p', 2);"
    "SELECT es_snapshot_save('s','T',3,'{}')",
    "SELECT * FROM es_checkpoints; SELECT es_checkpoint('p');"
    "SELECT es_snapshot('s','T'); SELECT es_wait(0, 0); SELECT es_member('s:T', 3)", 0,
    "SELECT count(*) FROM es_events", 5, 5, 0 },
};

int main(void){
  sqlite3_mem_methods m;
  int i;
  sqlite3_config(SQLITE_CONFIG_GETMALLOC, &origMethods);
  m = origMethods;
  m.xMalloc = faultMalloc;
  m.xRealloc = faultRealloc;
  sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
  sqlite3_initialize();
  sqlite3_auto_extension((void(*)(void))sqlite3_eventstore_init);

  for(i=0; i<(int)(sizeof(aScenario)/sizeof(aScenario[0])); i++){
    const Scenario *s = &aScenario[i];
    int n, nNomem = 0, nOrphan = 0;
    for(n=1; ; n++){
      sqlite3 *db;
      int rc;
      long long nEvents;
      if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) die(s->zName, n, "open");
      exec(db, s->zSetup);
      arm(n);
      rc = runArmed(db, s->zArmed);
      disarm();
      if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ){
        char z[300];
        snprintf(z, sizeof(z), "error %d instead of SQLITE_NOMEM: %s", rc,
                 sqlite3_errmsg(db));
        die(s->zName, n, z);
      }
      if( rc==SQLITE_NOMEM ) nNomem++;
      if( rc!=SQLITE_OK && !bFaulted ) die(s->zName, n, "failed without a fault");
      if( s->zAfter ){
        if( sqlite3_get_autocommit(db) ) {
          /* SQLite rolled the transaction back on SQLITE_NOMEM. */
        }else{
          exec(db, s->zAfter);
        }
      }
      if( !sqlite3_get_autocommit(db) ){
        /* Allowed only where the schema is being created: out of memory
        ** while preparing inside es_append interrupts its ROLLBACK (see
        ** esWriteRollback).  Nothing may be committed, the next es_append
        ** must refuse to run inside that transaction, and ROLLBACK must
        ** end it. */
        if( !s->bMayOrphan || rc!=SQLITE_NOMEM ){
          char z[300];
          snprintf(z, sizeof(z), "left a transaction open (rc %d: %s)", rc,
                   sqlite3_errmsg(db));
          die(s->zName, n, z);
        }
        if( runArmed(db, "SELECT es_append('x','T',0,'E','{}')")!=SQLITE_ERROR ){
          die(s->zName, n, "es_append went on inside the orphaned transaction");
        }
        exec(db, "ROLLBACK");
        nOrphan++;
      }
      {
        sqlite3_stmt *p = 0;
        const char *zI = "";
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &p, 0);
        if( p && sqlite3_step(p)==SQLITE_ROW ) zI = (const char*)sqlite3_column_text(p, 0);
        if( strcmp(zI, "ok")!=0 ) die(s->zName, n, "integrity_check");
        sqlite3_finalize(p);
      }
      if( queryInt(db, "SELECT es_verify() LIKE '{\"ok\":true%'")!=1 ){
        die(s->zName, n, "es_verify is not ok");
      }
      nEvents = queryInt(db, s->zCount);
      if( nEvents!=s->nBefore && nEvents!=s->nAfter ){
        char z[100];
        snprintf(z, sizeof(z), "%lld events: a partial append", nEvents);
        die(s->zName, n, z);
      }
      if( rc==SQLITE_OK && nEvents!=s->nAfter ) die(s->zName, n, "succeeded but stored nothing");
      if( sqlite3_close(db)!=SQLITE_OK ) die(s->zName, n, "close");
      if( !bFaulted ) break;     /* the run needed fewer than n allocations */
    }
    printf("ok %s: %d allocations failed in turn, %d gave SQLITE_NOMEM%s\n",
           s->zName, n-1, nNomem, nOrphan ? " (some left the call's own"
           " transaction open, for the application to roll back)" : "");
  }
  return 0;
}
