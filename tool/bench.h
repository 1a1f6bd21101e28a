/*
** bench.h -- what the parts of tool/bench share: the result of a run, the
** variants that run a workload, the workloads' sizes and the helpers.
**
**   bench.c        the harness: the workload table, rounds, reporting,
**                  the scale run
**   bench_work.c   the workloads, through the extension and by hand
**   bench_floor.c  the floors: the least any implementation can cost
**   bench_wait.c   es_wait: how soon it wakes, what waiting costs writers
*/
#ifndef BENCH_H
#define BENCH_H
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uuid/uuid.h>
#include "passthru.h"

/* The result of one run of a workload by one variant. */
typedef struct Result Result;
struct Result {
  double nEvent;     /* events processed */
  double secs;       /* time taken */
  int ok;            /* results checked */
  char zCheck[120];  /* what was wrong, if not ok */
};

/*
** Who runs a workload: the hand-written table, the extension, the
** hand-written query through the thinnest possible virtual table
** (tool/passthru.c), or the floor's bare writes into eventstore's schema,
** with all its indexes or only the two the hand-written table has.
*/
enum {
  V_HAND, V_EXT, V_PASSTHRU, V_FLOOR, V_FLOOR2,
  V_SEED,            /* the seed library's SQLite schema (bench_work.c) */
  V_COUNT
};

#define W1A_STREAMS 10000
#define W1B_STREAMS 500
#define W5_BATCHES 10000
#define EVENTS_PER_STREAM 10

/* bench.c */
extern const char *zExtension;
extern const char *zDir;
double now(void);
void die(sqlite3 *db, const char *zWhat);
void exec(sqlite3 *db, const char *zSql);
sqlite3_stmt *prepare(sqlite3 *db, const char *zSql);
void fileName(char *zBuf, int n, const char *zName);
void removeDb(const char *zPath);
sqlite3 *openDb(const char *zPath, int bExt);
void handSchema(sqlite3 *db);
int eventData(char *z, int n, int iStream, int iEvent);
void streamId(char *z, int n, int iStream);

/* bench_work.c */
typedef struct Writer Writer;
struct Writer {
  sqlite3 *db;
  int bExt;
  int eVariant;              /* V_HAND, V_EXT or V_SEED */
  sqlite3_stmt *pAppend;     /* ext: es_append(id,type,expected,type,data) */
  sqlite3_stmt *pAppendBatch;/* ext: es_append(id,type,expected,json) */
  sqlite3_stmt *pMax;        /* hand: version check */
  sqlite3_stmt *pInsert;     /* hand: insert */
  sqlite3_stmt *pBegin, *pCommit;
};
void writerOpen(Writer*, const char *zPath, int eVariant);
void writerClose(Writer*);
void step(sqlite3 *db, sqlite3_stmt *p);
long long microsNow(void);
void appendOne(Writer*, const char *zId, int iExpected, char *zData);
void runW1a(const char *zPath, int eVariant, Result*);
void runW1b(const char *zPath, int eVariant, Result*);
void runW5(const char *zPath, int eVariant, Result*);
void runW2(const char *zPath, int eVariant, Result*);
void runW3(const char *zPath, int eVariant, Result*);
void runW4(const char *zPath, int eVariant, Result*);
void seedSchema(sqlite3*);
void readAll(const char *zPath, int eVariant, long long nWant, Result*);

/* bench_pg.c: --pg CONNINFO */
int benchPg(const char *zConninfo, int nRound, char **azOnly, int nOnly);

/* bench_wait.c */
int benchWait(void);

/* bench_floor.c */
typedef struct Floor Floor;
struct Floor {
  sqlite3 *db;
  sqlite3_stmt *pLookup, *pStream, *pEv, *pBegin, *pCommit;
  unsigned long long x;      /* xorshift64* state, for the ids */
  char zId[32];              /* the stream's aggregate_id, bound STATIC */
};
void floorOpen(Floor*, const char *zPath, int bTwoIndexes);
void floorClose(Floor*);
void floorEvent(Floor*, int iStream, int iEvent, int bCheck);
void floorAppend(const char *zPath, int nStream, int bBatches, int bEachTxn,
                 int bTwoIndexes, Result*);
void checkFloor(const char *zPath, int nStream, int bVerify, Result*);

#endif /* BENCH_H */
