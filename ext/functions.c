/*
** functions.c -- the SQL functions other than es_append and es_verify:
**
**   es_version(aggregate_id, aggregate_type) / es_version(stream_id)
**   es_global_position()
**   es_event_exists(event_id)
**   es_uuid()
**   es_init()
**   es_clear()
**
** Readers are SQLITE_INNOCUOUS (usable from views and triggers even with
** trusted_schema off); es_init and es_clear write and are
** SQLITE_DIRECTONLY.  None is SQLITE_DETERMINISTIC: every result can
** change as events are appended.  Readers never create the schema: on a
** database without it they see an empty store.
*/
#include "es_internal.h"

/*
** Report an error on ctx: the message first, then the code (setting the
** message resets the code to SQLITE_ERROR).
*/
void esResultError(sqlite3_context *ctx, int rc, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  /* SQLITE_OK, SQLITE_ROW or SQLITE_DONE here would be a bug, and SQLite
  ** would not treat them as an error: never let one through. */
  if( (rc & 0xff)==SQLITE_OK || rc==SQLITE_ROW || rc==SQLITE_DONE ){
    rc = SQLITE_ERROR;
  }
  if( zMsg==0 || rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, zMsg, -1);
    if( rc!=SQLITE_ERROR ) sqlite3_result_error_code(ctx, rc);
  }
  sqlite3_free(zMsg);
}

static void resultDbError(sqlite3_context *ctx, const char *zFunc, int rc,
                          sqlite3 *db){
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else{
    esResultError(ctx, rc, "%s: %s", zFunc, sqlite3_errmsg(db));
  }
}

/* es_version(aggregate_id, aggregate_type) or es_version(stream_id) */
static void versionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  EsText id, type;
  i64 iVersion = 0;
  int rc;
  if( argc==2 ){
    if( esReadStreamArgs(ctx, argv[0], argv[1], "es_version", &id, &type) ){
      return;
    }
  }else{
    const char *z = (const char*)sqlite3_value_text(argv[0]);
    int n = sqlite3_value_bytes(argv[0]), nId = 0;
    if( sqlite3_value_type(argv[0])==SQLITE_NULL ){
      esResultError(ctx, SQLITE_ERROR, "es_version: stream_id is NULL");
      return;
    }
    if( z==0 ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    if( esSplitStreamId(z, n, &nId) ){
      esResultError(ctx, SQLITE_ERROR, "es_version: stream_id '%.80s' is not"
          " of the form aggregate_id:aggregate_type", z);
      return;
    }
    id.z = z;
    id.n = nId;
    type.z = z + nId + 1;
    type.n = n - nId - 1;
    if( esCheckTypeName(type.z, type.n) ){
      esResultError(ctx, SQLITE_ERROR, "es_version: '%.64s' in stream_id is"
          " not a valid aggregate type", type.z);
      return;
    }
  }
  rc = esStreamVersion(p, id.z, id.n, type.z, type.n, &iVersion);
  if( rc!=SQLITE_OK ){
    resultDbError(ctx, "es_version", rc, p->db);
    return;
  }
  sqlite3_result_int64(ctx, iVersion);
}

static void globalPositionFunc(sqlite3_context *ctx, int argc,
                               sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  i64 iPos = 0;
  int rc = esGlobalPosition(p, &iPos);
  (void)argc; (void)argv;
  if( rc!=SQLITE_OK ){
    resultDbError(ctx, "es_global_position", rc, p->db);
    return;
  }
  sqlite3_result_int64(ctx, iPos);
}

static void eventExistsFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  u8 aId[16];
  int bExists = 0, rc;
  (void)argc;
  switch( esUuidFromValue(argv[0], aId) ){
    case 2:
      esResultError(ctx, SQLITE_ERROR, "es_event_exists: event_id is NULL");
      return;
    case 1:
      esResultError(ctx, SQLITE_ERROR, "es_event_exists: '%.64s' is not a"
          " UUID", sqlite3_value_text(argv[0]));
      return;
  }
  rc = esEventExists(p, aId, &bExists);
  if( rc!=SQLITE_OK ){
    resultDbError(ctx, "es_event_exists", rc, p->db);
    return;
  }
  sqlite3_result_int(ctx, bExists);
}

static void uuidFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  u8 a[16];
  char z[ES_UUID_TEXT_LEN];
  (void)argc; (void)argv;
  esUuidGenerate(a);
  esUuidFormat(a, z);
  sqlite3_result_text(ctx, z, ES_UUID_TEXT_LEN, SQLITE_TRANSIENT);
}

