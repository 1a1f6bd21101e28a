/*
** fuzz_corrupt.c -- libFuzzer target: databases with damaged pages.
**
** A store of a few hundred events is built once and serialized.  Each
** input is a list of 5-byte edits (a 4-byte offset into the pages after
** the first, and the byte to put there); the damaged image is opened with
** sqlite3_deserialize() and the extension is put to work on it: es_verify,
** reads through both virtual tables with filters, es_version, es_append.
** Errors are expected; a crash, a sanitizer report or a hang is a bug.
*/
#include "fuzz_common.h"

static unsigned char *aImage = 0;
static sqlite3_int64 nImage = 0;

static void buildImage(void){
  sqlite3 *db;
  unsigned char *a;
  fuzzRegister();
  if( sqlite3_open(":memory:", &db) ) abort();
  fuzzExec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300)"
               " SELECT count(es_append('s'||(i%17),'Task',-1,json_object('event_type','E'||(i%4),"
               "'tenant_id','t'||(i%3),'data',json_object('i',i,'pad',printf('%.*c',i%50,'x'))))) FROM n");
  a = sqlite3_serialize(db, "main", &nImage, 0);
  if( a==0 ) abort();
  aImage = malloc(nImage);
  memcpy(aImage, a, nImage);
  sqlite3_free(a);
  sqlite3_close(db);
}

static void run(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK ){
    int n = 0;
    while( sqlite3_step(p)==SQLITE_ROW && n++<2000 ){
      int k;
      for(k=0; k<sqlite3_column_count(p); k++) (void)sqlite3_column_text(p, k);
    }
  }
  sqlite3_finalize(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData){
  sqlite3 *db;
  unsigned char *a;
  size_t i;
  if( aImage==0 ) buildImage();
  a = sqlite3_malloc64(nImage);
  if( a==0 ) return 0;
  memcpy(a, aImage, nImage);
  for(i=0; i+5<=nData; i+=5){
    uint32_t off;
    memcpy(&off, aData+i, 4);
    off = 4096 + off % (uint32_t)(nImage - 4096);   /* leave page 1 alone */
    a[off] = aData[i+4];
  }
  if( sqlite3_open(":memory:", &db) ){ sqlite3_free(a); return 0; }
  if( sqlite3_deserialize(db, "main", a, nImage, nImage,
        SQLITE_DESERIALIZE_FREEONCLOSE|SQLITE_DESERIALIZE_RESIZEABLE)!=SQLITE_OK ){
    sqlite3_close(db);
    return 0;
  }
  sqlite3_exec(db, "PRAGMA cell_size_check=ON", 0, 0, 0);
  run(db, "SELECT es_verify()");
  run(db, "SELECT * FROM event_all");
  run(db, "SELECT * FROM event_all WHERE event_type IN ('E1','E2') ORDER BY global_position DESC LIMIT 20");
  run(db, "SELECT * FROM event_all WHERE tenant_id='t1' AND global_position>50");
  run(db, "SELECT * FROM event_all WHERE occurred_at > '2020-01-01' ORDER BY global_position");
  run(db, "SELECT * FROM event_stream('s3:Task') ORDER BY stream_position DESC LIMIT 5");
  run(db, "SELECT es_version('s5','Task'), es_global_position(), es_event_exists('00000000-0000-4000-8000-000000000000')");
  run(db, "SELECT es_append('s5','Task',-1,'[{\"event_type\":\"X\"},{\"event_type\":\"Y\"}]')");
  run(db, "SELECT es_append('new','Task',0,'Z','{}')");
  run(db, "SELECT es_verify()");
  sqlite3_close(db);
  return 0;
}
