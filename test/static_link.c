/*
** static_link.c -- the extension compiled with -DSQLITE_CORE and linked
** into a program, registered with sqlite3_auto_extension().  Run by
** test/static.test: prints one line per check and exits non-zero on the
** first failure.  It also checks what Tcl cannot see: extended error codes.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

int sqlite3_eventstore_init(sqlite3*, char**, const sqlite3_api_routines*);

static int check(sqlite3 *db, const char *zSql, const char *zWant){
  sqlite3_stmt *pStmt = 0;
  char zGot[512] = "";
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(pStmt, 0);
      snprintf(zGot, sizeof(zGot), "%s", z ? z : "NULL");
    }
  }
  if( rc!=SQLITE_ROW && rc!=SQLITE_DONE ){
    snprintf(zGot, sizeof(zGot), "error %d: %s", sqlite3_extended_errcode(db),
             sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  if( strcmp(zGot, zWant)!=0 ){
    printf("FAIL %s\n  want: %s\n  got:  %s\n", zSql, zWant, zGot);
    return 1;
  }
  printf("ok %s\n", zSql);
  return 0;
}

int main(void){
  sqlite3 *db;
  int nFail = 0;
  sqlite3_auto_extension((void(*)(void))sqlite3_eventstore_init);
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK ) return 1;
  sqlite3_extended_result_codes(db, 1);
  nFail += check(db, "SELECT es_append('a','Task',0,'TaskCreated','{}')->>'new_version'", "1");
  nFail += check(db, "SELECT es_append('a','Task',0,'TaskCreated','{}')",
      "error 1043: es_append: version conflict on stream 'a:Task': expected"
      " version 0, actual version 1");
  nFail += check(db, "SELECT es_append('a','Task',1,'{\"event_type\":\"X\","
      "\"event_id\":\"11111111-1111-4111-8111-111111111111\"}')->>'new_version'", "2");
  nFail += check(db, "SELECT es_append('a','Task',-1,'{\"event_type\":\"Y\","
      "\"event_id\":\"11111111-1111-4111-8111-111111111111\"}')",
      "error 2067: es_append: event id 11111111-1111-4111-8111-111111111111"
      " is already stored with different content");
  nFail += check(db, "SELECT group_concat(event_type) FROM event_stream('a:Task')",
      "TaskCreated,X");
  nFail += check(db, "SELECT es_verify()->>'ok'", "1");
  /* A compare-and-set that finds the checkpoint moved: the same extended
  ** code as a version conflict, so one retry rule covers both. */
  nFail += check(db, "SELECT es_checkpoint_set('p', 1, 0)", "1");
  nFail += check(db, "SELECT es_checkpoint_set('p', 2, 0)",
      "error 1043: es_checkpoint_set: checkpoint 'p' is at 1, not 0");
  nFail += check(db, "SELECT name || ' ' || lag FROM es_checkpoints", "p 1");
  nFail += check(db, "SELECT es_snapshot_save('a','Task',2,'{}')", "2");
  /* Closing a connection that used everything (the statement cache is
  ** finalized before sqlite3_close() checks for open statements; the Tcl
  ** interface ignores its result, so this is checked here). */
  nFail += check(db, "SELECT count(*), es_version('a:Task') FROM event_all"
      " WHERE event_type IN ('X','TaskCreated')", "2");
  nFail += check(db, "SELECT count(*) FROM event_all a, event_all b"
      " WHERE b.stream_id=a.stream_id", "4");
  if( sqlite3_close(db)!=SQLITE_OK ){
    printf("FAIL sqlite3_close: %s\n", sqlite3_errmsg(db));
    nFail++;
  }else{
    printf("ok sqlite3_close\n");
  }
  return nFail ? 1 : 0;
}
