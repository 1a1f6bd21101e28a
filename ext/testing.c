/*
** testing.c -- SQL functions that only the test build has (-DES_TESTING).
**
**   es_test_rows_visited()    rows the virtual tables' cursors have read
**   es_test_last_query()      the SQL the last virtual-table cursor ran
**   es_test_next_uuid(uuid)   the next UUID this thread generates
**   es_test_limit_length(n)   sqlite3_limit(SQLITE_LIMIT_LENGTH, n)
**   es_test_clock_shift(us)   the clock es_append reads, moved by us
**
** They let a test see what happens inside without a timer: that "the
** newest 10 events" reads about 10 rows, that a generated event id can
** collide with a stored one, that an over-long row is refused.
*/
#include "es_internal.h"

#ifdef ES_TESTING

void esTestRowsVisitedFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  sqlite3_result_int64(ctx, p->nRowsVisited);
}

void esTestLastQueryFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  if( p->zLastQuery ){
    sqlite3_result_text(ctx, p->zLastQuery, -1, SQLITE_TRANSIENT);
  }
}

void esTestNextUuidFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  u8 a[16];
  (void)argc;
  if( esUuidFromValue(argv[0], a) ){
    esResultError(ctx, SQLITE_ERROR, "es_test_next_uuid: not a UUID");
    return;
  }
  esUuidForceNext(a);
}

/* (The Tcl interface has no way to set a limit.)  Returns the old one. */
void esTestLimitLengthFunc(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv){
  (void)argc;
  sqlite3_result_int(ctx, sqlite3_limit(sqlite3_context_db_handle(ctx),
                     SQLITE_LIMIT_LENGTH, sqlite3_value_int(argv[0])));
}

void esTestClockShiftFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)ctx; (void)argc;
  esTimestampShiftClock(sqlite3_value_int64(argv[0]));
}

/* Record the SQL of a cursor's inner query (es_test_last_query). */
void esTestingNoteQuery(EsConn *p, const char *zSql){
  sqlite3_free(p->zLastQuery);
  p->zLastQuery = sqlite3_mprintf("%s", zSql);
}

#endif /* ES_TESTING */
