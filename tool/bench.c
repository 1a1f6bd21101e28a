/*
** bench.c -- eventstore against hand-written SQLite, side by side.
**
**   make bench                       the workloads W1a..W5, 3 rounds
**   tool/bench --rounds 5 W1a W3     some workloads, more rounds
**   tool/bench --scale               the 10,000,000-event scale run
**   tool/bench --floor               the floors: what the contract costs
**                                    by itself (see "floors" below)
**   tool/bench --seed                the workloads against the second
**                                    baseline, the seed library's schema
**   tool/bench --scale --floor       the scale run of the floor's writes
**   tool/bench --page-size N W1a     at another page size (PRAGMA page_size)
**   tool/bench --pg CONNINFO         the PostgreSQL twin (bench_pg.c;
**                                    make bench-pg starts a server for it)
**   tool/bench --wait                es_wait: wake-up delay, and the
**                                    writers' cost of waiters (bench_wait.c)
**
** Every workload runs through the extension and through what a careful
** user writes by hand with prepared statements, in the same process,
** alternating which goes first, on fresh files (WAL, synchronous=NORMAL).
** Each run is a forked child, so that its peak RSS is its own.  Printed:
** events/s of both (median of the rounds), the ratio extension/hand
** (median of the rounds' ratios), and the peak RSS of both.  Results are
** checked (counts, order) so that a fast wrong answer fails the run
** instead of winning it.  The workloads are in bench_work.c, the floors in
** bench_floor.c.
**
** The hand-written baseline (issue 4):
**   events(global_position INTEGER PRIMARY KEY, stream_id TEXT,
**          stream_position INT, event_id TEXT UNIQUE, event_type TEXT,
**          payload TEXT, created_at INT, UNIQUE(stream_id, stream_position))
** with the version check as SELECT max(stream_position) ... then INSERT.
*/
#include "bench.h"
#include <sys/resource.h>
#include <sys/wait.h>

const char *zExtension = "./eventstore";
const char *zDir = "build/bench";
static int onlyVariant = -1;     /* --only ext|hand: for profiling */
static int bKeep = 0;            /* --keep: leave the database files */
static int nPageSize = 0;        /* --page-size N: PRAGMA page_size; 0: SQLite's */

/* ------------------------------------------------------------- helpers */

double now(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec/1e9;
}

void die(sqlite3 *db, const char *zWhat){
  fprintf(stderr, "bench: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "");
  exit(2);
}

void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "bench: %s: %s\n", zSql, zErr);
    exit(2);
  }
}

sqlite3_stmt *prepare(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ) die(db, zSql);
  return p;
}

void fileName(char *zBuf, int n, const char *zName){
  snprintf(zBuf, n, "%s/%s.db", zDir, zName);
}

void removeDb(const char *zPath){
  char z[512];
  unlink(zPath);
  snprintf(z, sizeof(z), "%s-wal", zPath); unlink(z);
  snprintf(z, sizeof(z), "%s-shm", zPath); unlink(z);
  snprintf(z, sizeof(z), "%s-journal", zPath); unlink(z);
}

sqlite3 *openDb(const char *zPath, int bExt){
  sqlite3 *db;
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ) die(db, zPath);
  if( nPageSize ){
    /* Before anything is written: a new file takes it. */
    char zPragma[64];
    snprintf(zPragma, sizeof(zPragma), "PRAGMA page_size=%d", nPageSize);
    exec(db, zPragma);
  }
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  if( bExt ){
    char *zErr = 0;
    sqlite3_enable_load_extension(db, 1);
    if( sqlite3_load_extension(db, zExtension, 0, &zErr)!=SQLITE_OK ){
      fprintf(stderr, "bench: cannot load %s: %s\n", zExtension, zErr);
      exit(2);
    }
  }
  return db;
}

void handSchema(sqlite3 *db){
  exec(db, "CREATE TABLE IF NOT EXISTS events("
           "global_position INTEGER PRIMARY KEY, stream_id TEXT,"
           " stream_position INT, event_id TEXT UNIQUE, event_type TEXT,"
           " payload TEXT, created_at INT, UNIQUE(stream_id, stream_position))");
}

