/*
** bench_pg.c -- tool/bench --pg CONNINFO: the PostgreSQL twin against
** hand-written PostgreSQL, side by side (make bench-pg starts a throwaway
** cluster for it, tool/bench_pg.tcl).
**
**   P1a  W1a: 10,000 streams x 10 events, one event per append, one
**        transaction
**   P1b  W1b: 500 streams x 10 events, each append its own transaction
**   P1c  P1b's appends from 4 clients at once (different streams)
**   P2   W2: all events of 10,000 random streams
**   P3   W3: every event in global order
**
** The extension's side calls es_append / event_stream / event_all in a
** schema of their own; the hand-written side is what a careful user writes
** for the same guarantees: a plain table with the two unique indexes
** (event id; stream and position) and the global position as its key,
** the version read under the same lock (the counter row, FOR UPDATE, as
** the twin takes it), then INSERT; every statement prepared once.
** Alternating which goes first, each run on a fresh schema, the ratio the
** median of the rounds' ratios; results are checked.
*/
#include "bench.h"
#include <libpq-fe.h>
#include <sys/wait.h>

static const char *zConn = 0;

static PGconn *pgOpen(void){
  PGconn *c = PQconnectdb(zConn);
  if( PQstatus(c)!=CONNECTION_OK ){
    fprintf(stderr, "bench --pg: %s", PQerrorMessage(c));
    exit(2);
  }
  return c;
}

/* Run sql; exit on failure (a benchmark's setup never fails). */
static PGresult *pgRun(PGconn *c, const char *zSql){
  PGresult *r = PQexec(c, zSql);
  ExecStatusType s = PQresultStatus(r);
  if( s!=PGRES_COMMAND_OK && s!=PGRES_TUPLES_OK ){
    fprintf(stderr, "bench --pg: %s: %s", zSql, PQerrorMessage(c));
    exit(2);
  }
  return r;
}
static void pgExec(PGconn *c, const char *zSql){ PQclear(pgRun(c, zSql)); }

static void pgPrepare(PGconn *c, const char *zName, const char *zSql, int n){
  PGresult *r = PQprepare(c, zName, zSql, n, 0);
  if( PQresultStatus(r)!=PGRES_COMMAND_OK ){
    fprintf(stderr, "bench --pg: prepare %s: %s", zName, PQerrorMessage(c));
    exit(2);
  }
  PQclear(r);
}

static PGresult *pgCall(PGconn *c, const char *zName, int n,
                        const char *const *az){
  PGresult *r = PQexecPrepared(c, zName, n, az, 0, 0, 0);
  ExecStatusType s = PQresultStatus(r);
  if( s!=PGRES_COMMAND_OK && s!=PGRES_TUPLES_OK ){
    fprintf(stderr, "bench --pg: %s: %s", zName, PQerrorMessage(c));
    exit(2);
  }
  return r;
}

/* The two schemas, fresh. */
static void pgSchemaExt(PGconn *c){
  char *zScript;
  FILE *f = fopen("sql/postgres/eventstore.sql", "rb");
  long n;
  if( f==0 ){ perror("sql/postgres/eventstore.sql"); exit(2); }
  fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
  zScript = malloc(n+1);
  if( fread(zScript, 1, n, f)!=(size_t)n ) exit(2);
  zScript[n] = 0;
  fclose(f);
  pgExec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench_ext CASCADE;"
            " CREATE SCHEMA bench_ext; SET search_path = bench_ext");
  pgExec(c, zScript);
  free(zScript);
}

static void pgSchemaHand(PGconn *c){
  pgExec(c, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench_hand CASCADE;"
            " CREATE SCHEMA bench_hand; SET search_path = bench_hand;"
            " CREATE TABLE counter(id int PRIMARY KEY, n bigint NOT NULL);"
            " INSERT INTO counter VALUES (1, 0);"
            " CREATE TABLE events(global_position bigint PRIMARY KEY,"
            "  stream_id text NOT NULL, stream_position int NOT NULL,"
            "  event_id uuid NOT NULL UNIQUE, event_type text NOT NULL,"
            "  payload jsonb NOT NULL, created_at timestamptz NOT NULL,"
            "  UNIQUE (stream_id, stream_position))");
}

/* A writer of either side, on its own connection. */
typedef struct PgWriter PgWriter;
struct PgWriter { PGconn *c; int bExt; };

