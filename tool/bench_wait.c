/*
** bench_wait.c -- tool/bench --wait: how soon es_wait wakes, and what
** waiting costs the writers (issue 13).  Not a test: it reports figures
** against targets, measured on this machine in this run.
**
** WAKE-UP.  A writer process appends one event at a time, 1,000 times, at
** random intervals of 5-25 ms, and writes the CLOCK_MONOTONIC time just
** after each COMMIT into shared memory; a waiter process loops on
** es_wait(last seen position) and notes the time each position came
** back.  The delay of an append is the waiter's time minus the writer's
** (one clock for both processes).  Printed: median and worst, against the
** target of 50 ms.
**
** COST.  A writer appends 20,000 single-event appends as fast as it can,
** alone, and again while 4 other processes wait on es_wait in a loop
** (re-calling it at once after every wake-up, the busiest a waiter can
** be); 3 rounds, alternating which goes first.  Printed: appends/s of
** both and the ratio (median of the rounds), against the target of 0.95.
** WAL mode, synchronous=NORMAL, as the other workloads.
*/
#include "bench.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define WAKE_APPENDS 1000
#define COST_APPENDS 20000
#define COST_WAITERS 4
#define COST_ROUNDS 3

/* Shared between the processes of the wake-up measure. */
typedef struct WakeShared WakeShared;
struct WakeShared {
  volatile int bReady;                  /* the waiter is waiting */
  double aCommitted[WAKE_APPENDS+1];    /* by global position */
  double aSeen[WAKE_APPENDS+1];
};

static sqlite3 *openWaitDb(const char *zPath){
  sqlite3 *db = openDb(zPath, 1);
  sqlite3_busy_timeout(db, 10000);
  return db;
}

static long long stepInt(sqlite3 *db, sqlite3_stmt *p){
  long long v = 0;
  int rc = sqlite3_step(p);
  if( rc==SQLITE_ROW ){
    v = sqlite3_column_int64(p, 0);
  }else if( rc!=SQLITE_DONE ){
    die(db, sqlite3_sql(p));
  }
  sqlite3_reset(p);
  return v;
}

/* Loop on es_wait until the store reaches nLast (or is killed); when pW
** is given, note when each position was first seen. */
static void waiterLoop(const char *zPath, long long nLast, WakeShared *pW){
  sqlite3 *db = openWaitDb(zPath);
  sqlite3_stmt *pWait = prepare(db, "SELECT es_wait(?1, 1000)");
  long long iSeen = 0;
  if( pW ) pW->bReady = 1;
  while( iSeen<nLast ){
    long long iPos, k;
    sqlite3_bind_int64(pWait, 1, iSeen);
    iPos = stepInt(db, pWait);
    if( pW ){
      double t = now();
      for(k=iSeen+1; k<=iPos && k<=WAKE_APPENDS; k++) pW->aSeen[k] = t;
    }
    iSeen = iPos;
  }
  sqlite3_finalize(pWait);
  sqlite3_close(db);
}

static int cmpDouble(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}