/* About 200 bytes of JSON event data. */
int eventData(char *z, int n, int iStream, int iEvent){
  return snprintf(z, n, "{\"customer\":\"customer-%06d\",\"sku\":\"SKU-%05d\","
      "\"quantity\":%d,\"price\":%d.%02d,\"currency\":\"EUR\",\"note\":"
      "\"lorem ipsum dolor sit amet, consectetur adipiscing elit sed do "
      "eiusmod tempor\",\"n\":%d}", iStream, iEvent*7%100000, iEvent%9+1,
      iStream%500, iEvent%100, iEvent);
}

void streamId(char *z, int n, int iStream){
  snprintf(z, n, "stream-%07d", iStream);
}

/* ------------------------------------------------ running and reporting */

typedef void (*RunFunc)(const char *zPath, int eVariant, Result*);

/* A workload: its run, and the variants on its two sides: the baseline
** (hand-written), and the extension or, for a floor, the floor. */
typedef struct Workload Workload;
struct Workload {
  const char *zName;
  const char *zWhat;
  RunFunc xRun;
  int aVariant[2];
  int eGroup;        /* 0: the workloads; 1: the floors (--floor); 2: the
                     ** seed library's schema as the baseline (--seed) */
};
static const Workload aWorkload[] = {
  { "W1a", "10,000 streams x 10 events, one event per append, one transaction",
    runW1a, {V_HAND, V_EXT}, 0 },
  { "W1b", "500 streams x 10 events, each append its own transaction",
    runW1b, {V_HAND, V_EXT}, 0 },
  { "W2",  "all events of 10,000 random streams (event_stream), 2 passes",
    runW2, {V_HAND, V_EXT}, 0 },
  { "W3",  "every event in global order (event_all), 5 passes",
    runW3, {V_HAND, V_EXT}, 0 },
  { "W4",  "newest 10 events of 1,000 random streams, 10 passes",
    runW4, {V_HAND, V_EXT}, 0 },
  { "W5",  "10,000 batches of 10 events (hand: 100,000 single inserts)",
    runW5, {V_HAND, V_EXT}, 0 },
  /* The floors: what any implementation of the contract pays, whatever
  ** its C does (bench_floor.c, tool/passthru.c). */
  { "F1a", "W1a's version checks and rows, straight into eventstore's schema",
    runW1a, {V_HAND, V_FLOOR}, 1 },
  { "F1a2", "the same, without the 3 indexes the hand-written table lacks",
    runW1a, {V_HAND, V_FLOOR2}, 1 },
  { "F1b", "W1b's version checks and rows, eventstore's schema",
    runW1b, {V_HAND, V_FLOOR}, 1 },
  { "F5",  "W5's version checks and rows, eventstore's schema",
    runW5, {V_HAND, V_FLOOR}, 1 },
  { "F2",  "W2 on the hand-written table through a pass-through vtab",
    runW2, {V_HAND, V_PASSTHRU}, 1 },
  { "F3",  "W3 on the hand-written table through a pass-through vtab",
    runW3, {V_HAND, V_PASSTHRU}, 1 },
  { "F4",  "W4 on the hand-written table through a pass-through vtab",
    runW4, {V_HAND, V_PASSTHRU}, 1 },
  /* The second baseline: the seed library's SQLite schema and statements
  ** (bench_work.c, V_SEED). */
  { "S1a", "W1a against the seed library's schema",
    runW1a, {V_SEED, V_EXT}, 2 },
  { "S1b", "W1b against the seed library's schema",
    runW1b, {V_SEED, V_EXT}, 2 },
  { "S2",  "W2 against the seed library's schema",
    runW2, {V_SEED, V_EXT}, 2 },
  { "S3",  "W3 against the seed library's schema",
    runW3, {V_SEED, V_EXT}, 2 },
  { "S4",  "W4 against the seed library's schema",
    runW4, {V_SEED, V_EXT}, 2 },
  { "S5",  "W5 against the seed library's schema (100,000 single inserts)",
    runW5, {V_SEED, V_EXT}, 2 },
};
#define N_WORKLOAD ((int)(sizeof(aWorkload)/sizeof(aWorkload[0])))

static const char *const azVariantFile[V_COUNT] = {
  [V_HAND] = "hand", [V_EXT] = "ext", [V_PASSTHRU] = "passthru",
  [V_FLOOR] = "floor", [V_FLOOR2] = "floor2", [V_SEED] = "seed"
};

