/*
** bench.c -- eventstore against hand-written SQLite, side by side.
**
**   make bench                       the workloads W1a..W5, 3 rounds
**   tool/bench --rounds 5 W1a W3     some workloads, more rounds
**   tool/bench --scale               the 10,000,000-event scale run
**   tool/bench --floor               the floors: what the contract costs
**                                    by itself (see "floors" below)
**   tool/bench --scale --floor       the scale run of the floor's writes
**
** Every workload runs through the extension and through what a careful
** user writes by hand with prepared statements, in the same process,
** alternating which goes first, on fresh files (WAL, synchronous=NORMAL).
** Each run is a forked child, so that its peak RSS is its own.  Printed:
** events/s of both (median of the rounds), the ratio extension/hand
** (median of the rounds' ratios), and the peak RSS of both.  Results are checked (counts, order) so that a
** fast wrong answer fails the run instead of winning it.
**
** The hand-written baseline (issue 4):
**   events(global_position INTEGER PRIMARY KEY, stream_id TEXT,
**          stream_position INT, event_id TEXT UNIQUE, event_type TEXT,
**          payload TEXT, created_at INT, UNIQUE(stream_id, stream_position))
** with the version check as SELECT max(stream_position) ... then INSERT.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <uuid/uuid.h>
#include "passthru.h"

static const char *zExtension = "./eventstore";
static int onlyVariant = -1;     /* --only ext|hand: for profiling */
static int bKeep = 0;            /* --keep: leave the database files */
static const char *zDir = "build/bench";

/* ------------------------------------------------------------- helpers */

static double now(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec/1e9;
}

static void die(sqlite3 *db, const char *zWhat){
  fprintf(stderr, "bench: %s: %s\n", zWhat, db ? sqlite3_errmsg(db) : "");
  exit(2);
}

static void exec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "bench: %s: %s\n", zSql, zErr);
    exit(2);
  }
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ) die(db, zSql);
  return p;
}

static void fileName(char *zBuf, int n, const char *zName){
  snprintf(zBuf, n, "%s/%s.db", zDir, zName);
}

static void removeDb(const char *zPath){
  char z[512];
  unlink(zPath);
  snprintf(z, sizeof(z), "%s-wal", zPath); unlink(z);
  snprintf(z, sizeof(z), "%s-shm", zPath); unlink(z);
  snprintf(z, sizeof(z), "%s-journal", zPath); unlink(z);
}

