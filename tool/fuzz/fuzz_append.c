/*
** fuzz_append.c -- libFuzzer target for es_append's inputs.
**
** The input is split at NUL bytes into 4, 5 or 6 arguments (aggregate_id,
** aggregate_type, expected_version, then events, or event_type, data and
** options).  An argument starting with '#' is bound as an integer, one
** starting with '%' as a real, one that is exactly "\x01" as NULL; the
** rest as text.  Every call either succeeds or fails with an error; every
** 500 calls, and on any success that reports a version below the one
** before, the store must still pass es_verify().
*/
#include "fuzz_common.h"

static sqlite3 *db = 0;
static sqlite3_stmt *apAppend[7];
static int nCall = 0;

static void bindArg(sqlite3_stmt *p, int i, const uint8_t *z, size_t n){
  if( n==1 && z[0]==1 ){
    sqlite3_bind_null(p, i);
  }else if( n>0 && z[0]=='#' ){
    char buf[32];
    size_t k = n-1 < sizeof(buf)-1 ? n-1 : sizeof(buf)-1;
    memcpy(buf, z+1, k); buf[k] = 0;
    sqlite3_bind_int64(p, i, strtoll(buf, 0, 10));
  }else if( n>0 && z[0]=='%' ){
    char buf[32];
    size_t k = n-1 < sizeof(buf)-1 ? n-1 : sizeof(buf)-1;
    memcpy(buf, z+1, k); buf[k] = 0;
    sqlite3_bind_double(p, i, strtod(buf, 0));
  }else{
    sqlite3_bind_text(p, i, (const char*)z, (int)n, SQLITE_TRANSIENT);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  const uint8_t *az[6];
  size_t an[6];
  int nArg = 0, k;
  size_t i, iStart = 0;
  if( db==0 ){
    fuzzRegister();
    if( sqlite3_open(":memory:", &db) ) abort();
    fuzzExec(db, "SELECT es_init()");
    for(k=4; k<=6; k++){
      char zSql[64];
      snprintf(zSql, sizeof(zSql), "SELECT es_append(?%s%s%s%s%s)",
               ",?", ",?", ",?", k>4 ? ",?" : "", k>5 ? ",?" : "");
      if( sqlite3_prepare_v2(db, zSql, -1, &apAppend[k], 0) ) abort();
    }
  }
  for(i=0; i<=nData && nArg<6; i++){
    if( i==nData || aData[i]==0 ){
      az[nArg] = aData + iStart;
      an[nArg] = i - iStart;
      nArg++;
      iStart = i+1;
    }
  }
  if( nArg<4 ) return 0;
  {
    sqlite3_stmt *p = apAppend[nArg];
    int rc;
    for(k=0; k<nArg; k++) bindArg(p, k+1, az[k], an[k]);
    rc = sqlite3_step(p);
    if( rc!=SQLITE_ROW && rc!=SQLITE_ERROR && rc!=SQLITE_CONSTRAINT ){
      fprintf(stderr, "es_append returned %d: %s\n", rc, sqlite3_errmsg(db));
      abort();
    }
    if( rc==SQLITE_ROW && strncmp((const char*)sqlite3_column_text(p, 0),
                                  "{\"success\":true,", 16)!=0 ){
      abort();
    }
    sqlite3_reset(p);
    sqlite3_clear_bindings(p);
  }
  if( ++nCall % 500==0 ){
    fuzzRequireValid(db, "after 500 appends");
    /* Keep the store small so that each run stays fast. */
    if( nCall % 5000==0 ) fuzzExec(db, "SELECT es_clear()");
  }
  return 0;
}
