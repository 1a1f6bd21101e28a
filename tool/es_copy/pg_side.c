/*
** pg_side.c -- a PostgreSQL database with the twin (sql/postgres/) as one
** end of a copy (es_copy.h), through libpq.
**
** Reading is COPY (SELECT ... FROM event_all ...) TO STDOUT, with the
** times formatted as the SQLite extension shows them.  A chunk is loaded
** in one transaction: es_import_begin(), COPY into pg_temp.es_import_rows,
** es_import_rows(), COMMIT (the twin checks the rows, under its append
** lock, before it stores any).  The session runs in UTC; with --pg-schema
** the twin's schema is put on the search path.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>
#include "es_copy.h"

typedef struct PgSide PgSide;
struct PgSide {
  PGconn *c;
  char *zLine;              /* one COPY line being written */
  size_t nLine, nAlloc;
};

#define CONN(s) (((PgSide*)(s)->pImpl)->c)

static int pgError(EcSide *s, const char *zWhat, PGresult *r){
  const char *zMsg = r ? PQresultErrorMessage(r) : PQerrorMessage(CONN(s));
  char zTrim[900];
  size_t n;
  snprintf(zTrim, sizeof(zTrim), "%s", zMsg && zMsg[0] ? zMsg : PQerrorMessage(CONN(s)));
  n = strlen(zTrim);
  while( n>0 && (zTrim[n-1]=='\n' || zTrim[n-1]==' ') ) zTrim[--n] = 0;
  ecSideError(s, "%s: %s", zWhat, zTrim);
  if( r ) PQclear(r);
  return 1;
}

/* Run sql; its first value into piOut / zOut when given. */
static int one(EcSide *s, const char *zSql, int nParam, const char *const *azParam,
               i64 *piOut, char *zOut, int nOut){
  PGresult *r = PQexecParams(CONN(s), zSql, nParam, 0, azParam, 0, 0, 0);
  ExecStatusType st = PQresultStatus(r);
  if( st!=PGRES_TUPLES_OK && st!=PGRES_COMMAND_OK ) return pgError(s, zSql, r);
  if( zOut ) zOut[0] = 0;
  if( st==PGRES_TUPLES_OK && PQntuples(r)>0 && !PQgetisnull(r, 0, 0) ){
    if( piOut ) *piOut = strtoll(PQgetvalue(r, 0, 0), 0, 10);
    if( zOut ) snprintf(zOut, nOut, "%s", PQgetvalue(r, 0, 0));
  }
  PQclear(r);
  return 0;
}

static int pgHead(EcSide *s, i64 *piHead){
  *piHead = 0;
  return one(s, "SELECT es_global_position()", 0, 0, piHead, 0, 0);
}

static int pgEventIdAt(EcSide *s, i64 iPos, char *zOut){
  char z[24];
  const char *az[1] = { z };
  snprintf(z, sizeof(z), "%lld", iPos);
  return one(s, "SELECT event_id FROM event_all WHERE global_position = $1",
             1, az, 0, zOut, 37);
}

/* ---------------------------------------------------------- COPY text */

/* Decode one field of COPY's text format in place; 0 for \N. */
static char *decodeField(char *z){
  char *zIn = z, *zOut = z;
  if( z[0]=='\\' && z[1]=='N' && z[2]==0 ) return 0;
  while( *zIn ){
    if( *zIn!='\\' ){ *zOut++ = *zIn++; continue; }
    zIn++;
    switch( *zIn ){
      case 'b': *zOut++ = '\b'; zIn++; break;
      case 'f': *zOut++ = '\f'; zIn++; break;
      case 'n': *zOut++ = '\n'; zIn++; break;
      case 'r': *zOut++ = '\r'; zIn++; break;
      case 't': *zOut++ = '\t'; zIn++; break;
      case 'v': *zOut++ = '\v'; zIn++; break;
      case 'x': {
        int v = 0, k;
        zIn++;
        for(k=0; k<2 && ((*zIn>='0' && *zIn<='9') || (*zIn>='a' && *zIn<='f')
                          || (*zIn>='A' && *zIn<='F')); k++, zIn++){
          v = v*16 + (*zIn<='9' ? *zIn-'0' : (*zIn|0x20)-'a'+10);
        }
        *zOut++ = (char)v;
        break;
      }
      default:
        if( *zIn>='0' && *zIn<='7' ){
          int v = 0, k;
          for(k=0; k<3 && *zIn>='0' && *zIn<='7'; k++, zIn++) v = v*8 + (*zIn-'0');
          *zOut++ = (char)v;
        }else if( *zIn ){
          *zOut++ = *zIn++;
        }
    }
  }
  *zOut = 0;
  return z;
}

static const char *keep(EcChunk *c, char *z){
  return z ? ecChunkText(c, z, strlen(z)) : 0;
}