static sqlite3 *openDb(const char *zPath, int bExt){
  sqlite3 *db;
  if( sqlite3_open(zPath, &db)!=SQLITE_OK ) die(db, zPath);
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

static void handSchema(sqlite3 *db){
  exec(db, "CREATE TABLE IF NOT EXISTS events("
           "global_position INTEGER PRIMARY KEY, stream_id TEXT,"
           " stream_position INT, event_id TEXT UNIQUE, event_type TEXT,"
           " payload TEXT, created_at INT, UNIQUE(stream_id, stream_position))");
}

/* About 200 bytes of JSON event data. */
static int eventData(char *z, int n, int iStream, int iEvent){
  return snprintf(z, n, "{\"customer\":\"customer-%06d\",\"sku\":\"SKU-%05d\","
      "\"quantity\":%d,\"price\":%d.%02d,\"currency\":\"EUR\",\"note\":"
      "\"lorem ipsum dolor sit amet, consectetur adipiscing elit sed do "
      "eiusmod tempor\",\"n\":%d}", iStream, iEvent*7%100000, iEvent%9+1,
      iStream%500, iEvent%100, iEvent);
}

static void streamId(char *z, int n, int iStream){
  snprintf(z, n, "stream-%07d", iStream);
}

/* --------------------------------------------------------- the writers */

/* One writer: appends one event (or a batch of nBatch) at a time. */
typedef struct Writer Writer;
struct Writer {
  sqlite3 *db;
  int bExt;
  sqlite3_stmt *pAppend;     /* ext: es_append(id,type,expected,type,data) */
  sqlite3_stmt *pAppendBatch;/* ext: es_append(id,type,expected,json) */
  sqlite3_stmt *pMax;        /* hand: version check */
  sqlite3_stmt *pInsert;     /* hand: insert */
  sqlite3_stmt *pBegin, *pCommit;
};

static void writerOpen(Writer *w, const char *zPath, int bExt){
  memset(w, 0, sizeof(*w));
  removeDb(zPath);
  w->db = openDb(zPath, bExt);
  w->bExt = bExt;
  if( bExt ){
    exec(w->db, "SELECT es_init()");
    w->pAppend = prepare(w->db, "SELECT es_append(?1,'Order',?2,?3,?4)");
    w->pAppendBatch = prepare(w->db, "SELECT es_append(?1,'Order',?2,?3)");
  }else{
    handSchema(w->db);
    w->pMax = prepare(w->db, "SELECT max(stream_position) FROM events WHERE stream_id=?1");
    w->pInsert = prepare(w->db, "INSERT INTO events(stream_id,stream_position,"
        "event_id,event_type,payload,created_at) VALUES(?1,?2,?3,?4,?5,?6)");
  }
  w->pBegin = prepare(w->db, "BEGIN IMMEDIATE");
  w->pCommit = prepare(w->db, "COMMIT");
}

static void writerClose(Writer *w){
  sqlite3_finalize(w->pAppend);
  sqlite3_finalize(w->pAppendBatch);
  sqlite3_finalize(w->pMax);
  sqlite3_finalize(w->pInsert);
  sqlite3_finalize(w->pBegin);
  sqlite3_finalize(w->pCommit);
  if( sqlite3_close(w->db)!=SQLITE_OK ) die(w->db, "close");
}

static void step(sqlite3 *db, sqlite3_stmt *p){
  int rc = sqlite3_step(p);
  if( rc!=SQLITE_DONE && rc!=SQLITE_ROW ) die(db, sqlite3_sql(p));
  sqlite3_reset(p);
}

static long long microsNow(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec*1000000 + ts.tv_nsec/1000;
}

/* The hand-written append of nEvent events to one stream. */
static void handAppend(Writer *w, const char *zId, int iExpected,
                       const char *zType, char **azData, int nEvent){
  int iVersion = 0, i;
  sqlite3_bind_text(w->pMax, 1, zId, -1, SQLITE_STATIC);
  if( sqlite3_step(w->pMax)==SQLITE_ROW ) iVersion = sqlite3_column_int(w->pMax, 0);
  sqlite3_reset(w->pMax);
  if( iVersion!=iExpected ){
    fprintf(stderr, "bench: hand-written conflict on %s\n", zId);
    exit(2);
  }
  for(i=0; i<nEvent; i++){
    uuid_t u;
    char zUuid[37];
    uuid_generate_random(u);
    uuid_unparse_lower(u, zUuid);
    sqlite3_bind_text(w->pInsert, 1, zId, -1, SQLITE_STATIC);
    sqlite3_bind_int(w->pInsert, 2, iVersion + 1 + i);
    sqlite3_bind_text(w->pInsert, 3, zUuid, 36, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 4, zType, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 5, azData[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->pInsert, 6, microsNow());
    step(w->db, w->pInsert);
  }
}

/* One event through either path. */
static void appendOne(Writer *w, const char *zId, int iExpected, char *zData){
  if( w->bExt ){
    sqlite3_bind_text(w->pAppend, 1, zId, -1, SQLITE_STATIC);
    sqlite3_bind_int(w->pAppend, 2, iExpected);
    sqlite3_bind_text(w->pAppend, 3, "OrderLineAdded", -1, SQLITE_STATIC);
    sqlite3_bind_text(w->pAppend, 4, zData, -1, SQLITE_STATIC);
    if( sqlite3_step(w->pAppend)!=SQLITE_ROW ) die(w->db, "es_append");
    sqlite3_reset(w->pAppend);
  }else{
    handAppend(w, zId, iExpected, "OrderLineAdded", &zData, 1);
  }
}

/* ------------------------------------------------------- the workloads */

typedef struct Result Result;
struct Result {
  double nEvent;     /* events processed */
  double secs;       /* time taken */
  int ok;            /* results checked */
  char zCheck[120];  /* what was wrong, if not ok */
};

#define W1A_STREAMS 10000
#define W1B_STREAMS 500
#define EVENTS_PER_STREAM 10

/* W1a/W1b: append streams x 10 events round-robin. */
static void populate(const char *zPath, int bExt, int nStream, int bOneTxn,
                     Result *pRes){
  Writer w;
  char zData[400], zId[32];
  int e, s;
  double t0;
  writerOpen(&w, zPath, bExt);
  t0 = now();
  if( bOneTxn ) step(w.db, w.pBegin);
  for(e=0; e<EVENTS_PER_STREAM; e++){
    for(s=0; s<nStream; s++){
      streamId(zId, sizeof(zId), s);
      eventData(zData, sizeof(zData), s, e);
      if( !bOneTxn && !bExt ) step(w.db, w.pBegin);
      appendOne(&w, zId, e, zData);
      if( !bOneTxn && !bExt ) step(w.db, w.pCommit);
    }
  }
  if( bOneTxn ) step(w.db, w.pCommit);
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nStream*EVENTS_PER_STREAM;
  writerClose(&w);
}

/* Check a populated database: count, and positions 1..10 per stream. */
static void checkPopulated(const char *zPath, int bExt, int nStream,
                           Result *pRes){
  sqlite3 *db = openDb(zPath, bExt);
  sqlite3_stmt *p = prepare(db, bExt
    ? "SELECT count(*), count(DISTINCT stream_id), max(stream_position),"
      " sum(stream_position) FROM event_all"
    : "SELECT count(*), count(DISTINCT stream_id), max(stream_position),"
      " sum(stream_position) FROM events");
  long long n = 0, nS = 0, mx = 0, sum = 0;
  if( sqlite3_step(p)==SQLITE_ROW ){
    n = sqlite3_column_int64(p, 0); nS = sqlite3_column_int64(p, 1);
    mx = sqlite3_column_int64(p, 2); sum = sqlite3_column_int64(p, 3);
  }
  sqlite3_finalize(p);
  sqlite3_close(db);
  pRes->ok = n==(long long)nStream*EVENTS_PER_STREAM && nS==nStream
          && mx==EVENTS_PER_STREAM && sum==(long long)nStream*55;
  if( !pRes->ok ){
    snprintf(pRes->zCheck, sizeof(pRes->zCheck), "count %lld streams %lld"
             " max %lld sum %lld", n, nS, mx, sum);
  }
}

/* Read every column a user reads; returns a checksum of the bytes. */
static long long readRow(sqlite3_stmt *p, int nCol){
  long long sum = 0;
  int i;
  for(i=0; i<nCol; i++){
    if( sqlite3_column_type(p, i)==SQLITE_INTEGER ){
      sum += sqlite3_column_int64(p, i);
    }else{
      const unsigned char *z = sqlite3_column_text(p, i);
      int n = sqlite3_column_bytes(p, i);
      if( z && n ) sum += z[0] + z[n-1] + n;
    }
  }
  return sum;
}

/* The columns read: position, stream, stream position, event id, type,
** data, timestamp. */
#define EXT_COLUMNS "global_position, stream_id, stream_position, event_id," \
                    " event_type, data, occurred_at"
#define HAND_COLUMNS "global_position, stream_id, stream_position, event_id," \
                     " event_type, payload, created_at"

static unsigned rng = 12345;
static int nextRandom(int n){
  rng = rng*1103515245 + 12345;
  return (int)((rng>>8) % (unsigned)n);
}

/*
** Who reads: the extension's tables, the hand-written query, or (--floor)
** the hand-written query through the thinnest possible virtual table
** (tool/passthru.c), on the hand-written database.
*/
#define V_HAND      0
#define V_EXT       1
#define V_PASSTHRU  2
#define V_FLOOR     3     /* a writer only: floorEvent() (--scale --floor) */

#define HAND_STREAM_SQL "SELECT " HAND_COLUMNS " FROM events WHERE stream_id=?1" \
                        " ORDER BY stream_position"
#define HAND_NEWEST_SQL "SELECT " HAND_COLUMNS " FROM events WHERE stream_id=?1" \
                        " ORDER BY stream_position DESC LIMIT 10"
#define HAND_ALL_SQL    "SELECT " HAND_COLUMNS " FROM events ORDER BY global_position"

static sqlite3 *openReader(const char *zPath, int eVariant){
  sqlite3 *db = openDb(zPath, eVariant==V_EXT);
  if( eVariant==V_PASSTHRU ){
    /* Column 2 is stream_position, column 0 global_position. */
    if( passthruRegister(db, "pt_stream", HAND_STREAM_SQL, 7, 2, 0)
     || passthruRegister(db, "pt_newest", HAND_NEWEST_SQL, 7, 2, 1)
     || passthruRegister(db, "pt_all", HAND_ALL_SQL, 7, 0, 0) ){
      die(db, "passthru");
    }
  }
  return db;
}

/* W2: all events of 10,000 random streams; W4: the newest 10 of 1,000. */
static void readStreams(const char *zPath, int eVariant, int nRead,
                        int bNewest, Result *pRes){
  sqlite3 *db = openReader(zPath, eVariant);
  sqlite3_stmt *p;
  char zId[32];
  long long nRow = 0, sum = 0;
  int i, bad = 0;
  double t0;
  static const char *const azNewest[] = {
    HAND_NEWEST_SQL,
    "SELECT " EXT_COLUMNS " FROM event_stream(?1)"
    " ORDER BY stream_position DESC LIMIT 10",
    "SELECT * FROM pt_newest(?1) ORDER BY c2 DESC LIMIT 10"
  };
  static const char *const azStream[] = {
    HAND_STREAM_SQL,
    "SELECT " EXT_COLUMNS " FROM event_stream(?1)",
    "SELECT * FROM pt_stream(?1) ORDER BY c2"
  };
  p = prepare(db, bNewest ? azNewest[eVariant] : azStream[eVariant]);
  t0 = now();
  for(i=0; i<nRead; i++){
    int iPrev = bNewest ? EVENTS_PER_STREAM+1 : 0, k = 0;
    char zStream[48];
    streamId(zId, sizeof(zId), nextRandom(W1A_STREAMS));
    if( eVariant==V_EXT ){
      snprintf(zStream, sizeof(zStream), "%s:Order", zId);
      sqlite3_bind_text(p, 1, zStream, -1, SQLITE_TRANSIENT);
    }else{
      sqlite3_bind_text(p, 1, zId, -1, SQLITE_TRANSIENT);
    }
    while( sqlite3_step(p)==SQLITE_ROW ){
      int pos = sqlite3_column_int(p, 2);
      if( bNewest ? pos!=iPrev-1 : pos!=iPrev+1 ) bad++;
      iPrev = pos;
      sum += readRow(p, 7);
      k++;
    }
    if( k!=EVENTS_PER_STREAM ) bad++;
    nRow += k;
    sqlite3_reset(p);
  }
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nRow;
  pRes->ok = bad==0 && nRow==(long long)nRead*EVENTS_PER_STREAM && sum!=0;
  if( !pRes->ok ) snprintf(pRes->zCheck, sizeof(pRes->zCheck),
                           "%d wrong rows, %lld rows", bad, nRow);
  sqlite3_finalize(p);
  sqlite3_close(db);
}

/* W3: every event in global order. */
static void readAll(const char *zPath, int eVariant, long long nWant,
                    Result *pRes){
  sqlite3 *db = openReader(zPath, eVariant);
  static const char *const azAll[] = {
    HAND_ALL_SQL,
    "SELECT " EXT_COLUMNS " FROM event_all ORDER BY global_position",
    "SELECT * FROM pt_all ORDER BY c0"
  };
  sqlite3_stmt *p = prepare(db, azAll[eVariant]);
  long long nRow = 0, iPrev = 0, sum = 0;
  int bad = 0;
  double t0 = now();
  while( sqlite3_step(p)==SQLITE_ROW ){
    long long g = sqlite3_column_int64(p, 0);
    if( g<=iPrev ) bad++;
    iPrev = g;
    sum += readRow(p, 7);
    nRow++;
  }
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nRow;
  pRes->ok = bad==0 && nRow==nWant && sum!=0;
  if( !pRes->ok ) snprintf(pRes->zCheck, sizeof(pRes->zCheck),
                           "%d out of order, %lld rows of %lld", bad, nRow, nWant);
  sqlite3_finalize(p);
  sqlite3_close(db);
}

/* W5: 10,000 appends of 10 events each; by hand, 100,000 single inserts. */
#define W5_BATCHES 10000
static void appendBatches(const char *zPath, int bExt, Result *pRes){
  Writer w;
  char *azData[EVENTS_PER_STREAM];
  char zJson[EVENTS_PER_STREAM*420], zId[32];
  int b, i;
  double t0;
  for(i=0; i<EVENTS_PER_STREAM; i++) azData[i] = malloc(400);
  writerOpen(&w, zPath, bExt);
  t0 = now();
  step(w.db, w.pBegin);
  for(b=0; b<W5_BATCHES; b++){
    streamId(zId, sizeof(zId), b);
    for(i=0; i<EVENTS_PER_STREAM; i++){
      eventData(azData[i], 400, b, i);
    }
    if( bExt ){
      /* The application builds the JSON array of its events. */
      int n = 0;
      zJson[n++] = '[';
      for(i=0; i<EVENTS_PER_STREAM; i++){
        n += snprintf(zJson+n, sizeof(zJson)-n,
                      "%s{\"event_type\":\"OrderLineAdded\",\"data\":%s}",
                      i ? "," : "", azData[i]);
      }
      zJson[n++] = ']';
      zJson[n] = 0;
      sqlite3_bind_text(w.pAppendBatch, 1, zId, -1, SQLITE_STATIC);
      sqlite3_bind_int(w.pAppendBatch, 2, 0);
      sqlite3_bind_text(w.pAppendBatch, 3, zJson, n, SQLITE_STATIC);
      if( sqlite3_step(w.pAppendBatch)!=SQLITE_ROW ) die(w.db, "es_append batch");
      sqlite3_reset(w.pAppendBatch);
    }else{
      handAppend(&w, zId, 0, "OrderLineAdded", azData, EVENTS_PER_STREAM);
    }
  }
  step(w.db, w.pCommit);
  pRes->secs = now() - t0;
  pRes->nEvent = (double)W5_BATCHES*EVENTS_PER_STREAM;
  writerClose(&w);
  for(i=0; i<EVENTS_PER_STREAM; i++) free(azData[i]);
}

/* -------------------------------------------------------------- floors */

/*
** The floor of the append workloads (--floor): the least work the
** contract asks of es_append, done with eventstore's own schema (made by
** es_init()) and the statements es_append runs: the version check (the
** stream's key and version, one statement) and the INSERT of the rows,
** every value bound as es_append binds it.  Nothing else: no JSON parsed
** or checked, no idempotency, no savepoint, no result, ids from a cheap
** generator.  No es_append on this schema can be faster than this.  With
** bTwoIndexes the four indexes the hand-written table does not have
** (event_type, aggregate_type, tenant, occurred_at) are dropped first:
** what they cost.  bBatches: W5's shape (10 events per stream, stream
** after stream); else W1a's (round-robin); bEachTxn: W1b's transactions.
*/
typedef struct Floor Floor;
struct Floor {
  sqlite3 *db;
  sqlite3_stmt *pLookup, *pStream, *pEv, *pBegin, *pCommit;
  unsigned long long x;      /* xorshift64* state, for the ids */
  char zId[32];              /* the stream's aggregate_id, bound STATIC */
};

static void floorOpen(Floor *f, const char *zPath, int bTwoIndexes){
  memset(f, 0, sizeof(*f));
  f->x = 88172645463325252ULL;
  removeDb(zPath);
  f->db = openDb(zPath, 1);
  exec(f->db, "SELECT es_init()");
  if( bTwoIndexes ){
    exec(f->db, "DROP INDEX es_events_event_type; DROP INDEX es_events_aggregate_type;"
                "DROP INDEX es_events_tenant; DROP INDEX es_events_occurred_at;");
  }
  f->pLookup = prepare(f->db, "SELECT s.stream_key,"
      " (SELECT max(e.stream_position) FROM main.es_events e"
      "   WHERE e.stream_key=s.stream_key)"
      " FROM main.es_streams s WHERE s.aggregate_id=?1 AND s.aggregate_type=?2");
  f->pStream = prepare(f->db, "INSERT INTO main.es_streams(stream_key,"
      "aggregate_id,aggregate_type) VALUES(?1,?2,?3)");
  f->pEv = prepare(f->db, "INSERT INTO main.es_events(stream_key,stream_position,"
      "aggregate_id,aggregate_type,event_id,event_type,event_version,tenant_id,"
      "actor_id,correlation_id,causation_id,occurred_at,stored_at,data,"
      "metadata) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"
      " ON CONFLICT(event_id) DO NOTHING");
  f->pBegin = prepare(f->db, "BEGIN IMMEDIATE");
  f->pCommit = prepare(f->db, "COMMIT");
}

static void floorClose(Floor *f){
  sqlite3_finalize(f->pLookup);
  sqlite3_finalize(f->pStream);
  sqlite3_finalize(f->pEv);
  sqlite3_finalize(f->pBegin);
  sqlite3_finalize(f->pCommit);
  if( sqlite3_close(f->db)!=SQLITE_OK ) die(f->db, "close");
}

/* Event iEvent (0-based) of stream iStream; bCheck: it starts an append,
** so the version is checked (and a new stream's row written) first. */
static void floorEvent(Floor *f, int iStream, int iEvent, int bCheck){
  char zData[400];
  unsigned char aId[32];
  long long tNow;
  int k;
  if( bCheck ){
    long long iKey = 0, iVersion = 0;
    streamId(f->zId, sizeof(f->zId), iStream);
    sqlite3_bind_text(f->pLookup, 1, f->zId, -1, SQLITE_STATIC);
    sqlite3_bind_text(f->pLookup, 2, "Order", 5, SQLITE_STATIC);
    if( sqlite3_step(f->pLookup)==SQLITE_ROW ){
      iKey = sqlite3_column_int64(f->pLookup, 0);
      iVersion = sqlite3_column_int64(f->pLookup, 1);
    }
    sqlite3_reset(f->pLookup);
    if( iVersion!=iEvent ){
      fprintf(stderr, "bench: floor: conflict on %s\n", f->zId);
      exit(2);
    }
    if( iKey==0 ){
      iKey = iStream+1;
      sqlite3_bind_int64(f->pStream, 1, iKey);
      sqlite3_bind_text(f->pStream, 2, f->zId, -1, SQLITE_STATIC);
      sqlite3_bind_text(f->pStream, 3, "Order", 5, SQLITE_STATIC);
      step(f->db, f->pStream);
    }
    sqlite3_bind_int64(f->pEv, 1, iKey);
    sqlite3_bind_text(f->pEv, 3, f->zId, -1, SQLITE_STATIC);
    sqlite3_bind_text(f->pEv, 4, "Order", 5, SQLITE_STATIC);
  }
  tNow = microsNow();
  for(k=0; k<32; k+=8){          /* xorshift64*: two v4-shaped ids */
    unsigned long long r;
    f->x ^= f->x>>12; f->x ^= f->x<<25; f->x ^= f->x>>27;
    r = f->x*2685821657736338717ULL;
    memcpy(aId+k, &r, 8);
  }
  aId[6] = (aId[6]&0x0f)|0x40;  aId[8] = (aId[8]&0x3f)|0x80;
  aId[22] = (aId[22]&0x0f)|0x40; aId[24] = (aId[24]&0x3f)|0x80;
  eventData(zData, sizeof(zData), iStream, iEvent);
  sqlite3_bind_int64(f->pEv, 2, iEvent+1);
  sqlite3_bind_blob(f->pEv, 5, aId, 16, SQLITE_STATIC);
  sqlite3_bind_text(f->pEv, 6, "OrderLineAdded", 14, SQLITE_STATIC);
  sqlite3_bind_int64(f->pEv, 7, 1);
  sqlite3_bind_null(f->pEv, 8);
  sqlite3_bind_null(f->pEv, 9);
  sqlite3_bind_blob(f->pEv, 10, aId+16, 16, SQLITE_STATIC);
  sqlite3_bind_null(f->pEv, 11);
  sqlite3_bind_int64(f->pEv, 12, tNow);
  sqlite3_bind_int64(f->pEv, 13, tNow);
  sqlite3_bind_text(f->pEv, 14, zData, -1, SQLITE_STATIC);
  sqlite3_bind_text(f->pEv, 15, "{}", 2, SQLITE_STATIC);
  step(f->db, f->pEv);
}

static void floorAppend(const char *zPath, int nStream, int bBatches,
                        int bEachTxn, int bTwoIndexes, Result *pRes){
  Floor f;
  int i, j, nOuter = bBatches ? nStream : EVENTS_PER_STREAM;
  int nInner = bBatches ? EVENTS_PER_STREAM : nStream;
  double t0;
  floorOpen(&f, zPath, bTwoIndexes);
  t0 = now();
  if( !bEachTxn ) step(f.db, f.pBegin);
  for(i=0; i<nOuter; i++){
    for(j=0; j<nInner; j++){
      int iStream = bBatches ? i : j, iEvent = bBatches ? j : i;
      if( bEachTxn ) step(f.db, f.pBegin);
      floorEvent(&f, iStream, iEvent, !bBatches || iEvent==0);
      if( bEachTxn ) step(f.db, f.pCommit);
    }
  }
  if( !bEachTxn ) step(f.db, f.pCommit);
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nStream*EVENTS_PER_STREAM;
  floorClose(&f);
}

/*
** Check a floor's store: the same counts as checkPopulated, read from
** es_events directly (event_all refuses a store with indexes missing),
** and, with the full schema, es_verify(): the bare inserts made a valid
** store, the same rows es_append would have stored.
*/
static void checkFloor(const char *zPath, int nStream, int bVerify,
                       Result *pRes){
  sqlite3 *db = openDb(zPath, 1);
  sqlite3_stmt *p = prepare(db,
      "SELECT count(*), count(DISTINCT stream_key), max(stream_position),"
      " sum(stream_position) FROM es_events");
  long long n = 0, nS = 0, mx = 0, sum = 0;
  int bValid = 1;
  if( sqlite3_step(p)==SQLITE_ROW ){
    n = sqlite3_column_int64(p, 0); nS = sqlite3_column_int64(p, 1);
    mx = sqlite3_column_int64(p, 2); sum = sqlite3_column_int64(p, 3);
  }
  sqlite3_finalize(p);
  if( bVerify ){
    p = prepare(db, "SELECT es_verify()->>'ok'");
    bValid = sqlite3_step(p)==SQLITE_ROW && sqlite3_column_int(p, 0)==1;
    sqlite3_finalize(p);
  }
  sqlite3_close(db);
  pRes->ok = n==(long long)nStream*EVENTS_PER_STREAM && nS==nStream
          && mx==EVENTS_PER_STREAM && sum==(long long)nStream*55 && bValid;
  if( !pRes->ok ){
    snprintf(pRes->zCheck, sizeof(pRes->zCheck), "count %lld streams %lld"
             " max %lld sum %lld%s", n, nS, mx, sum,
             bValid ? "" : ", es_verify() not ok");
  }
}

/* ------------------------------------------------ running and reporting */

typedef struct Workload Workload;
struct Workload {
  const char *zName;
  const char *zWhat;
  int nPass;         /* reads: passes per run (see runWorkload) */
  int bFloor;        /* --floor: the "extension" side is the floor */
};
static const Workload aWorkload[] = {
  { "W1a", "10,000 streams x 10 events, one event per append, one transaction", 0, 0 },
  { "W1b", "500 streams x 10 events, each append its own transaction", 0, 0 },
  { "W2",  "all events of 10,000 random streams (event_stream), 2 passes", 2, 0 },
  { "W3",  "every event in global order (event_all), 5 passes", 5, 0 },
  { "W4",  "newest 10 events of 1,000 random streams, 10 passes", 10, 0 },
  { "W5",  "10,000 batches of 10 events (hand: 100,000 single inserts)", 0, 0 },
  /* The floors: what any implementation of the contract pays, whatever
  ** its C does (floorAppend, tool/passthru.c). */
  { "F1a", "W1a's version checks and rows, straight into eventstore's schema", 0, 1 },
  { "F1a2", "the same, without the 4 indexes the hand-written table lacks", 0, 1 },
  { "F1b", "W1b's version checks and rows, eventstore's schema", 0, 1 },
  { "F5",  "W5's version checks and rows, eventstore's schema", 0, 1 },
  { "F2",  "W2 on the hand-written table through a pass-through vtab", 2, 1 },
  { "F3",  "W3 on the hand-written table through a pass-through vtab", 5, 1 },
  { "F4",  "W4 on the hand-written table through a pass-through vtab", 10, 1 },
};
#define N_WORKLOAD ((int)(sizeof(aWorkload)/sizeof(aWorkload[0])))

/* Run workload iW on variant bExt in this (child) process.  For a floor
** (F...), bExt picks the floor, and the other side is the hand-written
** run of the workload it bounds. */
static void runWorkload(int iW, int bExt, Result *pRes){
  char zPath[256];
  const char *zName = aWorkload[iW].zName;
  int bFloor = aWorkload[iW].bFloor;
  char zFile[64];
  snprintf(zFile, sizeof(zFile), "%s-%s", zName, bExt ? "ext" : "hand");
  fileName(zPath, sizeof(zPath), zFile);
  memset(pRes, 0, sizeof(*pRes));
  pRes->ok = 1;
  if( strcmp(zName, "W1a")==0 || (strncmp(zName, "F1a", 3)==0 && !bExt) ){
    populate(zPath, bExt, W1A_STREAMS, 1, pRes);
    checkPopulated(zPath, bExt, W1A_STREAMS, pRes);
  }else if( strncmp(zName, "F1a", 3)==0 ){
    int bTwo = strcmp(zName, "F1a2")==0;
    floorAppend(zPath, W1A_STREAMS, 0, 0, bTwo, pRes);
    checkFloor(zPath, W1A_STREAMS, !bTwo, pRes);
  }else if( strcmp(zName, "F1b")==0 && bExt ){
    floorAppend(zPath, W1B_STREAMS, 0, 1, 0, pRes);
    checkFloor(zPath, W1B_STREAMS, 1, pRes);
  }else if( strcmp(zName, "W1b")==0 || strcmp(zName, "F1b")==0 ){
    populate(zPath, bExt, W1B_STREAMS, 0, pRes);
    checkPopulated(zPath, bExt, W1B_STREAMS, pRes);
  }else if( strcmp(zName, "W5")==0 || (strcmp(zName, "F5")==0 && !bExt) ){
    appendBatches(zPath, bExt, pRes);
    checkPopulated(zPath, bExt, W5_BATCHES, pRes);
  }else if( strcmp(zName, "F5")==0 ){
    floorAppend(zPath, W5_BATCHES, 1, 0, 0, pRes);
    checkFloor(zPath, W5_BATCHES, 1, pRes);
  }else{
    /* Reads run on a fresh W1a-shaped store, in several passes, each on
    ** a new connection (and, for W2 and W4, other random streams): one
    ** pass of W3 or W4 takes tens of milliseconds, too short to time on
    ** a shared machine.  Both variants make the same passes.  A floor
    ** reads the hand-written store both ways. */
    Result setup, pass;
    int i, nPass = aWorkload[iW].nPass;
    int eVariant = bFloor ? (bExt ? V_PASSTHRU : V_HAND) : bExt;
    populate(zPath, bFloor ? 0 : bExt, W1A_STREAMS, 1, &setup);
    rng = 777;
    for(i=0; i<nPass; i++){
      memset(&pass, 0, sizeof(pass));
      if( zName[1]=='2' ) readStreams(zPath, eVariant, 10000, 0, &pass);
      if( zName[1]=='3' ) readAll(zPath, eVariant, (long long)W1A_STREAMS*EVENTS_PER_STREAM, &pass);
      if( zName[1]=='4' ) readStreams(zPath, eVariant, 1000, 1, &pass);
      pRes->nEvent += pass.nEvent;
      pRes->secs += pass.secs;
      if( !pass.ok && pRes->ok ){
        pRes->ok = 0;
        memcpy(pRes->zCheck, pass.zCheck, sizeof(pRes->zCheck));
      }
    }
  }
  if( !bKeep ) removeDb(zPath);
}

/* Fork, run, and collect the result and the child's peak RSS (KiB). */
static void runChild(int iW, int bExt, Result *pRes, long *pnRss){
  int fd[2];
  pid_t pid;
  int status;
  struct rusage ru;
  if( pipe(fd) ) { perror("pipe"); exit(2); }
  pid = fork();
  if( pid==0 ){
    Result r;
    close(fd[0]);
    runWorkload(iW, bExt, &r);
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

static int cmpDouble(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}

static double median(double *a, int n){
  qsort(a, n, sizeof(double), cmpDouble);
  return n%2 ? a[n/2] : (a[n/2-1]+a[n/2])/2;
}

static int scaleRun(int bExt);

int main(int argc, char **argv){
  int nRound = 3, i, iW, r, nFail = 0, bScale = 0, bFloor = 0;
  int aSelected[N_WORKLOAD];
  int nSelected = 0;
  memset(aSelected, 0, sizeof(aSelected));
  for(i=1; i<argc; i++){
    if( strcmp(argv[i], "--rounds")==0 && i+1<argc ){
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
        fprintf(stderr, "usage: %s [--rounds N] [--extension PATH] [--only ext|hand]"
                " [--scale | --floor] [W1a W1b W2 W3 W4 W5 F1a F1a2 F5 F2 F3 F4]\n",
                argv[0]);
        return 2;
      }
    }
  }
  if( system("mkdir -p build/bench")!=0 ) return 2;
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
    /* Default: the workloads; --floor: the floors. */
    for(iW=0; iW<N_WORKLOAD; iW++) aSelected[iW] = aWorkload[iW].bFloor==bFloor;
  }

  printf("eventstore bench: SQLite %s, %d rounds, median events/s\n",
         sqlite3_libversion(), nRound);
  printf("%-4s %13s %13s %7s %10s %10s  %s\n", "",
         bFloor ? "floor" : "extension", "hand-written",
         "ratio", "RSS ext", "RSS hand", "workload");
  for(iW=0; iW<N_WORKLOAD; iW++){
    double aExt[64], aHand[64];
    long nRssExt = 0, nRssHand = 0;
    int bOk = 1;
    char zWhy[160] = "";
    if( !aSelected[iW] ) continue;
    for(r=0; r<nRound && r<64; r++){
      int k;
      for(k=0; k<2; k++){
        int bExt = (r%2==0) ? (k==0) : (k==1);   /* alternate who goes first */
        Result res;
        long nRss;
        if( onlyVariant>=0 && bExt!=onlyVariant ){
          if( bExt ) aExt[r] = 1; else aHand[r] = 1;
          continue;
        }
        runChild(iW, bExt, &res, &nRss);
        if( !res.ok ){
          bOk = 0;
          snprintf(zWhy, sizeof(zWhy), "%s: %s", bExt ? "extension" : "hand", res.zCheck);
        }
        if( bExt ){
          aExt[r] = res.nEvent / res.secs;
          if( nRss>nRssExt ) nRssExt = nRss;
        }else{
          aHand[r] = res.nEvent / res.secs;
          if( nRss>nRssHand ) nRssHand = nRss;
        }
      }
    }
    {
      /* The ratio is the median of each round's ratio: a round runs both
      ** variants back to back, so a slow spell of the machine moves both
      ** sides of a ratio more than it moves either side of two medians. */
      double aRatio[64], mRatio, mExt, mHand;
      int n = nRound<64 ? nRound : 64;
      for(r=0; r<n; r++) aRatio[r] = aExt[r]/aHand[r];
      mRatio = median(aRatio, n);
      mExt = median(aExt, n);
      mHand = median(aHand, n);
      printf("%-4s %13.0f %13.0f %7.2f %8ld K %8ld K  %s%s%s\n",
             aWorkload[iW].zName, mExt, mHand, mRatio, nRssExt, nRssHand,
             aWorkload[iW].zWhat, bOk ? "" : "  WRONG RESULT: ", zWhy);
      fflush(stdout);
    }
    if( !bOk ) nFail++;
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
** reported.  The targets apply to the extension (bExt); the hand-written
** run reports the same figures for comparison and fails nothing.
*/
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
         bExt ? " (target <= 1.5)" : "");
  if( tLast/tFirst>1.5 ) nFail++;
  {
    int fd[2], status;
    pid_t pid;
    struct rusage ru;
    Result res;
    if( pipe(fd) ) return 2;
    pid = fork();
    if( pid==0 ){
      close(fd[0]);
      readAll(zPath, eVariant==V_HAND ? V_HAND : V_EXT, SCALE_EVENTS, &res);
      if( write(fd[1], &res, sizeof(res))!=(ssize_t)sizeof(res) ) _exit(3);
      _exit(0);
    }
    close(fd[1]);
    memset(&res, 0, sizeof(res));
    if( read(fd[0], &res, sizeof(res))!=(ssize_t)sizeof(res) ) res.ok = 0;
    close(fd[0]);
    wait4(pid, &status, 0, &ru);
    printf("%s: full scan: %.0f events/s, peak RSS %ld KiB", zWho,
           res.nEvent/res.secs, ru.ru_maxrss);
    if( bExt ) printf(" (target < %d KiB)", SCALE_RSS_LIMIT_KB);
    printf("%s%s\n", res.ok ? "" : "  WRONG RESULT: ", res.ok ? "" : res.zCheck);
    if( !res.ok || ru.ru_maxrss>=SCALE_RSS_LIMIT_KB ) nFail++;
  }
  removeDb(zPath);
  return bExt && nFail ? 1 : 0;
}
