/*
** sqlite_side.c -- a SQLite file as one end of a copy (es_copy.h).
**
** The extension is linked in (-DSQLITE_CORE) and registered on the
** connection, so es-copy needs no eventstore.so at run time.  Rows are
** read from event_all; a chunk is loaded in one BEGIN IMMEDIATE ...
** COMMIT, one es_import() call per run of consecutive events of one
** stream with one stored_at (an append of the source, as a rule).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "es_copy.h"
#include "../../ext/eventstore.h"

typedef struct SqliteSide SqliteSide;
struct SqliteSide {
  sqlite3 *db;
  sqlite3_stmt *pRead;
  sqlite3_stmt *pImport;
  char *zBuf;               /* one es_import call's events, as JSON */
  size_t nBuf, nAlloc;
};

#define DB(s) (((SqliteSide*)(s)->pImpl)->db)

static int dbError(EcSide *s, const char *zWhat){
  ecSideError(s, "%s: %s", zWhat, sqlite3_errmsg(DB(s)));
  return 1;
}

static int one(EcSide *s, const char *zSql, i64 iArg, i64 *piOut, char *zOut, int nOut){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(DB(s), zSql, -1, &p, 0);
  if( rc!=SQLITE_OK ) return dbError(s, zSql);
  if( iArg>=0 ) sqlite3_bind_int64(p, 1, iArg);
  if( zOut ) zOut[0] = 0;
  rc = sqlite3_step(p);
  if( rc==SQLITE_ROW ){
    if( piOut ) *piOut = sqlite3_column_int64(p, 0);
    if( zOut && sqlite3_column_text(p, 0) ){
      snprintf(zOut, nOut, "%s", (const char*)sqlite3_column_text(p, 0));
    }
    rc = SQLITE_DONE;
  }
  if( rc!=SQLITE_DONE ){
    sqlite3_finalize(p);
    return dbError(s, zSql);
  }
  sqlite3_finalize(p);
  return 0;
}

static int sqHead(EcSide *s, i64 *piHead){
  *piHead = 0;
  return one(s, "SELECT es_global_position()", -1, piHead, 0, 0);
}

static int sqEventIdAt(EcSide *s, i64 iPos, char *zOut){
  return one(s, "SELECT event_id FROM event_all WHERE global_position = ?1",
             iPos, 0, zOut, 37);
}

static const char *colText(EcChunk *c, sqlite3_stmt *p, int i){
  const unsigned char *z = sqlite3_column_text(p, i);
  if( z==0 ) return 0;
  return ecChunkText(c, (const char*)z, (size_t)sqlite3_column_bytes(p, i));
}

static int sqRead(EcSide *s, i64 iAfter, i64 iLast, int nMax, EcChunk *c){
  SqliteSide *q = s->pImpl;
  int rc;
  if( q->pRead==0 ){
    rc = sqlite3_prepare_v2(q->db, "SELECT global_position, aggregate_id,"
        " aggregate_type, stream_position, event_id, event_type, event_version,"
        " tenant_id, actor_id, correlation_id, causation_id, occurred_at,"
        " stored_at, data, metadata FROM event_all WHERE global_position > ?1"
        " AND global_position <= ?2 ORDER BY global_position LIMIT ?3",
        -1, &q->pRead, 0);
    if( rc!=SQLITE_OK ) return dbError(s, "reading event_all");
  }
  sqlite3_bind_int64(q->pRead, 1, iAfter);
  sqlite3_bind_int64(q->pRead, 2, iLast);
  sqlite3_bind_int64(q->pRead, 3, nMax);
  while( (rc = sqlite3_step(q->pRead))==SQLITE_ROW ){
    EcRow *r = ecChunkAdd(c);
    sqlite3_stmt *p = q->pRead;
    r->iGlobal = sqlite3_column_int64(p, 0);
    r->zAggId = colText(c, p, 1);
    r->zAggType = colText(c, p, 2);
    r->iStream = sqlite3_column_int64(p, 3);
    r->zEventId = colText(c, p, 4);
    r->zEventType = colText(c, p, 5);
    r->iEventVersion = sqlite3_column_int64(p, 6);
    r->zTenant = colText(c, p, 7);
    r->zActor = colText(c, p, 8);
    r->zCorrelation = colText(c, p, 9);
    r->zCausation = colText(c, p, 10);
    r->zOccurred = colText(c, p, 11);
    r->zStored = colText(c, p, 12);
    r->zData = colText(c, p, 13);
    r->zMetadata = colText(c, p, 14);
  }
  sqlite3_reset(q->pRead);
  if( rc!=SQLITE_DONE ) return dbError(s, "reading event_all");
  return 0;
}