/*
** Run xWork(pArg, &result) in a forked child, so that its peak RSS (KiB,
** *pnRss) is its own; a child that crashes or fails gives a result that
** is not ok.
*/
static void runForked(void (*xWork)(void*, Result*), void *pArg,
                      Result *pRes, long *pnRss){
  int fd[2], status;
  pid_t pid;
  struct rusage ru;
  if( pipe(fd) ){ perror("pipe"); exit(2); }
  pid = fork();
  if( pid==0 ){
    Result r;
    close(fd[0]);
    memset(&r, 0, sizeof(r));
    r.ok = 1;
    xWork(pArg, &r);
    if( write(fd[1], &r, sizeof(r))!=(ssize_t)sizeof(r) ) _exit(3);
    _exit(0);
  }
  close(fd[1]);
  memset(pRes, 0, sizeof(*pRes));
  if( read(fd[0], pRes, sizeof(*pRes))!=(ssize_t)sizeof(*pRes) ){
    pRes->ok = 0;
    snprintf(pRes->zCheck, sizeof(pRes->zCheck), "the run crashed");
  }
  close(fd[0]);
  wait4(pid, &status, 0, &ru);
  *pnRss = ru.ru_maxrss;
  if( !WIFEXITED(status) || WEXITSTATUS(status)!=0 ){
    pRes->ok = 0;
    snprintf(pRes->zCheck, sizeof(pRes->zCheck), "the run failed");
  }
}

/* One side of a workload, run in the child. */
typedef struct Side Side;
struct Side { const Workload *pW; int eVariant; };

static void runSide(void *pArg, Result *pRes){
  Side *pS = (Side*)pArg;
  char zPath[256], zFile[64];
  snprintf(zFile, sizeof(zFile), "%s-%s", pS->pW->zName,
           azVariantFile[pS->eVariant]);
  fileName(zPath, sizeof(zPath), zFile);
  pS->pW->xRun(zPath, pS->eVariant, pRes);
  if( !bKeep ) removeDb(zPath);
}

static int cmpDouble(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}

static double median(double *a, int n){
  qsort(a, n, sizeof(double), cmpDouble);
  return n%2 ? a[n/2] : (a[n/2-1]+a[n/2])/2;
}

static int scaleRun(int eVariant);

static void usage(const char *zArgv0){
  int iW;
  fprintf(stderr, "usage: %s [--rounds N] [--extension PATH] [--only ext|hand]"
          " [--keep] [--scale] [--floor] [--seed] [--wait] [--page-size N]"
          " [WORKLOAD ...]\n"
          "       %s --pg CONNINFO [--rounds N] [P1a P1b P1c P2 P3]\nworkloads:",
          zArgv0, zArgv0);
  for(iW=0; iW<N_WORKLOAD; iW++) fprintf(stderr, " %s", aWorkload[iW].zName);
  fprintf(stderr, "\n");
}

/* Run workload pW for nRound rounds and print its line; 0 if its results
** were right. */
static int runWorkload(const Workload *pW, int nRound){
  double aSide[2][64];
  long anRss[2] = {0, 0};
  int bOk = 1, r, k;
  char zWhy[160] = "";
  for(r=0; r<nRound && r<64; r++){
    for(k=0; k<2; k++){
      int iSide = (r%2==0) ? 1-k : k;     /* alternate who goes first */
      Side side;
      Result res;
      long nRss;
      if( onlyVariant>=0 && iSide!=onlyVariant ){
        aSide[iSide][r] = 1;
        continue;
      }
      side.pW = pW;
      side.eVariant = pW->aVariant[iSide];
      runForked(runSide, &side, &res, &nRss);
      if( !res.ok ){
        bOk = 0;
        snprintf(zWhy, sizeof(zWhy), "%s: %s", azVariantFile[side.eVariant],
                 res.zCheck);
      }
      aSide[iSide][r] = res.nEvent / res.secs;
      if( nRss>anRss[iSide] ) anRss[iSide] = nRss;
    }
  }
  {
    /* The ratio is the median of each round's ratio: a round runs both
    ** variants back to back, so a slow spell of the machine moves both
    ** sides of a ratio more than it moves either side of two medians. */
    double aRatio[64], mRatio, mExt, mHand;
    int n = nRound<64 ? nRound : 64;
    for(r=0; r<n; r++) aRatio[r] = aSide[1][r]/aSide[0][r];
    mRatio = median(aRatio, n);
    mExt = median(aSide[1], n);
    mHand = median(aSide[0], n);
    printf("%-4s %13.0f %13.0f %7.2f %8ld K %8ld K  %s%s%s\n",
           pW->zName, mExt, mHand, mRatio, anRss[1], anRss[0],
           pW->zWhat, bOk ? "" : "  WRONG RESULT: ", zWhy);
    fflush(stdout);
  }
  return bOk;
}