/*
** Run xWork inside a write scope (see append.c for the contexts), with
** the work made atomic.  Used by es_init and es_clear.
*/
static void runWrite(sqlite3_context *ctx, const char *zFunc,
                     int (*xWork)(EsConn*, char**)){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  EsWriteScope scope;
  char *zErr = 0;
  int rc = esWriteBegin(p, &scope);
  if( rc==SQLITE_MISUSE ){
    esResultError(ctx, SQLITE_ERROR, "%s: the connection is still inside the"
        " transaction of an earlier call that ran out of memory and could not"
        " roll it back: run ROLLBACK first", zFunc);
    return;
  }
  if( rc==SQLITE_OK ) rc = esWriteNeedAtomic(p, &scope);
  if( rc==SQLITE_OK ){
    rc = xWork(p, &zErr);
    if( rc==SQLITE_OK ){
      rc = esWriteCommit(p, &scope);
    }else{
      esWriteRollback(p, &scope);
    }
  }else{
    esWriteRollback(p, &scope);
  }
  if( p->bSchemaChanged ) esConnForgetStatements(p);
  if( rc!=SQLITE_OK ){
    if( rc==SQLITE_NOMEM ){
      sqlite3_result_error_nomem(ctx);
    }else{
      esResultError(ctx, rc, "%s: %s", zFunc, zErr ? zErr : sqlite3_errmsg(p->db));
    }
  }else{
    sqlite3_result_int(ctx, ES_SCHEMA_VERSION);
  }
  sqlite3_free(zErr);
}

static void initFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  runWrite(ctx, "es_init", esSchemaCreate);
}

/* True if main is an in-memory or temporary database. */
static int isScratchDatabase(sqlite3 *db){
  const char *zFile = sqlite3_db_filename(db, "main");
  return zFile==0 || zFile[0]==0;
}

static void clearFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  if( !isScratchDatabase(p->db) ){
    esResultError(ctx, SQLITE_ERROR, "es_clear: refused on a file database"
        " (%s): es_clear is a testing helper for in-memory and temporary"
        " databases only; nothing was changed",
        sqlite3_db_filename(p->db, "main"));
    return;
  }
  runWrite(ctx, "es_clear", esSchemaClear);
}

#ifdef ES_TESTING
/*
** es_test_rows_visited(): how many rows the virtual tables' cursors have
** read from storage on this connection.  Test builds only: it lets a test
** see that "the newest 10 events" reads about 10 rows, without a timer.
*/
static void rowsVisitedFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  sqlite3_result_int64(ctx, p->nRowsVisited);
}

/*
** es_test_next_uuid(uuid): the next UUID this thread generates is uuid,
** so that a test can make a generated event id collide with a stored one.
*/
static void nextUuidFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  u8 a[16];
  (void)argc;
  if( esUuidFromValue(argv[0], a) ){
    sqlite3_result_error(ctx, "es_test_next_uuid: not a UUID", -1);
    return;
  }
  esUuidForceNext(a);
}

/*
** es_test_limit_length(n): sqlite3_limit(SQLITE_LIMIT_LENGTH), which the
** Tcl interface does not offer; returns the previous limit.
*/
static void limitLengthFunc(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv){
  (void)argc;
  sqlite3_result_int(ctx, sqlite3_limit(sqlite3_context_db_handle(ctx),
                     SQLITE_LIMIT_LENGTH, sqlite3_value_int(argv[0])));
}

/* es_test_last_query(): the SQL the last virtual-table cursor ran. */
static void lastQueryFunc(sqlite3_context *ctx, int argc,
                          sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  if( p->zLastQuery ){
    sqlite3_result_text(ctx, p->zLastQuery, -1, SQLITE_TRANSIENT);
  }
}
#endif

int esRegisterFunctions(sqlite3 *db, EsConn *p){
  static const struct {
    const char *zName;
    int nArg;
    int eFlags;
    void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
  } aFunc[] = {
    { "es_version",         2, SQLITE_INNOCUOUS,  versionFunc },
    { "es_version",         1, SQLITE_INNOCUOUS,  versionFunc },
    { "es_global_position", 0, SQLITE_INNOCUOUS,  globalPositionFunc },
    { "es_event_exists",    1, SQLITE_INNOCUOUS,  eventExistsFunc },
    { "es_uuid",            0, SQLITE_INNOCUOUS,  uuidFunc },
    { "es_init",            0, SQLITE_DIRECTONLY, initFunc },
    { "es_clear",           0, SQLITE_DIRECTONLY, clearFunc },
#ifdef ES_TESTING
    { "es_test_rows_visited", 0, 0,               rowsVisitedFunc },
    { "es_test_last_query",   0, 0,               lastQueryFunc },
    { "es_test_next_uuid",    1, 0,               nextUuidFunc },
    { "es_test_limit_length", 1, 0,               limitLengthFunc },
#endif
  };
  int i, rc = SQLITE_OK;
  for(i=0; i<(int)(sizeof(aFunc)/sizeof(aFunc[0])) && rc==SQLITE_OK; i++){
    esConnRef(p);
    rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg,
        SQLITE_UTF8 | aFunc[i].eFlags, p, aFunc[i].xFunc, 0, 0, esConnUnref);
  }
  return rc;
}
