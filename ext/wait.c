/*
** wait.c -- es_wait(after_position [, timeout_ms]): wait for new events
** (API.md, Consumers).
**
** HOW IT WAITS.  It polls.  Each poll reads the newest global position
** (one seek to the right edge of es_events) in a read transaction of its
** own, which ends with the poll; in between it sleeps with no transaction
** open.  So it holds no lock while it waits (in WAL mode a poll does not
** block writers at all; in rollback-journal mode it holds the shared lock
** for the few microseconds of the read, as any reader does), and each poll
** sees every commit made before it, by any connection of any process.
** SQLite has nothing better to wait on: its hooks see only this
** connection's own changes, PRAGMA data_version is a read just the same,
** and file-system notifications are per platform and, in WAL mode, fire
** before the commit.
**
** The polls are ES_WAIT_POLL_MS apart, so an append is seen within that
** much (plus the scheduler's delay) of its commit: tool/bench --wait
** measures it.  sqlite3_interrupt() sets a flag that stays set while the
** statement that calls es_wait runs, so the next poll's read fails with
** SQLITE_INTERRUPT: es_wait stops within one interval.
**
** A connection whose transaction is open, or that runs another statement
** reading the database, has a snapshot that cannot change: waiting there
** could never see a new event, so it is an error, not a hang.
*/
#include "es_internal.h"
#include <time.h>

#define ES_WAIT_POLL_MS      5
#define ES_WAIT_DEFAULT_MS   30000

/* Microseconds on a clock that only moves forward (not the wall clock,
** which can be set back while a timeout runs). */
static i64 monotonicMicros(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (i64)ts.tv_sec*1000000 + ts.tv_nsec/1000;
}

/* Why this connection cannot wait now, or 0 if it can. */
static const char *cannotWait(sqlite3 *db){
  if( !sqlite3_get_autocommit(db) ){
    return "cannot wait inside a transaction: its snapshot cannot change,"
           " so no new event could be seen (call es_wait outside BEGIN ..."
           " COMMIT)";
  }
  if( sqlite3_txn_state(db, "main")!=SQLITE_TXN_NONE ){
    return "cannot wait while a statement of this connection reads the"
           " database (this one, or another still running): its snapshot"
           " cannot change, so no new event could be seen (call es_wait in"
           " a statement of its own, such as SELECT es_wait(...))";
  }
  return 0;
}

void esWaitFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  static const char zFunc[] = "es_wait";
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  i64 iAfter, nTimeout = ES_WAIT_DEFAULT_MS, iDeadline, iPos = 0;
  const char *zWhy;
  int rc;
  if( esArgsInteger(ctx, argv[0], zFunc, "after_position", 0, &iAfter) ){
    return;
  }
  if( argc>1
   && esArgsInteger(ctx, argv[1], zFunc, "timeout_ms", 0, &nTimeout) ){
    return;
  }
  if( (zWhy = cannotWait(p->db))!=0 ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s", zFunc, zWhy);
    return;
  }
  /* Beyond 2^40 ms (35 years) is for ever; the sum cannot overflow. */
  if( nTimeout>((i64)1<<40) ) nTimeout = (i64)1<<40;
  iDeadline = monotonicMicros() + nTimeout*1000;
  for(;;){
    i64 nLeft;
    rc = esStorageGlobalPosition(p, &iPos);
    if( rc!=SQLITE_OK ){
      esResultDbError(ctx, zFunc, rc);
      return;
    }
    assert( sqlite3_txn_state(p->db, "main")==SQLITE_TXN_NONE );
    if( iPos>iAfter ) break;
    nLeft = iDeadline - monotonicMicros();
    if( nLeft<=0 ) break;
    /* sqlite3_sleep() takes milliseconds: round the rest up. */
    sqlite3_sleep(nLeft<ES_WAIT_POLL_MS*1000 ? (int)((nLeft+999)/1000)
                                             : ES_WAIT_POLL_MS);
  }
  sqlite3_result_int64(ctx, iPos);
}