static void pgWriterOpen(PgWriter *w, int bExt){
  w->c = pgOpen();
  w->bExt = bExt;
  pgExec(w->c, bExt ? "SET search_path = bench_ext" : "SET search_path = bench_hand");
  if( bExt ){
    pgPrepare(w->c, "append", "SELECT es_append($1,'Order',$2::bigint,"
              "'OrderLineAdded',$3::json)", 3);
  }else{
    pgPrepare(w->c, "lock", "SELECT c.n, (SELECT max(stream_position) FROM"
              " events WHERE stream_id=$1) FROM counter c WHERE id=1 FOR UPDATE", 1);
    pgPrepare(w->c, "insert", "INSERT INTO events VALUES ($1::bigint,$2,$3::int,"
              "gen_random_uuid(),'OrderLineAdded',$4::jsonb,clock_timestamp())", 4);
    pgPrepare(w->c, "bump", "UPDATE counter SET n=$1::bigint WHERE id=1", 1);
  }
}

/* One event appended at expected version iExpected. */
static void pgAppendOne(PgWriter *w, const char *zId, int iExpected,
                        const char *zData){
  char zExp[24], zPos[24], zGlobal[24];
  snprintf(zExp, sizeof(zExp), "%d", iExpected);
  if( w->bExt ){
    const char *az[3] = { zId, zExp, zData };
    PQclear(pgCall(w->c, "append", 3, az));
  }else{
    const char *azLock[1] = { zId };
    PGresult *r = pgCall(w->c, "lock", 1, azLock);
    long long n = atoll(PQgetvalue(r, 0, 0));
    int v = PQgetisnull(r, 0, 1) ? 0 : atoi(PQgetvalue(r, 0, 1));
    PQclear(r);
    if( v!=iExpected ){ fprintf(stderr, "bench --pg: conflict on %s\n", zId); exit(2); }
    snprintf(zGlobal, sizeof(zGlobal), "%lld", n+1);
    snprintf(zPos, sizeof(zPos), "%d", v+1);
    {
      const char *az[4] = { zGlobal, zId, zPos, zData };
      PQclear(pgCall(w->c, "insert", 4, az));
    }
    {
      const char *az[1] = { zGlobal };
      PQclear(pgCall(w->c, "bump", 1, az));
    }
  }
}

/* Streams [iFirst, iFirst+nStream) x 10 events, round-robin: nPerTxn
** appends to a transaction (1: each its own; the twin's then needs no
** BEGIN, as es_append is atomic by itself). */
#define PG_ONE_TXN 0x7fffffff
static void pgPopulate(PgWriter *w, int iFirst, int nStream, int nPerTxn){
  char zData[400], zId[32];
  int e, s, n = 0;
  int bExplicit = nPerTxn>1 || !w->bExt;
  for(e=0; e<EVENTS_PER_STREAM; e++){
    for(s=iFirst; s<iFirst+nStream; s++){
      streamId(zId, sizeof(zId), s);
      eventData(zData, sizeof(zData), s, e);
      if( bExplicit && n%nPerTxn==0 ) pgExec(w->c, "BEGIN");
      pgAppendOne(w, zId, e, zData);
      n++;
      if( bExplicit && n%nPerTxn==0 ) pgExec(w->c, "COMMIT");
    }
  }
  if( bExplicit && n%nPerTxn!=0 ) pgExec(w->c, "COMMIT");
}

/* Check a populated side: count, streams, positions 1..10. */
static void pgCheck(PGconn *c, int bExt, int nStream, Result *pRes){
  PGresult *r = pgRun(c, bExt
    ? "SELECT count(*), count(DISTINCT stream_id), max(stream_position),"
      " sum(stream_position), max(global_position) FROM bench_ext.event_all"
    : "SELECT count(*), count(DISTINCT stream_id), max(stream_position),"
      " sum(stream_position), max(global_position) FROM bench_hand.events");
  long long n = atoll(PQgetvalue(r, 0, 0)), nS = atoll(PQgetvalue(r, 0, 1));
  long long mx = atoll(PQgetvalue(r, 0, 2)), sum = atoll(PQgetvalue(r, 0, 3));
  long long g = atoll(PQgetvalue(r, 0, 4));
  PQclear(r);
  pRes->ok = n==(long long)nStream*EVENTS_PER_STREAM && nS==nStream
          && mx==EVENTS_PER_STREAM && sum==(long long)nStream*55 && g==n;
  if( !pRes->ok ){
    snprintf(pRes->zCheck, sizeof(pRes->zCheck), "count %lld streams %lld"
             " max %lld sum %lld top %lld", n, nS, mx, sum, g);
  }
}

