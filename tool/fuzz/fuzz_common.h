/*
** fuzz_common.h -- shared by the libFuzzer targets in tool/fuzz/.
**
** The extension is compiled into each fuzzer with -DSQLITE_CORE and
** registered with sqlite3_auto_extension(), so every connection the
** target opens has it, and the sanitizers see its code.
*/
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

int sqlite3_eventstore_init(sqlite3*, char**, const sqlite3_api_routines*);

static inline void fuzzRegister(void){
  static int done = 0;
  if( !done ){
    sqlite3_auto_extension((void(*)(void))sqlite3_eventstore_init);
    done = 1;
  }
}

/* Run SQL whose failure would be a bug in the fuzzer itself. */
static inline void fuzzExec(sqlite3 *db, const char *zSql){
  char *zErr = 0;
  if( sqlite3_exec(db, zSql, 0, 0, &zErr)!=SQLITE_OK ){
    fprintf(stderr, "fuzz setup failed: %s: %s\n", zSql, zErr);
    abort();
  }
}

/* The first column of the first row of zSql, as text (owned), or NULL. */
static inline char *fuzzQueryText(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p = 0;
  char *z = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)==SQLITE_OK
   && sqlite3_step(p)==SQLITE_ROW ){
    z = sqlite3_mprintf("%s", sqlite3_column_text(p, 0));
  }
  sqlite3_finalize(p);
  return z;
}

/* Abort unless es_verify() says ok: the store's invariants must hold
** after anything a fuzzer does through the extension. */
static inline void fuzzRequireValid(sqlite3 *db, const char *zWhen){
  char *z = fuzzQueryText(db, "SELECT es_verify()");
  if( z==0 || strncmp(z, "{\"ok\":true", 10)!=0 ){
    fprintf(stderr, "es_verify failed %s: %s\n", zWhen, z ? z : sqlite3_errmsg(db));
    abort();
  }
  sqlite3_free(z);
}
#endif