int main(int argc, char **argv){
  int nRound = 3, i, iW, nFail = 0, bScale = 0, bFloor = 0, bWait = 0;
  int bSeed = 0;
  int aSelected[N_WORKLOAD];
  int nSelected = 0;
  const char *zPg = 0;
  char *azPg[16];
  int nPg = 0;
  memset(aSelected, 0, sizeof(aSelected));
  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "--pg")==0 && i+1<argc ){
      zPg = argv[++i];
    }else if( zPg && argv[i][0]=='P' && nPg<16 ){
      azPg[nPg++] = argv[i];
    }else if( strcmp(argv[i], "--rounds")==0 && i+1<argc ){
      nRound = atoi(argv[++i]);
      if( nRound<1 ) nRound = 1;
    }else if( strcmp(argv[i], "--extension")==0 && i+1<argc ){
      zExtension = argv[++i];
    }else if( strcmp(argv[i], "--only")==0 && i+1<argc ){
      onlyVariant = strcmp(argv[++i], "ext")==0;
    }else if( strcmp(argv[i], "--keep")==0 ){
      bKeep = 1;
    }else if( strcmp(argv[i], "--scale")==0 ){
      bScale = 1;
    }else if( strcmp(argv[i], "--floor")==0 ){
      bFloor = 1;
    }else if( strcmp(argv[i], "--wait")==0 ){
      bWait = 1;
    }else if( strcmp(argv[i], "--seed")==0 ){
      bSeed = 1;
    }else if( strcmp(argv[i], "--page-size")==0 && i+1<argc ){
      nPageSize = atoi(argv[++i]);
    }else{
      int bKnown = 0;
      for(iW=0; iW<N_WORKLOAD; iW++){
        if( strcmp(argv[i], aWorkload[iW].zName)==0 ){
          aSelected[iW] = 1;
          nSelected++;
          bKnown = 1;
        }
      }
      if( !bKnown ){
        usage(argv[0]);
        return 2;
      }
    }
  }
  if( zPg ) return benchPg(zPg, nRound, azPg, nPg);
  if( system("mkdir -p build/bench")!=0 ) return 2;
  if( bWait ) return benchWait();
  if( bScale ){
    /* The extension against its targets, then the hand-written table
    ** the same way, for comparison (--only picks one); with --floor, the
    ** floor's writes (floorEvent) instead. */
    int rc = 0;
    if( bFloor ) return scaleRun(V_FLOOR);
    if( onlyVariant!=0 ) rc |= scaleRun(V_EXT);
    if( onlyVariant!=1 ) scaleRun(V_HAND);
    return rc;
  }
  if( nSelected==0 ){
    /* Default: the workloads; --floor: the floors; --seed: the workloads
    ** against the seed library's schema. */
    int eGroup = bFloor ? 1 : bSeed ? 2 : 0;
    for(iW=0; iW<N_WORKLOAD; iW++) aSelected[iW] = aWorkload[iW].eGroup==eGroup;
  }

  printf("eventstore bench: SQLite %s, %d rounds, median events/s",
         sqlite3_libversion(), nRound);
  if( nPageSize ) printf(", page_size %d", nPageSize);
  printf("\n");
  printf("%-4s %13s %13s %7s %10s %10s  %s\n", "",
         bFloor ? "floor" : "extension", bSeed ? "seed schema" : "hand-written",
         "ratio", "RSS ext", bSeed ? "RSS seed" : "RSS hand", "workload");
  for(iW=0; iW<N_WORKLOAD; iW++){
    if( aSelected[iW] && !runWorkload(&aWorkload[iW], nRound) ) nFail++;
  }
  return nFail ? 1 : 0;
}

/* ---------------------------------------------------------- scale mode */

#define SCALE_EVENTS   10000000
#define SCALE_STREAMS  100000
#define SCALE_WINDOW   100000
#define SCALE_RSS_LIMIT_KB (32*1024)

