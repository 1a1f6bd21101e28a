/*
** fuzz_vtab.c -- differential libFuzzer target for the virtual tables.
**
** A fixed store of 400 events is built once.  Each input is read as a
** program that builds one query on event_all or event_stream: a few WHERE
** terms (positions, stream, aggregate, types with = and IN, tenant,
** occurred_at as Unix seconds or ISO text with an offset), an ORDER BY in
** either direction, LIMIT and OFFSET.  The same query is written in plain
** SQL over the storage tables (the view ref_events joins es_events to its
** stream and kind rows), and the two must return exactly the same rows in
** the same order (as a set, when there is no ORDER BY).  Any difference
** aborts.
*/
#include "fuzz_common.h"
#include <stdarg.h>

static sqlite3 *db = 0;
static const int64_t BASE = 1795651200;   /* 2026-11-26T00:00:00Z */

static void buildStore(void){
  int i;
  sqlite3_stmt *p;
  fuzzRegister();
  if( sqlite3_open(":memory:", &db) ) abort();
  if( sqlite3_prepare_v2(db, "SELECT es_append(?1,?2,-1,?3,'{}',"
        "json_object('occurred_at',?4,'tenant_id',?5))", -1, &p, 0) ) abort();
  for(i=0; i<400; i++){
    static const char *azId[] = {"a","b","c","d","e"};
    static const char *azType[] = {"Task","Order"};
    static const char *azEv[] = {"Created","Updated","Deleted","Touched"};
    static const char *azTenant[] = {"t1","t2",0};
    unsigned h = (unsigned)i*2654435761u;
    sqlite3_bind_text(p, 1, azId[h%5], -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 2, azType[(h>>3)%2], -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, azEv[(h>>5)%4], -1, SQLITE_STATIC);
    sqlite3_bind_int64(p, 4, BASE + (h>>8)%600);
    if( azTenant[(h>>11)%3] ){
      sqlite3_bind_text(p, 5, azTenant[(h>>11)%3], -1, SQLITE_STATIC);
    }else{
      sqlite3_bind_null(p, 5);
    }
    if( sqlite3_step(p)!=SQLITE_ROW ) abort();
    sqlite3_reset(p);
  }
  sqlite3_finalize(p);
  /* Storage format 2 keeps names in es_streams and es_kinds and leaves
  ** occurred_at NULL where it equals stored_at: the reference query reads
  ** them back with plain joins, independently of vtab/. */
  if( sqlite3_exec(db, "CREATE TEMP VIEW ref_events AS SELECT e.global_position,"
        " e.stream_position, s.aggregate_id, s.aggregate_type, k.event_type,"
        " e.tenant_id, coalesce(e.occurred_at, e.stored_at) AS occurred_at"
        " FROM es_events e JOIN es_streams s ON s.stream_key=e.stream_key"
        " JOIN es_kinds k ON k.kind=e.kind", 0, 0, 0) ) abort();
}

typedef struct Prog Prog;
struct Prog { const uint8_t *a; size_t n, i; };
static unsigned next(Prog *p, unsigned nChoice){
  unsigned v = p->i < p->n ? p->a[p->i] : 0;
  p->i++;
  return v % nChoice;
}

static const char *azOp[] = {"=", "<", "<=", ">", ">="};

/* The same text, appended to the virtual-table query and to the plain
** SQL one. */
static void appendBoth(sqlite3_str *pV, sqlite3_str *pR, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  sqlite3_str_vappendf(pV, zFmt, ap);
  va_end(ap);
  va_start(ap, zFmt);
  sqlite3_str_vappendf(pR, zFmt, ap);
  va_end(ap);
}

/* One term, appended to both queries. */
static void addTerm(Prog *p, sqlite3_str *pV, sqlite3_str *pR){
  const char *zOp = azOp[next(p, 5)];
  switch( next(p, 9) ){
    case 0: {
      int v = (int)next(p, 256) + (int)next(p, 2)*256;
      appendBoth(pV, pR, " AND global_position %s %d", zOp, v);
      break;
    }
    case 1: {
      int v = (int)next(p, 100);
      appendBoth(pV, pR, " AND stream_position %s %d", zOp, v);
      break;
    }
    case 2: {
      char z[16];
      snprintf(z, sizeof(z), "%c:%s", 'a'+next(p, 6), next(p, 2) ? "Task" : "Order");
      sqlite3_str_appendf(pV, " AND stream_id = '%s'", z);
      sqlite3_str_appendf(pR, " AND aggregate_id||':'||aggregate_type = '%s'", z);
      break;
    }
    case 3: {
      char c = (char)('a'+next(p, 6));
      appendBoth(pV, pR, " AND aggregate_id = '%c'", c);
      break;
    }
    case 4: {
      const char *z = next(p, 2) ? "Task" : "Order";
      appendBoth(pV, pR, " AND aggregate_type = '%s'", z);
      break;
    }
    case 5: {
      static const char *az[] = {"Created","Updated","Deleted","Touched","Nope"};
      const char *z = az[next(p, 5)];
      appendBoth(pV, pR, " AND event_type = '%s'", z);
      break;
    }
    case 6: {
      static const char *az[] = {"'Created'","'Updated'","'Deleted'","'Touched'","'Nope'","NULL"};
      int k, n = 1 + (int)next(p, 4);
      appendBoth(pV, pR, " AND event_type IN (");
      for(k=0; k<n; k++){
        const char *z = az[next(p, 6)];
        appendBoth(pV, pR, "%s%s", k ? "," : "", z);
      }
      appendBoth(pV, pR, ")");
      break;
    }
    case 7: {
      const char *z = next(p, 2) ? "t1" : "t2";
      appendBoth(pV, pR, " AND tenant_id = '%s'", z);
      break;
    }
    default: {
      int64_t t = BASE + (int64_t)next(p, 256)*3 - 60;
      if( next(p, 2) ){
        sqlite3_str_appendf(pV, " AND occurred_at %s %lld", zOp, (long long)t);
      }else{
        /* The same instant as ISO text two hours east of UTC. */
        int64_t l = t + 7200;
        sqlite3_str_appendf(pV, " AND occurred_at %s strftime('%%Y-%%m-%%d %%H:%%M:%%S+02:00', %lld, 'unixepoch')",
                            zOp, (long long)l);
      }
      sqlite3_str_appendf(pR, " AND occurred_at %s %lld", zOp, (long long)t*1000000);
      break;
    }
  }
}

