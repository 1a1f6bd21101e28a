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
  rc = esAppendRegister(db, p);
  if( rc==SQLITE_BUSY ){
    /* Loaded already, and a statement is running (SELECT load_extension()
    ** always is): SQLite refuses to replace a function while one runs.
    ** Keep the first registration.  (With no statement running, as for
    ** the shell's .load, registering again replaces the first one.) */
    esConnUnref(p);
    return SQLITE_OK;
  }
  if( rc==SQLITE_OK ) rc = esFunctionsRegister(db, p);
  if( rc==SQLITE_OK ) rc = esVerifyRegister(db, p);
  if( rc==SQLITE_OK ) rc = esCheckpointRegister(db, p);
  if( rc==SQLITE_OK ) rc = esWaitRegister(db, p);
  if( rc==SQLITE_OK ) rc = esMemberRegister(db, p);
  if( rc==SQLITE_OK ) rc = esSnapshotRegister(db, p);
#ifdef ES_TESTING
  if( rc==SQLITE_OK ) rc = esTestingRegister(db, p);
#endif
  if( rc==SQLITE_OK ) rc = esTimestampRegister(db);
  if( rc==SQLITE_OK ) rc = esVtabRegister(db, p);
  if( rc==SQLITE_OK ) rc = esCheckpointsVtabRegister(db, p);
  esConnUnref(p);          /* the registrations hold their own references */
  if( rc!=SQLITE_OK && pzErrMsg ){
    *pzErrMsg = sqlite3_mprintf("eventstore: %s", sqlite3_errstr(rc));
  }
  return rc;
}
