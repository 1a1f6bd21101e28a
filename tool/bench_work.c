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
**
** The second baseline, V_SEED, is the seed library's own SQLite store as a
** careful C programmer would run it: its events table, its seven indexes
** and its statements, each prepared once; the payload is the whole event
** as JSON text (what the library stores), timestamps ISO-8601 text.
*/
#include "bench.h"

/* The seed library's schema: one table, two unique constraints and seven
** indexes, as its SQLite store creates them. */
void seedSchema(sqlite3 *db){
  exec(db, "CREATE TABLE IF NOT EXISTS events("
      "id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,"
      " event_type TEXT NOT NULL, aggregate_type TEXT NOT NULL,"
      " aggregate_id TEXT NOT NULL, tenant_id TEXT, actor_id TEXT,"
      " version INTEGER NOT NULL, timestamp TEXT NOT NULL,"
      " payload TEXT NOT NULL, created_at TEXT NOT NULL,"
      " UNIQUE(aggregate_id, aggregate_type, version));"
      "CREATE INDEX IF NOT EXISTS idx_events_aggregate_id ON events(aggregate_id);"
      "CREATE INDEX IF NOT EXISTS idx_events_aggregate_type ON events(aggregate_type);"
      "CREATE INDEX IF NOT EXISTS idx_events_event_type ON events(event_type);"
      "CREATE INDEX IF NOT EXISTS idx_events_timestamp ON events(timestamp);"
      "CREATE INDEX IF NOT EXISTS idx_events_tenant_id ON events(tenant_id);"
      "CREATE INDEX IF NOT EXISTS idx_events_type_tenant"
      " ON events(aggregate_type, tenant_id);"
      "CREATE INDEX IF NOT EXISTS idx_events_type_timestamp"
      " ON events(aggregate_type, timestamp);");
}

