/*
** bench_floor.c -- the floors of tool/bench (--floor): for each append
** workload, the least work any implementation of the contract must do.
*/
#include "bench.h"

/*
** The floor of the append workloads (--floor): the least work the
** contract asks of es_append, done with eventstore's own schema (made by
** es_init()) and the statements es_append runs: the version check (the
** stream's key and version, one statement) and the INSERT of the rows,
** every value bound as es_append binds it.  Nothing else: no JSON parsed
** or checked, no idempotency, no savepoint, no result, ids from a cheap
** generator, the one kind (aggregate type, event type) made at the start.
** No es_append on this schema (storage format 2) can be faster than this.
** With bTwoIndexes the three indexes the hand-written table does not have
** (kind, tenant, occurred_at) are dropped first: what they cost.  bBatches: W5's shape (10 events per stream, stream
** after stream); else W1a's (round-robin); bEachTxn: W1b's transactions.
*/

void floorOpen(Floor *f, const char *zPath, int bTwoIndexes){
  memset(f, 0, sizeof(*f));
  f->x = 88172645463325252ULL;
  removeDb(zPath);
  f->db = openDb(zPath, 1);
  exec(f->db, "SELECT es_init()");
  exec(f->db, "INSERT INTO es_kinds(kind,aggregate_type,event_type)"
              " VALUES(1,'Order','OrderLineAdded')");
  if( bTwoIndexes ){
    exec(f->db, "DROP INDEX es_events_kind; DROP INDEX es_events_tenant;"
                "DROP INDEX es_events_occurred_at;");
  }
  f->pLookup = prepare(f->db, "SELECT s.stream_key,"
      " (SELECT max(e.stream_position) FROM main.es_events e"
      "   WHERE e.stream_key=s.stream_key)"
      " FROM main.es_streams s WHERE s.aggregate_id=?1 AND s.aggregate_type=?2");
  f->pStream = prepare(f->db, "INSERT INTO main.es_streams(stream_key,"
      "aggregate_id,aggregate_type) VALUES(?1,?2,?3)");
  /* The INSERT es_append runs (storage.c), defaults as NULL. */
  f->pEv = prepare(f->db, "INSERT INTO main.es_events(stream_key,stream_position,"
      "kind,event_id,event_version,tenant_id,actor_id,correlation_id,"
      "causation_id,occurred_at,stored_at,data,metadata)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
      " ON CONFLICT(event_id) DO NOTHING");
  f->pBegin = prepare(f->db, "BEGIN IMMEDIATE");
  f->pCommit = prepare(f->db, "COMMIT");
}

void floorClose(Floor *f){
  sqlite3_finalize(f->pLookup);
  sqlite3_finalize(f->pStream);
  sqlite3_finalize(f->pEv);
  sqlite3_finalize(f->pBegin);
  sqlite3_finalize(f->pCommit);
  if( sqlite3_close(f->db)!=SQLITE_OK ) die(f->db, "close");
}

/* Event iEvent (0-based) of stream iStream; bCheck: it starts an append,
** so the version is checked (and a new stream's row written) first. */
void floorEvent(Floor *f, int iStream, int iEvent, int bCheck){
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
  sqlite3_bind_int64(f->pEv, 3, 1);                 /* the kind */
  sqlite3_bind_blob(f->pEv, 4, aId, 16, SQLITE_STATIC);
  sqlite3_bind_null(f->pEv, 5);                     /* event_version 1 */
  sqlite3_bind_null(f->pEv, 6);
  sqlite3_bind_null(f->pEv, 7);
  sqlite3_bind_blob(f->pEv, 8, aId+16, 16, SQLITE_STATIC);
  sqlite3_bind_null(f->pEv, 9);
  sqlite3_bind_null(f->pEv, 10);                    /* occurred_at = stored_at */
  sqlite3_bind_int64(f->pEv, 11, tNow);
  sqlite3_bind_text(f->pEv, 12, zData, -1, SQLITE_STATIC);
  sqlite3_bind_null(f->pEv, 13);                    /* metadata {} */
  step(f->db, f->pEv);
}

void floorAppend(const char *zPath, int nStream, int bBatches,
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
void checkFloor(const char *zPath, int nStream, int bVerify,
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

