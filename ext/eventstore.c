/*
** eventstore.c -- the entry point of the eventstore extension.
**
**   sqlite> .load ./eventstore
**   SELECT load_extension('./eventstore');
**
** sqlite3_eventstore_init() registers the SQL functions and the virtual
** tables on one connection.  It writes nothing: the storage schema is made
** by es_init() or the first es_append().  This is the only file with
** SQLITE_EXTENSION_INIT1; built with -DSQLITE_CORE the same entry point can
** be given to sqlite3_auto_extension() in a statically linked program.
*/
#define ES_ENTRY_FILE
#include "es_internal.h"
#include "eventstore.h"
SQLITE_EXTENSION_INIT1

/* The oldest SQLite with everything used here (sqlite3_vtab_in, 3.38). */
#define ES_MIN_SQLITE_VERSION 3038000

/*
** Every SQL function, in one table.  Writers are SQLITE_DIRECTONLY: a
** write, or es_wait's wait of up to half a minute, does not belong in a
** view or a trigger where a reader would not expect it.  Readers are
** SQLITE_INNOCUOUS, usable from views and triggers even with
** trusted_schema off.  Only es_info and es_member are
** SQLITE_DETERMINISTIC: every other result can change as events are
** appended.  es_append comes first (sqlite3_eventstore_init relies on
** it).
*/
typedef struct EsFunction EsFunction;
struct EsFunction {
  const char *zName;
  int nArg;
  int eFlags;             /* SQLITE_DIRECTONLY, SQLITE_INNOCUOUS, ... */
  int bJson;              /* its result is JSON (esResultJsonFlags) */
  void (*xFunc)(sqlite3_context*, int, sqlite3_value**);
};
#define WRITER SQLITE_DIRECTONLY
#define READER SQLITE_INNOCUOUS
#define PURE   (SQLITE_INNOCUOUS|SQLITE_DETERMINISTIC)
static const EsFunction aFunction[] = {
  { "es_append",          4, WRITER, 1, esAppendFunc },
  { "es_append",          5, WRITER, 1, esAppendFunc },
  { "es_append",          6, WRITER, 1, esAppendFunc },
  { "es_version",         2, READER, 0, esVersionFunc },
  { "es_version",         1, READER, 0, esVersionFunc },
  { "es_global_position", 0, READER, 0, esGlobalPositionFunc },
  { "es_event_exists",    1, READER, 0, esEventExistsFunc },
  { "es_uuid",            0, READER, 0, esUuidFunc },
  { "es_init",            0, WRITER, 0, esInitFunc },
  { "es_clear",           0, WRITER, 0, esClearFunc },
  { "es_info",            0, PURE,   1, esInfoFunc },
  { "es_store_writing",   0, READER, 0, esStoreWritingFunc },
  { "es_verify",          0, READER, 1, esVerifyFunc },
  { "es_checkpoint",      1, READER, 0, esCheckpointFunc },
  { "es_checkpoint_set",  2, WRITER, 0, esCheckpointSetFunc },
  { "es_checkpoint_set",  3, WRITER, 0, esCheckpointSetFunc },
  { "es_wait",            1, WRITER, 0, esWaitFunc },
  { "es_wait",            2, WRITER, 0, esWaitFunc },
  { "es_member",          2, PURE,   0, esMemberFunc },
  { "es_snapshot_save",   4, WRITER, 0, esSnapshotSaveFunc },
  { "es_snapshot_save",   5, WRITER, 0, esSnapshotSaveFunc },
  { "es_snapshot",        2, READER, 1, esSnapshotFunc },
  { "es_snapshot",        3, READER, 1, esSnapshotFunc },
  { "es_snapshot_delete", 2, WRITER, 0, esSnapshotDeleteFunc },
  { "es_import",          6, WRITER, 1, esImportFunc },
#ifdef ES_TESTING
  /* Test-only hooks (testing.c), in the testing builds alone. */
  { "es_test_rows_visited", 0, 0, 0, esTestRowsVisitedFunc },
  { "es_test_last_query",   0, 0, 0, esTestLastQueryFunc },
  { "es_test_next_uuid",    1, 0, 0, esTestNextUuidFunc },
  { "es_test_limit_length", 1, 0, 0, esTestLimitLengthFunc },
  { "es_test_clock_shift",  1, 0, 0, esTestClockShiftFunc },
#endif
};
#undef WRITER
#undef READER
#undef PURE

/*
** Register every function of aFunction, each with p as its user data (one
** reference each, released by SQLite when the function goes).
*/
static int defineFunctions(sqlite3 *db, EsConn *p){
  int i, rc = SQLITE_OK;
  for(i=0; i<(int)ES_ARRAYSIZE(aFunction) && rc==SQLITE_OK; i++){
    const EsFunction *pF = &aFunction[i];
    esConnRef(p);
    rc = sqlite3_create_function_v2(db, pF->zName, pF->nArg,
        SQLITE_UTF8 | pF->eFlags | (pF->bJson ? esResultJsonFlags() : 0),
        p, pF->xFunc, 0, 0, esConnUnref);
  }
  return rc;
}

EVENTSTORE_API int sqlite3_eventstore_init(sqlite3 *db, char **pzErrMsg,
                            const sqlite3_api_routines *pApi){
  EsConn *p;
  int rc;
  SQLITE_EXTENSION_INIT2(pApi);
  if( sqlite3_libversion_number()<ES_MIN_SQLITE_VERSION ){
    if( pzErrMsg ){
      *pzErrMsg = sqlite3_mprintf("eventstore needs SQLite 3.38.0 or later"
                                  " (this is %s)", sqlite3_libversion());
    }
    return SQLITE_ERROR;
  }
  p = esConnNew(db);
  if( p==0 ) return SQLITE_NOMEM;
  rc = defineFunctions(db, p);
  if( rc==SQLITE_BUSY ){
    /* Loaded already, and a statement is running (SELECT load_extension()
    ** always is): SQLite refuses to replace a function while one runs, and
    ** es_append, the first, was refused before anything changed.  Keep
    ** the first registration.  (With no statement running, as for the
    ** shell's .load, registering again replaces the first one.) */
    esConnUnref(p);
    return SQLITE_OK;
  }
  if( rc==SQLITE_OK ) rc = esTimestampRegister(db);
  if( rc==SQLITE_OK ) rc = esVtabRegister(db, p);
  if( rc==SQLITE_OK ) rc = esCheckpointsVtabRegister(db, p);
  esConnUnref(p);          /* the registrations hold their own references */
  if( rc!=SQLITE_OK && pzErrMsg ){
    *pzErrMsg = sqlite3_mprintf("eventstore: %s", sqlite3_errstr(rc));
  }
  return rc;
}
