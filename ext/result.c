/*
** result.c -- how the SQL functions hand back what they produce: errors
** (one path for every function, NULL messages and out-of-memory included)
** and JSON values (text that carries SQLite's JSON subtype).
*/
#include "es_internal.h"

/*
** Report rc with the message zMsg on ctx and free zMsg.  A NULL message
** (its allocation failed) or SQLITE_NOMEM reports out of memory.  The
** message is set first and the code after it, since setting the message
** resets the code to SQLITE_ERROR.
*/
void esResultErrorMsg(sqlite3_context *ctx, int rc, char *zMsg){
  /* SQLITE_OK, SQLITE_ROW or SQLITE_DONE here would be a bug, and SQLite
  ** would not treat them as an error: never let one through. */
  assert( (rc & 0xff)!=SQLITE_OK && rc!=SQLITE_ROW && rc!=SQLITE_DONE );
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

/* Report rc with a printf-style message. */
void esResultError(sqlite3_context *ctx, int rc, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  esResultErrorMsg(ctx, rc, zMsg);
}

/* An error from the database: SQLite's message (or why a read of the
** store failed, storage.c), after the function's name.  Every function is
** registered with its connection's EsConn as user data. */
void esResultDbError(sqlite3_context *ctx, const char *zFunc, int rc){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( p->zReadErr ){
    esResultError(ctx, rc, "%s: %s", zFunc, p->zReadErr);
  }else{
    esResultError(ctx, rc, "%s: %s", zFunc, sqlite3_errmsg(p->db));
  }
}

/*
** A JSON value: text with SQLite's JSON subtype, so that json_object(),
** json_group_array() and the -> operators nest it as JSON instead of
** quoting it as a string (API.md, Information).
*/
void esResultJson(sqlite3_context *ctx, const char *z, int n,
                  void (*xDel)(void*)){
  sqlite3_result_text(ctx, z, n, xDel);
  sqlite3_result_subtype(ctx, ES_JSON_SUBTYPE);
}

/*
** The flag a function that sets a result subtype must be registered with
** from SQLite 3.45 on (SQLITE_RESULT_SUBTYPE, 0x01000000): without it,
** such builds may drop the subtype or refuse the call.  Older versions
** reject unknown flags, so it is given only where it exists.
*/
int esResultJsonFlags(void){
  return sqlite3_libversion_number()>=3045000 ? 0x01000000 : 0;
}
