/*
** consumer.c -- exactly-once consumers, proven under SIGKILL.
**
**   tool/consumer [--seconds 10] [--writers 2] [--consumers 3] [--kill]
**                 [--db PATH] [--extension PATH] [--seed N] [--no-cas]
**                 [--self-test]
**
** Writers append small batches to random streams.  Consumers are several
** instances of ONE consumer ("projection"): each loops reading event_all
** after the checkpoint in batches of 1-50, applying each event to a read
** model in the same database, and moving the checkpoint with the
** compare-and-set form of es_checkpoint_set, in one transaction with the
** read-model writes.  Half of the batches are read and applied inside one
** BEGIN IMMEDIATE; the other half are read first, "handled" outside any
** transaction (as a real consumer calls another system), and applied in a
** later BEGIN IMMEDIATE whose compare-and-set fails if another instance
** committed the batch meanwhile: then that transaction is rolled back.
** With nothing to read, a consumer waits with es_wait.
**
** The read model:
**   applied(global_position PRIMARY KEY, stream_id, stream_position, n)
**       n counts how many times the event was applied: exactly once is 1
**   apply_log(seq INTEGER PRIMARY KEY, global_position, pid)
**       the order the events were applied in, as committed
**
** With --kill the parent kills a random writer or consumer with SIGKILL
** every 20-300 ms, mid-transaction or not, and starts it again.  At the
** end the writers stop, the consumers catch up with the head, and the
** checks run:
**   - every event of event_all was applied exactly once (n = 1), at its
**     stream and position, and nothing else was applied;
**   - the events were applied in global order (apply_log);
**   - the checkpoint is the head; integrity_check and es_verify are ok.
** It prints a summary (events, batches committed, compare-and-set
** refusals, kills) and exits non-zero if a check fails.
**
** --no-cas moves the checkpoint without expected_position: two instances
** can then both commit one batch, and the checks must say so.
** --self-test runs that too, briefly, and fails unless its checks fail.
*/
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "tool_util.h"

#define MAX_PROCS 32
#define N_STREAMS 50
#define CONSUMER "projection"

static const char *zExtension = "./eventstore";
static const char *zDb = "build/consumer/consumer.db";
static int nSeconds = 10, nWriter = 2, nConsumer = 3, bKill = 0, bNoCas = 0;
static unsigned seed = 1;
static char zStopFile[600];     /* exists: the writers stop */
static char zDoneFile[600];     /* exists: the consumers stop when idle */
static char zCasLog[600];


static sqlite3 *openDb(void){
  sqlite3 *db;
  char *zErr = 0;
  if( sqlite3_open(zDb, &db)!=SQLITE_OK ){
    fatal("open %s: %s", zDb, sqlite3_errmsg(db));
  }
  sqlite3_busy_timeout(db, 60000);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zExtension, 0, &zErr)!=SQLITE_OK ){
    fatal("load %s: %s", zExtension, zErr);
  }
  return db;
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fatal("%s: %s", zSql, zErr);
  }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    fatal("%s: %s", zSql, sqlite3_errmsg(db));
  }
  return p;
}

/* Step a statement that returns one integer (or none: 0). */
static long long oneInt(sqlite3 *db, sqlite3_stmt *p){
  long long v = 0;
  int rc = sqlite3_step(p);
  if( rc==SQLITE_ROW ){
    v = sqlite3_column_int64(p, 0);
  }else if( rc!=SQLITE_DONE ){
    fatal("%s: %s", sqlite3_sql(p), sqlite3_errmsg(db));
  }
  sqlite3_reset(p);
  return v;
}

static int stopRequested(void){
  return access(zStopFile, F_OK)==0;
}

/* The consumers stop only once every writer has exited: a consumer that
** stopped on the writers' signal could find nothing to read just before
** a writer's last append commits (seen under make asan). */
static int doneRequested(void){
  return access(zDoneFile, F_OK)==0;
}

/* ------------------------------------------------------------- writers */