static void pgFresh(int bExt){
  PGconn *c = pgOpen();
  if( bExt ) pgSchemaExt(c); else pgSchemaHand(c);
  pgExec(c, "CHECKPOINT");
  PQfinish(c);
}

/* P1a, P1b. */
static void pgAppends(int bExt, int nStream, int nPerTxn, Result *pRes){
  PgWriter w;
  double t0;
  pgFresh(bExt);
  pgWriterOpen(&w, bExt);
  t0 = now();
  pgPopulate(&w, 0, nStream, nPerTxn);
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nStream*EVENTS_PER_STREAM;
  pgCheck(w.c, bExt, nStream, pRes);
  PQfinish(w.c);
}

/* P1c: 4 clients, each P1b's appends to streams of its own. */
static void pgConcurrent(int bExt, Result *pRes){
  int k, nClient = 4;
  pid_t aPid[4];
  double t0;
  PGconn *c;
  pgFresh(bExt);
  t0 = now();
  for(k=0; k<nClient; k++){
    aPid[k] = fork();
    if( aPid[k]==0 ){
      PgWriter w;
      pgWriterOpen(&w, bExt);
      pgPopulate(&w, k*W1B_STREAMS, W1B_STREAMS, 1);
      PQfinish(w.c);
      _exit(0);
    }
  }
  for(k=0; k<nClient; k++){
    int status;
    waitpid(aPid[k], &status, 0);
    if( !WIFEXITED(status) || WEXITSTATUS(status)!=0 ) pRes->ok = 0;
  }
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nClient*W1B_STREAMS*EVENTS_PER_STREAM;
  c = pgOpen();
  if( pRes->ok ) pgCheck(c, bExt, nClient*W1B_STREAMS, pRes);
  else snprintf(pRes->zCheck, sizeof(pRes->zCheck), "a client failed");
  PQfinish(c);
}

/* P2: all events of 10,000 random streams; P3: everything in order. */
static void pgReads(int bExt, int bAll, Result *pRes){
  PgWriter w;
  PGconn *c;
  long long nRow = 0;
  int i, bad = 0;
  double t0;
  pgFresh(bExt);
  pgWriterOpen(&w, bExt);
  /* In transactions of 1,000: in one, each append's counter update would
  ** cost more than the last (see P1a in docs/postgres.md). */
  pgPopulate(&w, 0, W1A_STREAMS, 1000);
  PQfinish(w.c);
  c = pgOpen();
  pgExec(c, "VACUUM ANALYZE");
  if( bExt ){
    pgExec(c, "SET search_path = bench_ext");
    pgPrepare(c, "stream", "SELECT global_position, stream_id, stream_position,"
              " event_id, event_type, data, occurred_at FROM event_stream($1)", 1);
    pgPrepare(c, "all", "SELECT global_position, stream_id, stream_position,"
              " event_id, event_type, data, occurred_at FROM event_all"
              " ORDER BY global_position", 0);
  }else{
    pgExec(c, "SET search_path = bench_hand");
    pgPrepare(c, "stream", "SELECT global_position, stream_id, stream_position,"
              " event_id, event_type, payload, created_at FROM events"
              " WHERE stream_id=$1 ORDER BY stream_position", 1);
    pgPrepare(c, "all", "SELECT global_position, stream_id, stream_position,"
              " event_id, event_type, payload, created_at FROM events"
              " ORDER BY global_position", 0);
  }
  t0 = now();
  if( bAll ){
    PGresult *r = pgCall(c, "all", 0, 0);
    long long iPrev = 0;
    nRow = PQntuples(r);
    for(i=0; i<nRow; i++){
      long long g = atoll(PQgetvalue(r, i, 0));
      if( g<=iPrev ) bad++;
      iPrev = g;
    }
    PQclear(r);
  }else{
    unsigned x = 777;
    for(i=0; i<10000; i++){
      char zId[32], zStream[48];
      const char *az[1];
      PGresult *r;
      int k, n;
      x = x*1103515245 + 12345;
      streamId(zId, sizeof(zId), (int)((x>>8) % W1A_STREAMS));
      snprintf(zStream, sizeof(zStream), "%s:Order", zId);
      az[0] = bExt ? zStream : zId;
      r = pgCall(c, "stream", 1, az);
      n = PQntuples(r);
      for(k=0; k<n; k++) if( atoi(PQgetvalue(r, k, 2))!=k+1 ) bad++;
      if( n!=EVENTS_PER_STREAM ) bad++;
      nRow += n;
      PQclear(r);
    }
  }
  pRes->secs = now() - t0;
  pRes->nEvent = (double)nRow;
  pRes->ok = bad==0 && nRow==(long long)W1A_STREAMS*EVENTS_PER_STREAM;
  if( !pRes->ok ) snprintf(pRes->zCheck, sizeof(pRes->zCheck),
                           "%d wrong, %lld rows", bad, nRow);
  PQfinish(c);
}

