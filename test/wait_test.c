/*
** wait_test.c -- es_wait from several threads: what needs a second thread
** of control, which a Tcl test does not have.  Run by test/consumers.test
** (the extension linked in with -DSQLITE_CORE, as test/static_link.c).
** Prints one line per check ("ok ..." or "FAIL ...") and exits non-zero
** if any failed.
**
**   - sqlite3_interrupt() from another thread stops a waiting es_wait,
**     with SQLITE_INTERRUPT, long before its timeout;
**   - an append by another connection wakes it, with the new position;
**   - while it waits it holds no lock: in rollback-journal mode, where a
**     reader's lock would make the writer's commit wait, a writer with a
**     busy timeout shorter than the wait commits (and, while it holds the
**     write lock, the waiter is not stuck either);
**   - the timeout is honoured: es_wait(0, 300) on an idle store returns 0,
**     not before 300 ms have passed; es_wait(0, 0) returns at once.
** Times are bounds far from what they bound (an interrupt at 0.3 s of a
** 60 s wait), never a speed test.
*/
#include <sqlite3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sqlite3_eventstore_init(sqlite3*, char**, const sqlite3_api_routines*);

static const char *zPath;
static int nFail = 0;

static double seconds(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec/1e9;
}

static void report(int bOk, const char *zWhat, const char *zGot){
  if( bOk ){
    printf("ok %s\n", zWhat);
  }else{
    printf("FAIL %s: %s\n", zWhat, zGot);
    nFail++;
  }
}

static sqlite3 *openDb(void){
  sqlite3 *db;
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ){
    fprintf(stderr, "cannot open %s\n", zPath);
    exit(2);
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

/* Run zSql; its first column as an integer in *piOut; the result code
** (with the message in zErr). */
static int run(sqlite3 *db, const char *zSql, long long *piOut,
               char *zErr, int nErr){
  sqlite3_stmt *pStmt = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0);
  zErr[0] = 0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      if( piOut ) *piOut = sqlite3_column_int64(pStmt, 0);
      rc = SQLITE_OK;
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }
  }
  if( rc!=SQLITE_OK ){
    rc = sqlite3_extended_errcode(db);
    snprintf(zErr, nErr, "%d %s", rc, sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/* ------------------------------------------------------ the other thread */
typedef struct Job Job;
struct Job {
  int eJob;               /* JOB_INTERRUPT or JOB_APPEND */
  sqlite3 *dbTarget;      /* JOB_INTERRUPT: whom to interrupt */
  int rc;                 /* JOB_APPEND: how the append went */
  char zErr[300];
};
enum { JOB_INTERRUPT, JOB_APPEND };

static void *jobMain(void *pArg){
  Job *pJob = (Job*)pArg;
  usleep(300*1000);
  if( pJob->eJob==JOB_INTERRUPT ){
    sqlite3_interrupt(pJob->dbTarget);
  }else{
    /* A busy timeout (1 s) much shorter than the wait (60 s): if the
    ** waiter held a lock while it waits, this commit would fail. */
    sqlite3 *db = openDb();
    sqlite3_busy_timeout(db, 1000);
    pJob->rc = run(db, "SELECT es_append('w','T','any','E','{}')", 0,
                   pJob->zErr, sizeof(pJob->zErr));
    sqlite3_close(db);
  }
  return 0;
}

/* es_wait(zArgs) on db while the other thread does eJob. */
static int waitWhile(sqlite3 *db, int eJob, const char *zArgs,
                     long long *piPos, double *pSecs, Job *pJob,
                     char *zErr, int nErr){
  pthread_t t;
  char zSql[100];
  int rc;
  double t0;
  memset(pJob, 0, sizeof(*pJob));
  pJob->eJob = eJob;
  pJob->dbTarget = db;
  snprintf(zSql, sizeof(zSql), "SELECT es_wait(%s)", zArgs);
  pthread_create(&t, 0, jobMain, pJob);
  t0 = seconds();
  rc = run(db, zSql, piPos, zErr, nErr);
  *pSecs = seconds() - t0;
  pthread_join(t, 0);
  return rc;
}

int main(int argc, char **argv){
  sqlite3 *db;
  Job job;
  char zErr[300], zGot[1000];
  long long iPos = -1;
  double secs;
  int rc;

  if( argc!=2 ){
    fprintf(stderr, "usage: %s DBFILE\n", argv[0]);
    return 2;
  }
  zPath = argv[1];
  unlink(zPath);
  sqlite3_auto_extension((void(*)(void))sqlite3_eventstore_init);
  db = openDb();
  run(db, "PRAGMA journal_mode=DELETE", 0, zErr, sizeof(zErr));
  run(db, "SELECT es_init()", 0, zErr, sizeof(zErr));

  rc = waitWhile(db, JOB_INTERRUPT, "0, 60000", &iPos, &secs, &job,
                 zErr, sizeof(zErr));
  snprintf(zGot, sizeof(zGot), "rc %d after %.2f s: %s", rc, secs, zErr);
  report(rc==SQLITE_INTERRUPT && secs<30 && strstr(zErr, "es_wait: ")!=0,
         "sqlite3_interrupt stops es_wait", zGot);

  iPos = -1;
  rc = waitWhile(db, JOB_APPEND, "0, 60000", &iPos, &secs, &job,
                 zErr, sizeof(zErr));
  snprintf(zGot, sizeof(zGot), "rc %d, position %lld after %.2f s: %s;"
           " the append: rc %d %s", rc, iPos, secs, zErr, job.rc, job.zErr);
  report(rc==SQLITE_OK && iPos==1 && secs<30 && job.rc==SQLITE_OK,
         "an append by another connection wakes es_wait, which holds no"
         " lock while it waits (rollback journal)", zGot);

  {
    double t0 = seconds();
    rc = run(db, "SELECT es_wait(1, 300)", &iPos, zErr, sizeof(zErr));
    secs = seconds() - t0;
    snprintf(zGot, sizeof(zGot), "rc %d, position %lld after %.3f s: %s",
             rc, iPos, secs, zErr);
    report(rc==SQLITE_OK && iPos==1 && secs>=0.3,
           "es_wait(1, 300) times out after 300 ms with position 1", zGot);
    t0 = seconds();
    rc = run(db, "SELECT es_wait(1, 0)", &iPos, zErr, sizeof(zErr));
    secs = seconds() - t0;
    snprintf(zGot, sizeof(zGot), "rc %d, position %lld after %.3f s: %s",
             rc, iPos, secs, zErr);
    report(rc==SQLITE_OK && iPos==1 && secs<5,
           "es_wait(1, 0) does not wait", zGot);
    rc = run(db, "SELECT es_wait(0, 60000)", &iPos, zErr, sizeof(zErr));
    snprintf(zGot, sizeof(zGot), "rc %d, position %lld: %s", rc, iPos, zErr);
    report(rc==SQLITE_OK && iPos==1,
           "es_wait(0) returns at once when the store is past 0", zGot);
  }

  /* The interrupt is over: the connection works again. */
  rc = run(db, "SELECT es_global_position()", &iPos, zErr, sizeof(zErr));
  snprintf(zGot, sizeof(zGot), "rc %d, position %lld: %s", rc, iPos, zErr);
  report(rc==SQLITE_OK && iPos==1, "the connection works after", zGot);
  if( sqlite3_close(db)!=SQLITE_OK ){
    report(0, "sqlite3_close", sqlite3_errmsg(db));
  }
  unlink(zPath);
  return nFail ? 1 : 0;
}