/* ------------------------------------------------------------- loading */

static void bufPut(SqliteSide *q, const char *z, size_t n){
  if( q->nBuf + n + 1 > q->nAlloc ){
    q->nAlloc = (q->nBuf + n + 1)*2 + 1024;
    q->zBuf = realloc(q->zBuf, q->nAlloc);
    if( q->zBuf==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  }
  memcpy(q->zBuf + q->nBuf, z, n);
  q->nBuf += n;
  q->zBuf[q->nBuf] = 0;
}
static void bufStr(SqliteSide *q, const char *z){ bufPut(q, z, strlen(z)); }

/* A JSON string, or null. */
static void bufJsonText(SqliteSide *q, const char *z){
  const char *zStart;
  if( z==0 ){ bufStr(q, "null"); return; }
  bufPut(q, "\"", 1);
  for(zStart=z; *z; z++){
    unsigned char c = (unsigned char)*z;
    if( c=='"' || c=='\\' || c<0x20 ){
      char esc[8];
      bufPut(q, zStart, (size_t)(z - zStart));
      if( c=='"' || c=='\\' ){ esc[0] = '\\'; esc[1] = (char)c; bufPut(q, esc, 2); }
      else { snprintf(esc, sizeof(esc), "\\u%04x", c); bufPut(q, esc, 6); }
      zStart = z+1;
    }
  }
  bufPut(q, zStart, (size_t)(z - zStart));
  bufPut(q, "\"", 1);
}

static void bufEvent(SqliteSide *q, const EcRow *r){
  char zNum[32];
  bufStr(q, "{\"event_type\":");   bufJsonText(q, r->zEventType);
  bufStr(q, ",\"event_id\":");     bufJsonText(q, r->zEventId);
  snprintf(zNum, sizeof(zNum), ",\"event_version\":%lld", r->iEventVersion);
  bufStr(q, zNum);
  bufStr(q, ",\"occurred_at\":");  bufJsonText(q, r->zOccurred);
  bufStr(q, ",\"tenant_id\":");    bufJsonText(q, r->zTenant);
  bufStr(q, ",\"actor_id\":");     bufJsonText(q, r->zActor);
  bufStr(q, ",\"correlation_id\":"); bufJsonText(q, r->zCorrelation);
  bufStr(q, ",\"causation_id\":"); bufJsonText(q, r->zCausation);
  bufStr(q, ",\"data\":");         bufStr(q, r->zData);
  bufStr(q, ",\"metadata\":");     bufStr(q, r->zMetadata);
  bufStr(q, "}");
}

static int sameRun(const EcRow *a, const EcRow *b){
  return strcmp(a->zAggId, b->zAggId)==0 && strcmp(a->zAggType, b->zAggType)==0
      && strcmp(a->zStored, b->zStored)==0 && b->iStream==a->iStream+1
      && b->iGlobal==a->iGlobal+1;
}

static int sqLoad(EcSide *s, const EcChunk *c){
  SqliteSide *q = s->pImpl;
  int i = 0, rc;
  if( sqlite3_exec(q->db, "BEGIN IMMEDIATE", 0, 0, 0)!=SQLITE_OK ){
    return dbError(s, "BEGIN IMMEDIATE");
  }
  if( q->pImport==0 && sqlite3_prepare_v2(q->db, "SELECT es_import(?1, ?2, ?3,"
        " ?4, ?5, ?6)", -1, &q->pImport, 0)!=SQLITE_OK ){
    dbError(s, "es_import");
    sqlite3_exec(q->db, "ROLLBACK", 0, 0, 0);
    return 1;
  }
  while( i<c->nRow ){
    const EcRow *r = &c->aRow[i];
    int j = i+1;
    q->nBuf = 0;
    bufStr(q, "[");
    bufEvent(q, r);
    while( j<c->nRow && j-i<1000 && sameRun(&c->aRow[j-1], &c->aRow[j]) ){
      bufStr(q, ",");
      bufEvent(q, &c->aRow[j]);
      j++;
    }
    bufStr(q, "]");
    sqlite3_bind_text(q->pImport, 1, r->zAggId, -1, SQLITE_STATIC);
    sqlite3_bind_text(q->pImport, 2, r->zAggType, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q->pImport, 3, r->iStream - 1);
    sqlite3_bind_int64(q->pImport, 4, r->iGlobal);
    sqlite3_bind_text(q->pImport, 5, r->zStored, -1, SQLITE_STATIC);
    sqlite3_bind_text(q->pImport, 6, q->zBuf, (int)q->nBuf, SQLITE_STATIC);
    rc = sqlite3_step(q->pImport);
    sqlite3_reset(q->pImport);
    if( rc!=SQLITE_ROW ){
      ecSideError(s, "global position %lld: %s", r->iGlobal, sqlite3_errmsg(q->db));
      sqlite3_exec(q->db, "ROLLBACK", 0, 0, 0);
      return 1;
    }
    i = j;
  }
  if( sqlite3_exec(q->db, "COMMIT", 0, 0, 0)!=SQLITE_OK ){
    dbError(s, "COMMIT");
    sqlite3_exec(q->db, "ROLLBACK", 0, 0, 0);
    return 1;
  }
  return 0;
}

/* --------------------------------------------- verify, the other tables */

static int sqVerify(EcSide *s, int *pbOk, char *zReport, int n){
  if( one(s, "SELECT es_verify()", -1, 0, zReport, n) ) return 1;
  *pbOk = strncmp(zReport, "{\"ok\":true", 10)==0;
  return 0;
}

static char *dupText(const unsigned char *z){
  return z ? strdup((const char*)z) : 0;
}

static int extras(EcSide *s, const char *zSql, int bSnapshot, EcExtra **pa, int *pn){
  sqlite3_stmt *p = 0;
  int rc, n = 0;
  EcExtra *a = 0;
  *pa = 0;
  *pn = 0;
  rc = sqlite3_prepare_v2(DB(s), zSql, -1, &p, 0);
  if( rc!=SQLITE_OK ){
    /* A store that was never written has no tables: nothing to copy. */
    if( strstr(sqlite3_errmsg(DB(s)), "no such table") ) return 0;
    return dbError(s, zSql);
  }
  while( (rc = sqlite3_step(p))==SQLITE_ROW ){
    a = realloc(a, sizeof(EcExtra)*(n+1));
    if( a==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
    memset(&a[n], 0, sizeof(EcExtra));
    a[n].zName = dupText(sqlite3_column_text(p, 0));
    if( bSnapshot ){
      a[n].zType = dupText(sqlite3_column_text(p, 1));
      a[n].iSchema = sqlite3_column_int64(p, 2);
      a[n].iPosition = sqlite3_column_int64(p, 3);
      a[n].zState = dupText(sqlite3_column_text(p, 4));
    }else{
      a[n].iPosition = sqlite3_column_int64(p, 1);
    }
    n++;
  }
  sqlite3_finalize(p);
  *pa = a;
  *pn = n;
  if( rc!=SQLITE_DONE ) return dbError(s, zSql);
  return 0;
}

static int sqCheckpoints(EcSide *s, EcExtra **pa, int *pn){
  return extras(s, "SELECT name, position FROM es_checkpoints ORDER BY name", 0, pa, pn);
}

static int sqSnapshots(EcSide *s, EcExtra **pa, int *pn){
  return extras(s, "SELECT s.aggregate_id, s.aggregate_type, n.schema_version,"
      " n.version, n.state FROM main.es_snapshots n JOIN main.es_streams s"
      " ON s.stream_key = n.stream_key ORDER BY 1, 2, 3", 1, pa, pn);
}

static int run(EcSide *s, const char *zSql, const EcExtra *x){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(DB(s), zSql, -1, &p, 0);
  if( rc!=SQLITE_OK ) return dbError(s, zSql);
  sqlite3_bind_text(p, 1, x->zName, -1, SQLITE_STATIC);
  sqlite3_bind_int64(p, 2, x->iPosition);
  if( x->zType ){
    sqlite3_bind_text(p, 3, x->zType, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 4, x->zState, -1, SQLITE_STATIC);
    sqlite3_bind_int64(p, 5, x->iSchema);
  }
  rc = sqlite3_step(p);
  if( rc!=SQLITE_ROW && rc!=SQLITE_DONE ){
    ecSideError(s, "%s", sqlite3_errmsg(DB(s)));
    sqlite3_finalize(p);
    return 1;
  }
  sqlite3_finalize(p);
  return 0;
}

/* Only forward, and only to a position the target has. */
static int sqPutCheckpoint(EcSide *s, const EcExtra *x){
  return run(s, "SELECT es_checkpoint_set(?1, ?2) WHERE es_checkpoint(?1) < ?2"
                " AND ?2 <= es_global_position()", x);
}

/* Only where the stream has reached the snapshot's version (es_snapshot_save
** keeps the newer of two). */
static int sqPutSnapshot(EcSide *s, const EcExtra *x){
  return run(s, "SELECT es_snapshot_save(?1, ?3, ?2, ?4, ?5)"
                " WHERE ?2 <= es_version(?1, ?3)", x);
}

static void sqClose(EcSide *s){
  SqliteSide *q = s->pImpl;
  if( q==0 ) return;
  sqlite3_finalize(q->pRead);
  sqlite3_finalize(q->pImport);
  sqlite3_close(q->db);
  free(q->zBuf);
  free(q);
  s->pImpl = 0;
}

static const EcSideMethods sqliteMethods = {
  sqHead, sqEventIdAt, sqRead, sqLoad, sqVerify, sqCheckpoints, sqSnapshots,
  sqPutCheckpoint, sqPutSnapshot, sqClose
};

int ecSqliteOpen(EcSide *s, const char *zPath, int bTarget){
  SqliteSide *q = calloc(1, sizeof(SqliteSide));
  char *zErr = 0;
  int flags = SQLITE_OPEN_READWRITE | (bTarget ? SQLITE_OPEN_CREATE : 0);
  int bNew = access(zPath, F_OK)!=0;
  if( q==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  s->pImpl = q;
  s->pM = &sqliteMethods;
  if( sqlite3_open_v2(zPath, &q->db, flags, 0)!=SQLITE_OK ){
    ecSideError(s, "cannot open %s: %s", zPath, q->db ? sqlite3_errmsg(q->db)
                : "out of memory");
    return 1;
  }
  sqlite3_busy_timeout(q->db, 10000);
  if( sqlite3_eventstore_init(q->db, &zErr, 0)!=SQLITE_OK ){
    ecSideError(s, "cannot register eventstore: %s", zErr ? zErr : "?");
    sqlite3_free(zErr);
    return 1;
  }
  if( bTarget && bNew ){
    /* A new file is made a WAL store, as files are recommended to be; an
    ** existing one is left as its application set it. */
    if( one(s, "PRAGMA journal_mode=WAL", -1, 0, 0, 0) ) return 1;
    if( one(s, "SELECT es_init()", -1, 0, 0, 0) ) return 1;
  }
  return 0;
}