typedef struct PgWorkload PgWorkload;
struct PgWorkload { const char *zName; const char *zWhat; int eKind; };
static const PgWorkload aPg[] = {
  { "P1a", "10,000 streams x 10 events, one event per append, one transaction", 0 },
  { "P1b", "500 streams x 10 events, each append its own transaction", 1 },
  { "P1c", "P1b from 4 clients at once, each on streams of its own", 2 },
  { "P2",  "all events of 10,000 random streams (event_stream)", 3 },
  { "P3",  "every event in global order (event_all)", 4 },
};

static void pgRun1(int eKind, int bExt, Result *pRes){
  memset(pRes, 0, sizeof(*pRes));
  pRes->ok = 1;
  switch( eKind ){
    case 0: pgAppends(bExt, W1A_STREAMS, PG_ONE_TXN, pRes); break;
    case 1: pgAppends(bExt, W1B_STREAMS, 1, pRes); break;
    case 2: pgConcurrent(bExt, pRes); break;
    case 3: pgReads(bExt, 0, pRes); break;
    case 4: pgReads(bExt, 1, pRes); break;
  }
}

static int cmpD(const void *a, const void *b){
  double x = *(const double*)a, y = *(const double*)b;
  return x<y ? -1 : x>y;
}
static double med(double *a, int n){
  qsort(a, n, sizeof(double), cmpD);
  return n%2 ? a[n/2] : (a[n/2-1]+a[n/2])/2;
}

int benchPg(const char *zConninfo, int nRound, char **azOnly, int nOnly){
  int i, r, nFail = 0;
  PGconn *c;
  zConn = zConninfo;
  c = pgOpen();
  {
    PGresult *v = pgRun(c, "SHOW server_version");
    printf("eventstore bench --pg: PostgreSQL %s, %d rounds, median events/s\n",
           PQgetvalue(v, 0, 0), nRound);
    PQclear(v);
  }
  PQfinish(c);
  printf("%-4s %13s %13s %7s  %s\n", "", "twin", "hand-written", "ratio", "workload");
  for(i=0; i<(int)(sizeof(aPg)/sizeof(aPg[0])); i++){
    double aExt[64], aHand[64], aRatio[64];
    int bOk = 1, k;
    char zWhy[160] = "";
    if( nOnly ){
      int bWant = 0;
      for(k=0; k<nOnly; k++) if( strcmp(azOnly[k], aPg[i].zName)==0 ) bWant = 1;
      if( !bWant ) continue;
    }
    for(r=0; r<nRound && r<64; r++){
      for(k=0; k<2; k++){
        int bExt = (r%2==0) ? (k==0) : (k==1);
        Result res;
        pgRun1(aPg[i].eKind, bExt, &res);
        if( !res.ok ){
          bOk = 0;
          snprintf(zWhy, sizeof(zWhy), "%s: %s", bExt ? "twin" : "hand", res.zCheck);
        }
        if( bExt ) aExt[r] = res.nEvent/res.secs; else aHand[r] = res.nEvent/res.secs;
      }
      aRatio[r] = aExt[r]/aHand[r];
    }
    printf("%-4s %13.0f %13.0f %7.2f  %s%s%s\n", aPg[i].zName, med(aExt, nRound),
           med(aHand, nRound), med(aRatio, nRound), aPg[i].zWhat,
           bOk ? "" : "  WRONG RESULT: ", zWhy);
    fflush(stdout);
    if( !bOk ) nFail++;
  }
  return nFail ? 1 : 0;
}