static char *rows(const char *zSql, int bSort){
  sqlite3_stmt *p = 0;
  sqlite3_str *pOut;
  char *z;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    fprintf(stderr, "prepare failed: %s\n%s\n", sqlite3_errmsg(db), zSql);
    abort();
  }
  pOut = sqlite3_str_new(db);
  {
    int64_t *a = 0;
    int n = 0, nAlloc = 0, k, rc;
    while( (rc = sqlite3_step(p))==SQLITE_ROW ){
      if( n>=nAlloc ){ nAlloc = nAlloc ? nAlloc*2 : 64; a = realloc(a, nAlloc*sizeof(*a)); }
      a[n++] = sqlite3_column_int64(p, 0);
    }
    if( rc!=SQLITE_DONE ){
      fprintf(stderr, "step failed: %s\n%s\n", sqlite3_errmsg(db), zSql);
      abort();
    }
    if( bSort ){
      int x, y;
      for(x=1; x<n; x++) for(y=x; y>0 && a[y-1]>a[y]; y--){ int64_t t=a[y]; a[y]=a[y-1]; a[y-1]=t; }
    }
    for(k=0; k<n; k++) sqlite3_str_appendf(pOut, "%lld ", (long long)a[k]);
    free(a);
  }
  sqlite3_finalize(p);
  z = sqlite3_str_finish(pOut);
  return z ? z : sqlite3_mprintf("");
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  Prog prog = { aData, nData, 0 };
  sqlite3_str *pV, *pR;
  char *zV, *zR, *zGotV, *zGotR;
  int nTerm, k, bStream, bOrder;
  if( db==0 ) buildStore();
  pV = sqlite3_str_new(db);
  pR = sqlite3_str_new(db);
  bStream = next(&prog, 4)==0;
  if( bStream ){
    char c = (char)('a'+next(&prog, 5));
    const char *zT = next(&prog, 2) ? "Task" : "Order";
    sqlite3_str_appendf(pV, "SELECT global_position FROM event_stream('%c:%s') WHERE 1", c, zT);
    sqlite3_str_appendf(pR, "SELECT global_position FROM ref_events WHERE aggregate_id='%c'"
                            " AND aggregate_type='%s'", c, zT);
  }else{
    sqlite3_str_appendall(pV, "SELECT global_position FROM event_all WHERE 1");
    sqlite3_str_appendall(pR, "SELECT global_position FROM ref_events WHERE 1");
  }
  nTerm = (int)next(&prog, 5);
  for(k=0; k<nTerm; k++) addTerm(&prog, pV, pR);
  bOrder = (int)next(&prog, 3);
  if( bOrder ){
    const char *zDir = bOrder==1 ? "ASC" : "DESC";
    const char *zCol = (bStream && next(&prog, 2)) ? "stream_position" : "global_position";
    sqlite3_str_appendf(pV, " ORDER BY %s %s", zCol, zDir);
    sqlite3_str_appendf(pR, " ORDER BY global_position %s", zDir);
    if( next(&prog, 2) ){
      int nLimit = (int)next(&prog, 30) - 1, nOffset = (int)next(&prog, 12);
      appendBoth(pV, pR, " LIMIT %d OFFSET %d", nLimit, nOffset);
    }
  }
  zV = sqlite3_str_finish(pV);
  zR = sqlite3_str_finish(pR);
  zGotV = rows(zV, !bOrder);
  zGotR = rows(zR, !bOrder);
  if( strcmp(zGotV, zGotR)!=0 ){
    fprintf(stderr, "MISMATCH\n  %s\n    -> %s\n  %s\n    -> %s\n", zV, zGotV, zR, zGotR);
    abort();
  }
  sqlite3_free(zV); sqlite3_free(zR); sqlite3_free(zGotV); sqlite3_free(zGotR);
  return 0;
}