static int parseLine(EcChunk *c, char *zLine){
  char *az[15];
  int n = 0;
  char *z = zLine;
  EcRow *r;
  size_t len = strlen(zLine);
  if( len>0 && zLine[len-1]=='\n' ) zLine[len-1] = 0;
  az[n++] = z;
  for(; *z; z++){
    if( *z=='\t' ){
      *z = 0;
      if( n==15 ) return 1;
      az[n++] = z+1;
    }
  }
  if( n!=15 ) return 1;
  r = ecChunkAdd(c);
  r->iGlobal = strtoll(az[0], 0, 10);
  r->zAggId = keep(c, decodeField(az[1]));
  r->zAggType = keep(c, decodeField(az[2]));
  r->iStream = strtoll(az[3], 0, 10);
  r->zEventId = keep(c, decodeField(az[4]));
  r->zEventType = keep(c, decodeField(az[5]));
  r->iEventVersion = strtoll(az[6], 0, 10);
  r->zTenant = keep(c, decodeField(az[7]));
  r->zActor = keep(c, decodeField(az[8]));
  r->zCorrelation = keep(c, decodeField(az[9]));
  r->zCausation = keep(c, decodeField(az[10]));
  r->zOccurred = keep(c, decodeField(az[11]));
  r->zStored = keep(c, decodeField(az[12]));
  r->zData = keep(c, decodeField(az[13]));
  r->zMetadata = keep(c, decodeField(az[14]));
  return 0;
}

#define PG_TIME(col) "to_char(" col " AT TIME ZONE 'UTC'," \
                     " 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static int pgRead(EcSide *s, i64 iAfter, i64 iLast, int nMax, EcChunk *c){
  char zSql[1024];
  PGresult *r;
  char *zBuf = 0;
  int n;
  snprintf(zSql, sizeof(zSql), "COPY (SELECT global_position, aggregate_id,"
      " aggregate_type, stream_position, event_id, event_type, event_version,"
      " tenant_id, actor_id, correlation_id, causation_id, "
      PG_TIME("occurred_at") ", " PG_TIME("stored_at") ", data, metadata"
      " FROM event_all WHERE global_position > %lld AND global_position <= %lld"
      " ORDER BY global_position LIMIT %d) TO STDOUT", iAfter, iLast, nMax);
  r = PQexec(CONN(s), zSql);
  if( PQresultStatus(r)!=PGRES_COPY_OUT ) return pgError(s, "reading event_all", r);
  PQclear(r);
  while( (n = PQgetCopyData(CONN(s), &zBuf, 0))>0 ){
    int bad = parseLine(c, zBuf);
    PQfreemem(zBuf);
    if( bad ){
      ecSideError(s, "reading event_all: a row that is not 15 fields");
      while( (n = PQgetCopyData(CONN(s), &zBuf, 0))>0 ) PQfreemem(zBuf);
      while( (r = PQgetResult(CONN(s)))!=0 ) PQclear(r);
      return 1;
    }
  }
  r = PQgetResult(CONN(s));
  if( n==-2 || PQresultStatus(r)!=PGRES_COMMAND_OK ){
    return pgError(s, "reading event_all", r);
  }
  PQclear(r);
  while( (r = PQgetResult(CONN(s)))!=0 ) PQclear(r);
  return 0;
}

/* ------------------------------------------------------------- loading */