/* A writer: appends one event, or a batch, at a time. */
void writerOpen(Writer *w, const char *zPath, int eVariant){
  int bExt = eVariant==V_EXT;
  memset(w, 0, sizeof(*w));
  removeDb(zPath);
  w->db = openDb(zPath, bExt);
  w->bExt = bExt;
  w->eVariant = eVariant;
  if( eVariant==V_SEED ){
    seedSchema(w->db);
    w->pMax = prepare(w->db, "SELECT max(version) FROM events"
                             " WHERE aggregate_id=?1 AND aggregate_type=?2");
    w->pInsert = prepare(w->db, "INSERT INTO events(event_id,event_type,"
        "aggregate_type,aggregate_id,tenant_id,actor_id,version,timestamp,"
        "payload,created_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
  }else if( bExt ){
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

/* ISO-8601 UTC with microseconds, as the seed library writes times. */
static void isoNow(char *z, int n){
  long long us = microsNow();
  time_t t = (time_t)(us/1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(z, n, "%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00", tm.tm_year+1900,
           tm.tm_mon+1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
           (int)(us%1000000));
}

/* The seed library's append: the version check, then one INSERT per event
** with the whole event, serialized, as its payload. */
static void seedAppend(Writer *w, const char *zId, int iExpected,
                       const char *zType, char **azData, int nEvent){
  int iVersion = 0, i;
  sqlite3_bind_text(w->pMax, 1, zId, -1, SQLITE_STATIC);
  sqlite3_bind_text(w->pMax, 2, "Order", -1, SQLITE_STATIC);
  if( sqlite3_step(w->pMax)==SQLITE_ROW ) iVersion = sqlite3_column_int(w->pMax, 0);
  sqlite3_reset(w->pMax);
  if( iVersion!=iExpected ){
    fprintf(stderr, "bench: seed conflict on %s\n", zId);
    exit(2);
  }
  for(i=0; i<nEvent; i++){
    uuid_t u;
    char zUuid[37], zCorr[37], zTime[96], zPayload[1300];
    int n;
    uuid_generate_random(u);
    uuid_unparse_lower(u, zUuid);
    uuid_generate_random(u);
    uuid_unparse_lower(u, zCorr);
    isoNow(zTime, sizeof(zTime));
    n = snprintf(zPayload, sizeof(zPayload), "{\"event_id\":\"%s\","
        "\"event_type\":\"%s\",\"event_version\":1,\"aggregate_id\":\"%s\","
        "\"aggregate_type\":\"Order\",\"aggregate_version\":%d,"
        "\"occurred_at\":\"%s\",\"tenant_id\":null,\"actor_id\":null,"
        "\"correlation_id\":\"%s\",\"causation_id\":null,\"metadata\":{},"
        "\"data\":%s}", zUuid, zType, zId, iVersion + 1 + i, zTime, zCorr,
        azData[i]);
    sqlite3_bind_text(w->pInsert, 1, zUuid, 36, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 2, zType, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 3, "Order", -1, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 4, zId, -1, SQLITE_STATIC);
    sqlite3_bind_null(w->pInsert, 5);
    sqlite3_bind_null(w->pInsert, 6);
    sqlite3_bind_int(w->pInsert, 7, iVersion + 1 + i);
    sqlite3_bind_text(w->pInsert, 8, zTime, -1, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 9, zPayload, n, SQLITE_STATIC);
    sqlite3_bind_text(w->pInsert, 10, zTime, -1, SQLITE_STATIC);
    step(w->db, w->pInsert);
  }
}

/* A batch of nEvent events through the hand-written path of the writer. */
static void baselineAppend(Writer *w, const char *zId, int iExpected,
                           const char *zType, char **azData, int nEvent){
  if( w->eVariant==V_SEED ){
    seedAppend(w, zId, iExpected, zType, azData, nEvent);
  }else{
    handAppend(w, zId, iExpected, zType, azData, nEvent);
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
    baselineAppend(w, zId, iExpected, "OrderLineAdded", &zData, 1);
  }
}

/* ------------------------------------------------------- the workloads */


/* W1a/W1b: append streams x 10 events round-robin. */
void populate(const char *zPath, int eVariant, int nStream, int bOneTxn,
                     Result *pRes){
  Writer w;
  char zData[400], zId[32];
  int e, s, bExt = eVariant==V_EXT;
  double t0;
  writerOpen(&w, zPath, eVariant);
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
void checkPopulated(const char *zPath, int eVariant, int nStream,
                           Result *pRes){
  sqlite3 *db = openDb(zPath, eVariant==V_EXT);
  sqlite3_stmt *p = prepare(db, eVariant==V_EXT
    ? "SELECT count(*), count(DISTINCT stream_id), max(stream_position),"
      " sum(stream_position) FROM event_all"
    : eVariant==V_SEED
    ? "SELECT count(*), count(DISTINCT aggregate_id), max(version),"
      " sum(version) FROM events"
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
#define SEED_COLUMNS "id, aggregate_id, version, event_id, event_type," \
                     " payload, timestamp"

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
#define SEED_STREAM_SQL "SELECT " SEED_COLUMNS " FROM events WHERE aggregate_id=?1" \
                        " AND aggregate_type='Order' ORDER BY version"
#define SEED_NEWEST_SQL "SELECT " SEED_COLUMNS " FROM events WHERE aggregate_id=?1" \
                        " AND aggregate_type='Order' ORDER BY version DESC LIMIT 10"
#define SEED_ALL_SQL    "SELECT " SEED_COLUMNS " FROM events ORDER BY id"

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
  static const char *const azNewest[V_COUNT] = {
    [V_HAND] = HAND_NEWEST_SQL,
    [V_EXT] = "SELECT " EXT_COLUMNS " FROM event_stream(?1)"
              " ORDER BY stream_position DESC LIMIT 10",
    [V_PASSTHRU] = "SELECT * FROM pt_newest(?1) ORDER BY c2 DESC LIMIT 10",
    [V_SEED] = SEED_NEWEST_SQL,
  };
  static const char *const azStream[V_COUNT] = {
    [V_HAND] = HAND_STREAM_SQL,
    [V_EXT] = "SELECT " EXT_COLUMNS " FROM event_stream(?1)",
    [V_PASSTHRU] = "SELECT * FROM pt_stream(?1) ORDER BY c2",
    [V_SEED] = SEED_STREAM_SQL,
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
  static const char *const azAll[V_COUNT] = {
    [V_HAND] = HAND_ALL_SQL,
    [V_EXT] = "SELECT " EXT_COLUMNS " FROM event_all ORDER BY global_position",
    [V_PASSTHRU] = "SELECT * FROM pt_all ORDER BY c0",
    [V_SEED] = SEED_ALL_SQL,
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
void appendBatches(const char *zPath, int eVariant, Result *pRes){
  Writer w;
  char *azData[EVENTS_PER_STREAM];
  char zJson[EVENTS_PER_STREAM*420], zId[32];
  int b, i;
  double t0;
  int bExt = eVariant==V_EXT;
  for(i=0; i<EVENTS_PER_STREAM; i++) azData[i] = malloc(400);
  writerOpen(&w, zPath, eVariant);
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
      baselineAppend(&w, zId, 0, "OrderLineAdded", azData, EVENTS_PER_STREAM);
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
    appendBatches(zPath, eVariant, pRes);
    checkPopulated(zPath, eVariant, nStream, pRes);
  }else{
    populate(zPath, eVariant, nStream, !bEachTxn, pRes);
    checkPopulated(zPath, eVariant, nStream, pRes);
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
  /* The pass-through reads the hand-written store. */
  populate(zPath, eVariant==V_PASSTHRU ? V_HAND : eVariant, W1A_STREAMS, 1,
           &setup);
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
