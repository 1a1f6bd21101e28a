/*
** bench_work.c -- the workloads of tool/bench, run through the extension
** and through hand-written SQLite (bench.h).
**
**   W1a  10,000 streams x 10 events, one event per append, one transaction
**   W1b  500 streams x 10 events, each append its own transaction
**   W2   all events of 10,000 random streams
**   W3   every event in global order
**   W4   the newest 10 events of 1,000 random streams
**   W5   10,000 batches of 10 events (by hand: 100,000 single inserts)
**
** Each run checks its result (counts, order), so that a fast wrong answer
** fails instead of winning.
*/
#include "bench.h"

/* A writer: appends one event, or a batch, at a time. */
void writerOpen(Writer *w, const char *zPath, int bExt){
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

void writerClose(Writer *w){
  sqlite3_finalize(w->pAppend);
  sqlite3_finalize(w->pAppendBatch);
  sqlite3_finalize(w->pMax);
  sqlite3_finalize(w->pInsert);
  sqlite3_finalize(w->pBegin);
  sqlite3_finalize(w->pCommit);
  if( sqlite3_close(w->db)!=SQLITE_OK ) die(w->db, "close");
}

void step(sqlite3 *db, sqlite3_stmt *p){
  int rc = sqlite3_step(p);
  if( rc!=SQLITE_DONE && rc!=SQLITE_ROW ) die(db, sqlite3_sql(p));
  sqlite3_reset(p);
}

long long microsNow(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec*1000000 + ts.tv_nsec/1000;
}

/* The hand-written append of nEvent events to one stream. */
void handAppend(Writer *w, const char *zId, int iExpected,
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
void appendOne(Writer *w, const char *zId, int iExpected, char *zData){
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


/* W1a/W1b: append streams x 10 events round-robin. */
void populate(const char *zPath, int bExt, int nStream, int bOneTxn,
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
void checkPopulated(const char *zPath, int bExt, int nStream,
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
void readStreams(const char *zPath, int eVariant, int nRead,
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
void readAll(const char *zPath, int eVariant, long long nWant,
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
void appendBatches(const char *zPath, int bExt, Result *pRes){
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


/* ------------------------------------------------ one run of a workload */

/* A floor variant writes W1a/W1b/W5's rows with floorAppend (bench_floor.c). */
static void appendRun(const char *zPath, int eVariant, int nStream,
                      int bBatches, int bEachTxn, Result *pRes){
  if( eVariant==V_FLOOR || eVariant==V_FLOOR2 ){
    floorAppend(zPath, nStream, bBatches, bEachTxn, eVariant==V_FLOOR2, pRes);
    checkFloor(zPath, nStream, eVariant==V_FLOOR, pRes);
  }else if( bBatches ){
    appendBatches(zPath, eVariant==V_EXT, pRes);
    checkPopulated(zPath, eVariant==V_EXT, nStream, pRes);
  }else{
    populate(zPath, eVariant==V_EXT, nStream, !bEachTxn, pRes);
    checkPopulated(zPath, eVariant==V_EXT, nStream, pRes);
  }
}

void runW1a(const char *zPath, int eVariant, Result *pRes){
  appendRun(zPath, eVariant, W1A_STREAMS, 0, 0, pRes);
}
void runW1b(const char *zPath, int eVariant, Result *pRes){
  appendRun(zPath, eVariant, W1B_STREAMS, 0, 1, pRes);
}
void runW5(const char *zPath, int eVariant, Result *pRes){
  appendRun(zPath, eVariant, W5_BATCHES, 1, 0, pRes);
}

/*
** Reads run on a fresh W1a-shaped store, in several passes, each on a new
** connection (and, for W2 and W4, other random streams): one pass of W3 or
** W4 takes tens of milliseconds, too short to time on a shared machine.
** Every variant makes the same passes; the pass-through reads the
** hand-written store.
*/
static void readRun(const char *zPath, int eVariant, int eRead, int nPass,
                    Result *pRes){
  Result setup, pass;
  int i;
  populate(zPath, eVariant==V_EXT, W1A_STREAMS, 1, &setup);
  rng = 777;
  for(i=0; i<nPass; i++){
    memset(&pass, 0, sizeof(pass));
    switch( eRead ){
      case 2: readStreams(zPath, eVariant, 10000, 0, &pass); break;
      case 3: readAll(zPath, eVariant, (long long)W1A_STREAMS*EVENTS_PER_STREAM,
                      &pass); break;
      case 4: readStreams(zPath, eVariant, 1000, 1, &pass); break;
    }
    pRes->nEvent += pass.nEvent;
    pRes->secs += pass.secs;
    if( !pass.ok && pRes->ok ){
      pRes->ok = 0;
      memcpy(pRes->zCheck, pass.zCheck, sizeof(pRes->zCheck));
    }
  }
}

void runW2(const char *zPath, int eVariant, Result *pRes){
  readRun(zPath, eVariant, 2, 2, pRes);
}
void runW3(const char *zPath, int eVariant, Result *pRes){
  readRun(zPath, eVariant, 3, 5, pRes);
}
void runW4(const char *zPath, int eVariant, Result *pRes){
  readRun(zPath, eVariant, 4, 10, pRes);
}
