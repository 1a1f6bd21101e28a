/*
** dist_prog.c -- a user's program against an installed eventstore: the
** public header, a few contract queries.  Built by test/dist.test with
** pkg-config against the static library, and from dist/eventstore.c
** compiled in: both register it with sqlite3_auto_extension().  Built
** with -DLOAD_BY_NAME it links only SQLite and loads the installed module
** by name (sqlite3_load_extension(db, "eventstore", ...)).  Prints each
** result; exits non-zero on an error.
*/
#include <sqlite3.h>
#include <eventstore.h>
#include <stdio.h>

static int show(sqlite3 *db, const char *zSql){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    printf("%s\n", (const char*)sqlite3_column_text(pStmt, 0));
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt);
  if( rc!=SQLITE_OK ){
    printf("error: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  return 0;
}

int main(void){
  sqlite3 *db;
  int nErr = 0;
#ifdef LOAD_BY_NAME
  char *zErr = 0;
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) return 1;
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, "eventstore", 0, &zErr)!=SQLITE_OK ){
    printf("error: %s\n", zErr);
    return 1;
  }
#else
  sqlite3_auto_extension((void(*)(void))sqlite3_eventstore_init);
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) return 1;
#endif
  printf("header %s %d\n", EVENTSTORE_VERSION, EVENTSTORE_VERSION_NUMBER);
  nErr += show(db, "SELECT es_info() ->> 'version'");
  nErr += show(db, "SELECT es_append('order-1','Order','no_stream',"
                   "'OrderPlaced','{\"total\":42}') ->> 'new_version'");
  nErr += show(db, "SELECT stream_id || ' ' || event_type || ' ' || data"
                   " FROM event_stream('order-1:Order')");
  nErr += show(db, "SELECT es_verify() ->> 'ok'");
  if( sqlite3_close(db)!=SQLITE_OK ){
    printf("error: sqlite3_close\n");
    nErr++;
  }
  return nErr ? 1 : 0;
}