/*
** Append SCALE_EVENTS events (one per append, round-robin over
** SCALE_STREAMS streams, in transactions of 10,000).  The append cost is
** timed over two windows of the same kind of work (appends to streams that
** already exist): events 100,000-199,999, when the store holds 100k
** events, and the last 100,000, when it holds 10M.  Then every event is
** scanned through event_all in a child process, whose peak RSS is
** reported.  The targets apply to the extension (V_EXT); the hand-written
** run and the floor report the same figures for comparison and fail
** nothing.
*/
/* The scale run's full scan, in a child of its own. */
typedef struct ScanArg ScanArg;
struct ScanArg { const char *zPath; int eVariant; };
static void scanAll(void *pArg, Result *pRes){
  ScanArg *pA = (ScanArg*)pArg;
  readAll(pA->zPath, pA->eVariant, SCALE_EVENTS, pRes);
}

static int scaleRun(int eVariant){
  static const char *const azWho[] = {
    [V_HAND] = "hand-written", [V_EXT] = "extension", [V_FLOOR] = "floor" };
  static const char *const azFile[] = {
    [V_HAND] = "scale-hand", [V_EXT] = "scale-ext", [V_FLOOR] = "scale-floor" };
  char zPath[256], zData[400], zId[32];
  const char *zWho = azWho[eVariant];
  int bExt = eVariant==V_EXT;
  Writer w;
  Floor f;
  sqlite3 *db;
  sqlite3_stmt *pBegin, *pCommit;
  long long i;
  double tFirst = 0, tLast = 0, t0 = 0;
  int nFail = 0;
  fileName(zPath, sizeof(zPath), azFile[eVariant]);
  if( eVariant==V_FLOOR ){
    floorOpen(&f, zPath, 0);
    db = f.db; pBegin = f.pBegin; pCommit = f.pCommit;
  }else{
    writerOpen(&w, zPath, bExt);
    db = w.db; pBegin = w.pBegin; pCommit = w.pCommit;
  }
  printf("scale, %s: appending %d events over %d streams...\n", zWho,
         SCALE_EVENTS, SCALE_STREAMS);
  fflush(stdout);
  for(i=0; i<SCALE_EVENTS; i++){
    int s = (int)(i % SCALE_STREAMS);
    int e = (int)(i / SCALE_STREAMS);
    if( i%10000==0 ) step(db, pBegin);
    if( i==SCALE_WINDOW || i==SCALE_EVENTS-SCALE_WINDOW ) t0 = now();
    if( eVariant==V_FLOOR ){
      floorEvent(&f, s, e, 1);
    }else{
      streamId(zId, sizeof(zId), s);
      eventData(zData, sizeof(zData), s, e);
      appendOne(&w, zId, e, zData);
    }
    if( i%10000==9999 ) step(db, pCommit);
    if( i==2*SCALE_WINDOW-1 ) tFirst = now() - t0;
    if( i==SCALE_EVENTS-1 ) tLast = now() - t0;
    if( i%1000000==999999 ){ printf("  %lld\n", i+1); fflush(stdout); }
  }
  if( eVariant==V_FLOOR ) floorClose(&f); else writerClose(&w);
  printf("%s: append cost per event: %.2f us at 100k, %.2f us at 10M: ratio %.2f%s\n",
         zWho, tFirst/SCALE_WINDOW*1e6, tLast/SCALE_WINDOW*1e6, tLast/tFirst,
         bExt ? " (target <= 2.0, issue 17)" : "");
  if( tLast/tFirst>2.0 ) nFail++;
  {
    ScanArg scan;
    Result res;
    long nRss;
    scan.zPath = zPath;
    scan.eVariant = eVariant==V_HAND ? V_HAND : V_EXT;
    runForked(scanAll, &scan, &res, &nRss);
    printf("%s: full scan: %.0f events/s, peak RSS %ld KiB", zWho,
           res.nEvent/res.secs, nRss);
    if( bExt ) printf(" (target < %d KiB)", SCALE_RSS_LIMIT_KB);
    printf("%s%s\n", res.ok ? "" : "  WRONG RESULT: ", res.ok ? "" : res.zCheck);
    if( !res.ok || nRss>=SCALE_RSS_LIMIT_KB ) nFail++;
  }
  removeDb(zPath);
  return bExt && nFail ? 1 : 0;
}
