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
SQLITE_EXTENSION_INIT1

/* The oldest SQLite with everything used here (sqlite3_vtab_in, 3.38). */
#define ES_MIN_SQLITE_VERSION 3038000

/*
** Loading twice on one connection keeps the first registration.  SQLite
** refuses to replace a function while a statement runs, which is always
** the case for SELECT load_extension(...); with no statement running
** (sqlite3_load_extension(), the shell's .load, sqlite3_open() with an
** auto-extension) registering again simply replaces the first one.
*/
static int alreadyLoaded(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  int rc, bBusy = 0;
  while( (pStmt = sqlite3_next_stmt(db, pStmt))!=0 ){
    if( sqlite3_stmt_busy(pStmt) ) bBusy = 1;
  }
  if( !bBusy ) return 0;
  rc = sqlite3_prepare_v2(db, "SELECT es_append(1,2,3,4)", -1, &pStmt, 0);
  sqlite3_finalize(pStmt);
  if( rc!=SQLITE_OK ){
    /* The failed probe left "no such function" as the connection's error;
    ** a successful prepare clears it. */
    sqlite3_prepare_v2(db, "SELECT 1", -1, &pStmt, 0);
    sqlite3_finalize(pStmt);
  }
  return rc==SQLITE_OK;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_eventstore_init(sqlite3 *db, char **pzErrMsg,
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
  if( alreadyLoaded(db) ) return SQLITE_OK;
  p = esConnNew(db);
  if( p==0 ) return SQLITE_NOMEM;
  rc = esRegisterAppend(db, p);
  if( rc==SQLITE_OK ) rc = esRegisterFunctions(db, p);
  if( rc==SQLITE_OK ) rc = esRegisterVerify(db, p);
  if( rc==SQLITE_OK ) rc = esRegisterTimestampCollation(db);
  if( rc==SQLITE_OK ) rc = esRegisterVtabs(db, p);
  esConnUnref(p);          /* the registrations hold their own references */
  if( rc!=SQLITE_OK && pzErrMsg ){
    *pzErrMsg = sqlite3_mprintf("eventstore: %s", sqlite3_errstr(rc));
  }
  return rc;
}