static void linePut(PgSide *q, const char *z, size_t n){
  if( q->nLine + n + 1 > q->nAlloc ){
    q->nAlloc = (q->nLine + n + 1)*2 + 4096;
    q->zLine = realloc(q->zLine, q->nAlloc);
    if( q->zLine==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  }
  memcpy(q->zLine + q->nLine, z, n);
  q->nLine += n;
}

/* A field in COPY's text format: \N for NULL, \ tab newline escaped. */
static void lineField(PgSide *q, const char *z, int bLast){
  const char *zStart;
  if( z==0 ){
    linePut(q, "\\N", 2);
  }else{
    for(zStart=z; *z; z++){
      const char *zEsc = 0;
      switch( *z ){
        case '\\': zEsc = "\\\\"; break;
        case '\t': zEsc = "\\t"; break;
        case '\n': zEsc = "\\n"; break;
        case '\r': zEsc = "\\r"; break;
      }
      if( zEsc ){
        linePut(q, zStart, (size_t)(z - zStart));
        linePut(q, zEsc, 2);
        zStart = z+1;
      }
    }
    linePut(q, zStart, (size_t)(z - zStart));
  }
  linePut(q, bLast ? "\n" : "\t", 1);
}

/* aggregate_id:aggregate_type, the column the twin joins streams by. */
static void lineStreamId(PgSide *q, const EcRow *r){
  size_t nId = strlen(r->zAggId), nType = strlen(r->zAggType);
  char *z = malloc(nId + nType + 2);
  if( z==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  memcpy(z, r->zAggId, nId);
  z[nId] = ':';
  memcpy(z + nId + 1, r->zAggType, nType + 1);
  lineField(q, z, 0);
  free(z);
}

static void lineNumber(PgSide *q, i64 v){
  char z[24];
  snprintf(z, sizeof(z), "%lld", v);
  lineField(q, z, 0);
}

static void lineRow(PgSide *q, const EcRow *r){
  lineNumber(q, r->iGlobal);
  lineStreamId(q, r);
  lineField(q, r->zAggId, 0);
  lineField(q, r->zAggType, 0);
  lineNumber(q, r->iStream);
  lineField(q, r->zEventId, 0);
  lineField(q, r->zEventType, 0);
  lineNumber(q, r->iEventVersion);
  lineField(q, r->zTenant, 0);
  lineField(q, r->zActor, 0);
  lineField(q, r->zCorrelation, 0);
  lineField(q, r->zCausation, 0);
  lineField(q, r->zOccurred, 0);
  lineField(q, r->zStored, 0);
  lineField(q, r->zData, 0);
  lineField(q, r->zMetadata, 1);
}

static const char zColumns[] = "(global_position, stream_id, aggregate_id,"
    " aggregate_type, stream_position, event_id, event_type, event_version, tenant_id,"
    " actor_id, correlation_id, causation_id, occurred_at, stored_at, data,"
    " metadata)";

/* COPY the chunk's rows into zTable (inside the caller's transaction). */
static int copyRows(EcSide *s, const char *zTable, const EcChunk *c){
  PgSide *q = s->pImpl;
  char zSql[512];
  PGresult *r;
  int i;
  snprintf(zSql, sizeof(zSql), "COPY %s %s FROM STDIN", zTable, zColumns);
  r = PQexec(q->c, zSql);
  if( PQresultStatus(r)!=PGRES_COPY_IN ) return pgError(s, zSql, r);
  PQclear(r);
  q->nLine = 0;
  for(i=0; i<c->nRow; i++){
    lineRow(q, &c->aRow[i]);
    if( q->nLine > (1<<20) || i==c->nRow-1 ){
      if( PQputCopyData(q->c, q->zLine, (int)q->nLine)!=1 ) break;
      q->nLine = 0;
    }
  }
  if( PQputCopyEnd(q->c, i==c->nRow ? 0 : "es-copy: write failed")!=1 ){
    return pgError(s, "COPY", 0);
  }
  r = PQgetResult(q->c);
  if( PQresultStatus(r)!=PGRES_COMMAND_OK ) return pgError(s, "COPY", r);
  PQclear(r);
  while( (r = PQgetResult(q->c))!=0 ) PQclear(r);
  return 0;
}

static int exec(EcSide *s, const char *zSql){
  return one(s, zSql, 0, 0, 0, 0, 0);
}

static int pgLoad(EcSide *s, const EcChunk *c){
  char zImported[256];
  if( exec(s, "BEGIN") ) return 1;
  if( exec(s, "SELECT es_import_begin()")
   || copyRows(s, "pg_temp.es_import_rows", c)
   || one(s, "SELECT es_import_rows()", 0, 0, 0, zImported, sizeof(zImported))
   || exec(s, "COMMIT") ){
    char zKeep[sizeof(s->zErr)];
    memcpy(zKeep, s->zErr, sizeof(zKeep));
    PQclear(PQexec(CONN(s), "ROLLBACK"));
    memcpy(s->zErr, zKeep, sizeof(zKeep));
    return 1;
  }
  return 0;
}

/* --baseline: the same rows COPYed into a plain table, and nothing else:
** what es-copy's own checks and bookkeeping cost is measured against it. */
int ecPgBaseline(EcSide *s, const EcChunk *c){
  if( exec(s, "BEGIN") ) return 1;
  if( exec(s, "CREATE TABLE IF NOT EXISTS es_copy_baseline (global_position bigint,"
             " stream_id text,"
             " aggregate_id text, aggregate_type text, stream_position bigint,"
             " event_id uuid, event_type text, event_version bigint, tenant_id text,"
             " actor_id text, correlation_id uuid, causation_id uuid,"
             " occurred_at timestamptz, stored_at timestamptz, data jsonb,"
             " metadata jsonb)")
   || copyRows(s, "es_copy_baseline", c)
   || exec(s, "COMMIT") ){
    PQclear(PQexec(CONN(s), "ROLLBACK"));
    return 1;
  }
  return 0;
}

/* --------------------------------------------- verify, the other tables */

static int pgVerify(EcSide *s, int *pbOk, char *zReport, int n){
  if( one(s, "SELECT es_verify()::text", 0, 0, 0, zReport, n) ) return 1;
  *pbOk = strncmp(zReport, "{\"ok\":true", 10)==0;
  return 0;
}

static int extras(EcSide *s, const char *zSql, int bSnapshot, EcExtra **pa, int *pn){
  PGresult *r = PQexec(CONN(s), zSql);
  int i, n;
  EcExtra *a;
  *pa = 0;
  *pn = 0;
  if( PQresultStatus(r)!=PGRES_TUPLES_OK ) return pgError(s, zSql, r);
  n = PQntuples(r);
  a = calloc(n ? n : 1, sizeof(EcExtra));
  if( a==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  for(i=0; i<n; i++){
    a[i].zName = strdup(PQgetvalue(r, i, 0));
    if( bSnapshot ){
      a[i].zType = strdup(PQgetvalue(r, i, 1));
      a[i].iSchema = strtoll(PQgetvalue(r, i, 2), 0, 10);
      a[i].iPosition = strtoll(PQgetvalue(r, i, 3), 0, 10);
      a[i].zState = strdup(PQgetvalue(r, i, 4));
    }else{
      a[i].iPosition = strtoll(PQgetvalue(r, i, 1), 0, 10);
    }
  }
  PQclear(r);
  *pa = a;
  *pn = n;
  return 0;
}

static int pgCheckpoints(EcSide *s, EcExtra **pa, int *pn){
  return extras(s, "SELECT name, position FROM es_checkpoints ORDER BY name", 0, pa, pn);
}

static int pgSnapshots(EcSide *s, EcExtra **pa, int *pn){
  return extras(s, "SELECT s.aggregate_id, s.aggregate_type, n.schema_version,"
      " n.version, n.state::text FROM es_snapshots n JOIN es_streams s"
      " ON s.stream_key = n.stream_key ORDER BY 1, 2, 3", 1, pa, pn);
}

static int pgPutCheckpoint(EcSide *s, const EcExtra *x){
  char zPos[24];
  const char *az[2] = { x->zName, zPos };
  snprintf(zPos, sizeof(zPos), "%lld", x->iPosition);
  return one(s, "SELECT es_checkpoint_set($1, $2::bigint) WHERE es_checkpoint($1) < $2::bigint"
                " AND $2::bigint <= es_global_position()", 2, az, 0, 0, 0);
}

static int pgPutSnapshot(EcSide *s, const EcExtra *x){
  char zVer[24], zSchema[24];
  const char *az[5] = { x->zName, x->zType, zVer, x->zState, zSchema };
  snprintf(zVer, sizeof(zVer), "%lld", x->iPosition);
  snprintf(zSchema, sizeof(zSchema), "%lld", x->iSchema);
  return one(s, "SELECT es_snapshot_save($1, $2, $3::bigint, $4::json, $5::bigint)"
                " WHERE $3::bigint <= es_version($1, $2)", 5, az, 0, 0, 0);
}

static void pgClose(EcSide *s){
  PgSide *q = s->pImpl;
  if( q==0 ) return;
  PQfinish(q->c);
  free(q->zLine);
  free(q);
  s->pImpl = 0;
}

static const EcSideMethods pgMethods = {
  pgHead, pgEventIdAt, pgRead, pgLoad, pgVerify, pgCheckpoints, pgSnapshots,
  pgPutCheckpoint, pgPutSnapshot, pgClose
};

int ecPgOpen(EcSide *s, const char *zConninfo, const char *zSchema, int bTarget){
  PgSide *q = calloc(1, sizeof(PgSide));
  char zInfo[64];
  (void)bTarget;
  if( q==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  s->pImpl = q;
  s->pM = &pgMethods;
  q->c = PQconnectdb(zConninfo);
  if( PQstatus(q->c)!=CONNECTION_OK ){
    return pgError(s, "cannot connect", 0);
  }
  if( exec(s, "SET TimeZone = 'UTC'") || exec(s, "SET client_encoding = 'UTF8'")
   || exec(s, "SET client_min_messages = warning") ){
    return 1;
  }
  if( zSchema ){
    char *zQuoted = PQescapeIdentifier(q->c, zSchema, strlen(zSchema));
    char zSql[600];
    snprintf(zSql, sizeof(zSql), "SET search_path = %s, pg_temp", zQuoted);
    PQfreemem(zQuoted);
    if( exec(s, zSql) ) return 1;
  }
  /* The twin must be there: es_info() says so, and which version. */
  if( one(s, "SELECT es_info() ->> 'version'", 0, 0, 0, zInfo, sizeof(zInfo)) ){
    char zKeep[sizeof(s->zErr)];
    memcpy(zKeep, s->zErr, sizeof(zKeep));
    ecSideError(s, "eventstore is not installed in this database%s (CREATE EXTENSION"
        " eventstore, or sql/postgres/eventstore.sql; --pg-schema names its schema):"
        " %s", zSchema ? " schema" : "", zKeep);
    return 1;
  }
  return 0;
}