static void wakeUp(void){
  char zPath[256];
  WakeShared *pW;
  sqlite3 *db;
  sqlite3_stmt *pAppend;
  pid_t pid;
  double aDelay[WAKE_APPENDS];
  int i, status;

  fileName(zPath, sizeof(zPath), "wait-wake");
  removeDb(zPath);
  db = openWaitDb(zPath);
  exec(db, "SELECT es_init()");
  pW = mmap(0, sizeof(*pW), PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS,
            -1, 0);
  if( pW==MAP_FAILED ){ fprintf(stderr, "bench: mmap failed\n"); exit(2); }
  memset(pW, 0, sizeof(*pW));
  fflush(stdout);
  pid = fork();
  if( pid==0 ){
    waiterLoop(zPath, WAKE_APPENDS, pW);
    _exit(0);
  }
  while( !pW->bReady ) usleep(1000);
  usleep(50000);
  pAppend = prepare(db, "SELECT es_append('w','T','any','E','{}')"
                        " ->> 'global_position'");
  srand(7);
  for(i=1; i<=WAKE_APPENDS; i++){
    long long g;
    usleep(5000 + rand()%20000);
    g = stepInt(db, pAppend);
    if( g>=1 && g<=WAKE_APPENDS ) pW->aCommitted[g] = now();
  }
  sqlite3_finalize(pAppend);
  waitpid(pid, &status, 0);
  sqlite3_close(db);
  for(i=1; i<=WAKE_APPENDS; i++){
    aDelay[i-1] = (pW->aSeen[i] - pW->aCommitted[i])*1000.0;
  }
  qsort(aDelay, WAKE_APPENDS, sizeof(double), cmpDouble);
  printf("wake-up after an append by another process (%d appends):"
         " median %.2f ms, worst %.2f ms (target: within 50 ms)  %s\n",
         WAKE_APPENDS, aDelay[WAKE_APPENDS/2], aDelay[WAKE_APPENDS-1],
         aDelay[WAKE_APPENDS-1] <= 50.0 ? "ok" : "MISSED");
  munmap(pW, sizeof(*pW));
  removeDb(zPath);
}

/* Appends/s of one writer, with nWaiter processes waiting meanwhile. */
static double costRun(int nWaiter){
  char zPath[256];
  sqlite3 *db;
  sqlite3_stmt *pAppend;
  pid_t aPid[COST_WAITERS];
  double t0, secs;
  int i;
  fileName(zPath, sizeof(zPath), "wait-cost");
  removeDb(zPath);
  db = openWaitDb(zPath);
  exec(db, "SELECT es_init()");
  fflush(stdout);
  for(i=0; i<nWaiter; i++){
    aPid[i] = fork();
    if( aPid[i]==0 ){
      waiterLoop(zPath, COST_APPENDS, 0);
      _exit(0);
    }
  }
  usleep(200000);                  /* the waiters are waiting */
  pAppend = prepare(db, "SELECT es_append('c'||(?1 % 100),'T','any','E','{}')");
  t0 = now();
  for(i=0; i<COST_APPENDS; i++){
    sqlite3_bind_int(pAppend, 1, i);
    if( sqlite3_step(pAppend)!=SQLITE_ROW ) die(db, "es_append");
    sqlite3_reset(pAppend);
  }
  secs = now() - t0;
  sqlite3_finalize(pAppend);
  for(i=0; i<nWaiter; i++){
    int status;
    waitpid(aPid[i], &status, 0);
  }
  sqlite3_close(db);
  removeDb(zPath);
  return COST_APPENDS/secs;
}

static void writerCost(void){
  double aAlone[COST_ROUNDS], aWith[COST_ROUNDS], aRatio[COST_ROUNDS];
  double mRatio;
  int r;
  for(r=0; r<COST_ROUNDS; r++){
    if( r%2==0 ){
      aAlone[r] = costRun(0);
      aWith[r] = costRun(COST_WAITERS);
    }else{
      aWith[r] = costRun(COST_WAITERS);
      aAlone[r] = costRun(0);
    }
    aRatio[r] = aWith[r]/aAlone[r];
  }
  qsort(aRatio, COST_ROUNDS, sizeof(double), cmpDouble);
  qsort(aAlone, COST_ROUNDS, sizeof(double), cmpDouble);
  qsort(aWith, COST_ROUNDS, sizeof(double), cmpDouble);
  mRatio = aRatio[COST_ROUNDS/2];
  printf("writer with %d processes waiting in es_wait: %.0f appends/s, alone"
         " %.0f appends/s: ratio %.3f (target: 0.95 or more)  %s\n",
         COST_WAITERS, aWith[COST_ROUNDS/2], aAlone[COST_ROUNDS/2], mRatio,
         mRatio>=0.95 ? "ok" : "MISSED");
}

int benchWait(void){
  printf("eventstore bench --wait: SQLite %s, WAL\n", sqlite3_libversion());
  wakeUp();
  writerCost();
  return 0;
}