static void writerMain(int iWriter){
  sqlite3 *db = openDb();
  /* The events are built here, not by SQL over json_each(): a statement
  ** that reads the database cannot wait for the write lock. */
  sqlite3_stmt *pAppend = prepare(db, "SELECT es_append(?1,'Item','any',?2)");
  rngState ^= ((unsigned long long)seed<<32) ^ (unsigned long long)getpid()
            ^ (unsigned long long)iWriter;
  while( !stopRequested() ){
    char zStream[32], zVals[400];
    int i, n = 1 + rnd(5), k = 0;
    snprintf(zStream, sizeof(zStream), "item-%u", rnd(N_STREAMS));
    k += snprintf(zVals+k, sizeof(zVals)-k, "[");
    for(i=0; i<n; i++){
      k += snprintf(zVals+k, sizeof(zVals)-k, "%s{\"event_type\":\"Changed\","
                    "\"data\":{\"k\":%d}}", i ? "," : "", i);
    }
    snprintf(zVals+k, sizeof(zVals)-k, "]");
    sqlite3_bind_text(pAppend, 1, zStream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(pAppend, 2, zVals, -1, SQLITE_TRANSIENT);
    if( sqlite3_step(pAppend)!=SQLITE_ROW ){
      fatal("writer: %s", sqlite3_errmsg(db));
    }
    sqlite3_reset(pAppend);
    usleep(200 + rnd(1500));
  }
  sqlite3_finalize(pAppend);
  sqlite3_close(db);
  exit(0);
}

/* ----------------------------------------------------------- consumers */

/* One event of a batch. */
typedef struct Ev Ev;
struct Ev { long long g, p; char zStream[40]; };

typedef struct Consumer Consumer;
struct Consumer {
  sqlite3 *db;
  sqlite3_stmt *pCheckpoint, *pRead, *pApply, *pLog, *pSet, *pSetNoCas;
  sqlite3_stmt *pWait;
  int casFd;
};

/* Read up to nMax events after the checkpoint; returns how many. */
static int readBatch(Consumer *c, long long *piCp, Ev *a, int nMax){
  int n = 0, rc;
  *piCp = oneInt(c->db, c->pCheckpoint);
  sqlite3_bind_int64(c->pRead, 1, *piCp);
  sqlite3_bind_int(c->pRead, 2, nMax);
  while( (rc = sqlite3_step(c->pRead))==SQLITE_ROW ){
    a[n].g = sqlite3_column_int64(c->pRead, 0);
    a[n].p = sqlite3_column_int64(c->pRead, 2);
    snprintf(a[n].zStream, sizeof(a[n].zStream), "%s",
             (const char*)sqlite3_column_text(c->pRead, 1));
    n++;
  }
  if( rc!=SQLITE_DONE ) fatal("read: %s", sqlite3_errmsg(c->db));
  sqlite3_reset(c->pRead);
  return n;
}

/* Apply a batch and move the checkpoint from iCp; inside the caller's
** BEGIN IMMEDIATE.  Returns 0, or 1 if the compare-and-set refused. */
static int applyBatch(Consumer *c, long long iCp, const Ev *a, int n){
  sqlite3_stmt *pSet = bNoCas ? c->pSetNoCas : c->pSet;
  int i, rc;
  for(i=0; i<n; i++){
    sqlite3_bind_int64(c->pApply, 1, a[i].g);
    sqlite3_bind_text(c->pApply, 2, a[i].zStream, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c->pApply, 3, a[i].p);
    if( sqlite3_step(c->pApply)!=SQLITE_DONE ) fatal("apply: %s", sqlite3_errmsg(c->db));
    sqlite3_reset(c->pApply);
    sqlite3_bind_int64(c->pLog, 1, a[i].g);
    sqlite3_bind_int(c->pLog, 2, (int)getpid());
    if( sqlite3_step(c->pLog)!=SQLITE_DONE ) fatal("log: %s", sqlite3_errmsg(c->db));
    sqlite3_reset(c->pLog);
  }
  sqlite3_bind_int64(pSet, 1, a[n-1].g);
  sqlite3_bind_int64(pSet, 2, iCp);
  rc = sqlite3_step(pSet);
  sqlite3_reset(pSet);
  if( rc==SQLITE_ROW ) return 0;
  if( sqlite3_extended_errcode(c->db)==SQLITE_CONSTRAINT_FUNCTION ) return 1;
  if( bNoCas ) return 1;    /* "only moves forward": another went further */
  fatal("es_checkpoint_set: %s", sqlite3_errmsg(c->db));
  return 1;
}

static void consumerMain(int iConsumer){
  Consumer c;
  Ev a[50];
  rngState ^= ((unsigned long long)seed<<32) ^ (unsigned long long)getpid()
            ^ ((unsigned long long)iConsumer<<20);
  memset(&c, 0, sizeof(c));
  c.db = openDb();
  c.casFd = open(zCasLog, O_WRONLY|O_CREAT|O_APPEND, 0644);
  if( c.casFd<0 ) fatal("cannot open %s", zCasLog);
  c.pCheckpoint = prepare(c.db, "SELECT es_checkpoint('" CONSUMER "')");
  c.pRead = prepare(c.db, "SELECT global_position, stream_id, stream_position"
      " FROM event_all WHERE global_position > ?1 ORDER BY global_position"
      " LIMIT ?2");
  c.pApply = prepare(c.db, "INSERT INTO applied VALUES(?1,?2,?3,1)"
      " ON CONFLICT(global_position) DO UPDATE SET n = n + 1");
  c.pLog = prepare(c.db, "INSERT INTO apply_log(global_position, pid)"
      " VALUES(?1,?2)");
  c.pSet = prepare(c.db, "SELECT es_checkpoint_set('" CONSUMER "', ?1, ?2)");
  c.pSetNoCas = prepare(c.db, "SELECT es_checkpoint_set('" CONSUMER "', ?1)"
      " WHERE ?2 IS NOT NULL");
  c.pWait = prepare(c.db, "SELECT es_wait(?1, 200)");
  for(;;){
    long long iCp;
    int n, bInside = rnd(2);
    if( bInside ){
      exec(c.db, "BEGIN IMMEDIATE");
      n = readBatch(&c, &iCp, a, 1 + rnd(50));
      if( n>0 ) applyBatch(&c, iCp, a, n);   /* cannot refuse: we hold the lock */
      exec(c.db, "COMMIT");
    }else{
      exec(c.db, "BEGIN");
      n = readBatch(&c, &iCp, a, 1 + rnd(50));
      exec(c.db, "COMMIT");
      if( n>0 ){
        usleep(rnd(3000));                   /* handled elsewhere */
        exec(c.db, "BEGIN IMMEDIATE");
        if( applyBatch(&c, iCp, a, n) ){
          exec(c.db, "ROLLBACK");
          if( write(c.casFd, "C\n", 2)!=2 ) fatal("cas log write");
        }else{
          exec(c.db, "COMMIT");
        }
      }
    }
    if( n==0 ){
      if( doneRequested() ) break;
      sqlite3_bind_int64(c.pWait, 1, iCp);
      oneInt(c.db, c.pWait);
    }
  }
  exit(0);
}

/* ------------------------------------------------------------- parent */

typedef struct Proc Proc;
struct Proc { pid_t pid; int bConsumer; int iIndex; };

static pid_t startProc(int bConsumer, int iIndex){
  pid_t pid;
  fflush(stdout);          /* or each child prints it again */
  pid = fork();
  if( pid<0 ) fatal("fork: %s", strerror(errno));
  if( pid==0 ){
    if( bConsumer ) consumerMain(iIndex); else writerMain(iIndex);
  }
  return pid;
}

static void removeDb(void){
  char z[700];
  unlink(zDb);
  snprintf(z, sizeof(z), "%s-wal", zDb); unlink(z);
  snprintf(z, sizeof(z), "%s-shm", zDb); unlink(z);
  snprintf(z, sizeof(z), "%s-journal", zDb); unlink(z);
}

static long long query(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = prepare(db, zSql);
  long long v = oneInt(db, p);
  sqlite3_finalize(p);
  return v;
}

static int check(const char *zWhat, long long got, long long want){
  if( got==want ){
    printf("  ok   %s: %lld\n", zWhat, got);
    return 0;
  }
  printf("  FAIL %s: %lld, expected %lld\n", zWhat, got, want);
  return 1;
}

/* Run one trial; returns the number of failed checks. */
static int runTrial(int nSecs){
  Proc aProc[MAX_PROCS];
  int nProc = 0, i, nFail = 0, nKill = 0;
  long long nCas = 0, head;
  double tEnd, tCatchUp;
  sqlite3 *db;
  struct stat st;

  removeDb();
  unlink(zStopFile);
  unlink(zDoneFile);
  unlink(zCasLog);
  db = openDb();
  exec(db, "PRAGMA journal_mode=WAL; SELECT es_init();"
      "CREATE TABLE applied(global_position INTEGER PRIMARY KEY,"
      " stream_id TEXT NOT NULL, stream_position INTEGER NOT NULL,"
      " n INTEGER NOT NULL);"
      "CREATE TABLE apply_log(seq INTEGER PRIMARY KEY,"
      " global_position INTEGER NOT NULL, pid INTEGER NOT NULL);");
  sqlite3_close(db);

  for(i=0; i<nWriter; i++){
    aProc[nProc].bConsumer = 0; aProc[nProc].iIndex = i;
    aProc[nProc].pid = startProc(0, i); nProc++;
  }
  for(i=0; i<nConsumer; i++){
    aProc[nProc].bConsumer = 1; aProc[nProc].iIndex = i;
    aProc[nProc].pid = startProc(1, i); nProc++;
  }
  tEnd = now() + nSecs;
  while( now()<tEnd ){
    usleep(bKill ? 20000 + rnd(280000) : 100000);
    if( bKill ){
      /* Mostly consumers: they are what is being proven. */
      int k = rnd(4)==0 ? (int)rnd(nWriter) : nWriter + (int)rnd(nConsumer);
      kill(aProc[k].pid, SIGKILL);
      waitpid(aProc[k].pid, 0, 0);
      aProc[k].pid = startProc(aProc[k].bConsumer, aProc[k].iIndex);
      nKill++;
    }
  }
  /* Stop the writers, let the consumers catch up, stop them. */
  close(open(zStopFile, O_WRONLY|O_CREAT, 0644));
  for(i=0; i<nWriter; i++){
    int status;
    waitpid(aProc[i].pid, &status, 0);
    if( !WIFEXITED(status) || WEXITSTATUS(status)!=0 ){
      printf("  FAIL a writer exited with status %d\n", status);
      nFail++;
    }
  }
  db = openDb();
  tCatchUp = now() + 120;
  while( query(db, "SELECT es_checkpoint('" CONSUMER "') < es_global_position()")
         && now()<tCatchUp ){
    usleep(50000);
  }
  close(open(zDoneFile, O_WRONLY|O_CREAT, 0644));
  for(i=nWriter; i<nProc; i++){
    int status;
    waitpid(aProc[i].pid, &status, 0);
    if( !WIFEXITED(status) || WEXITSTATUS(status)!=0 ){
      printf("  FAIL a consumer exited with status %d\n", status);
      nFail++;
    }
  }
  if( stat(zCasLog, &st)==0 ) nCas = st.st_size/2;

  head = query(db, "SELECT es_global_position()");
  printf("  %lld events, %lld applications committed, %lld batches refused"
         " by the compare-and-set, %d kills\n", head,
         query(db, "SELECT count(*) FROM apply_log"), nCas, nKill);
  nFail += check("checkpoint at the head",
                 query(db, "SELECT es_checkpoint('" CONSUMER "')"), head);
  nFail += check("events applied", query(db, "SELECT count(*) FROM applied"),
                 head);
  nFail += check("events applied more than once",
                 query(db, "SELECT count(*) FROM applied WHERE n<>1"), 0);
  nFail += check("events of event_all not applied, or applied elsewhere",
                 query(db, "SELECT count(*) FROM event_all e LEFT JOIN applied a"
                   " USING(global_position) WHERE a.global_position IS NULL"
                   " OR a.stream_id<>e.stream_id"
                   " OR a.stream_position<>e.stream_position"), 0);
  nFail += check("applications out of global order",
                 query(db, "SELECT count(*) FROM (SELECT global_position AS g,"
                   " lag(global_position) OVER (ORDER BY seq) AS prev"
                   " FROM apply_log) WHERE prev >= g"), 0);
  nFail += check("integrity_check ok",
                 query(db, "SELECT count(*) FROM pragma_integrity_check"
                           " WHERE integrity_check='ok'"), 1);
  nFail += check("es_verify ok", query(db, "SELECT es_verify() ->> 'ok'"), 1);
  sqlite3_close(db);
  return nFail;
}

static void usage(void){
  fprintf(stderr, "usage: tool/consumer [--seconds N] [--writers N]"
      " [--consumers N] [--kill] [--db PATH] [--extension PATH] [--seed N]"
      " [--no-cas] [--self-test]\n");
  exit(2);
}

int main(int argc, char **argv){
  int i, nFail, bSelfTest = 0;
  char *zDir, *zSlash;
  zToolName = "consumer: ";
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    if( strcmp(z, "--seconds")==0 && i+1<argc ) nSeconds = atoi(argv[++i]);
    else if( strcmp(z, "--writers")==0 && i+1<argc ) nWriter = atoi(argv[++i]);
    else if( strcmp(z, "--consumers")==0 && i+1<argc ) nConsumer = atoi(argv[++i]);
    else if( strcmp(z, "--db")==0 && i+1<argc ) zDb = argv[++i];
    else if( strcmp(z, "--extension")==0 && i+1<argc ) zExtension = argv[++i];
    else if( strcmp(z, "--seed")==0 && i+1<argc ) seed = (unsigned)atoi(argv[++i]);
    else if( strcmp(z, "--kill")==0 ) bKill = 1;
    else if( strcmp(z, "--no-cas")==0 ) bNoCas = 1;
    else if( strcmp(z, "--self-test")==0 ) bSelfTest = 1;
    else usage();
  }
  if( nWriter<1 || nConsumer<1 || nWriter+nConsumer>MAX_PROCS || nSeconds<1 ){
    usage();
  }
  zDir = strdup(zDb);
  if( (zSlash = strrchr(zDir, '/'))!=0 ){
    *zSlash = 0;
    mkdir(zDir, 0755);
  }
  free(zDir);
  snprintf(zStopFile, sizeof(zStopFile), "%s.stop", zDb);
  snprintf(zDoneFile, sizeof(zDoneFile), "%s.done", zDb);
  snprintf(zCasLog, sizeof(zCasLog), "%s.cas", zDb);
  rngState ^= (unsigned long long)seed * 0x9E3779B97F4A7C15ULL;

  printf("consumer: %d writers, %d instances of one consumer, %d s%s%s\n",
         nWriter, nConsumer, nSeconds, bKill ? ", SIGKILL" : "",
         bNoCas ? ", WITHOUT compare-and-set" : "");
  nFail = runTrial(nSeconds);
  if( bSelfTest && !bNoCas ){
    int nCaught;
    printf("self-test: the same without compare-and-set, %d s\n",
           nSeconds/2 > 2 ? nSeconds/2 : 2);
    bNoCas = 1;
    nCaught = runTrial(nSeconds/2 > 2 ? nSeconds/2 : 2);
    if( nCaught==0 ){
      printf("  FAIL self-test: without compare-and-set no check failed\n");
      nFail++;
    }else{
      printf("  ok   self-test: without compare-and-set %d checks failed\n",
             nCaught);
    }
  }
  unlink(zStopFile);
  unlink(zDoneFile);
  printf("%s\n", nFail ? "FAILED" : "all checks ok");
  return nFail ? 1 : 0;
}
