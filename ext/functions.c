/*
** functions.c -- the SQL functions other than es_append and es_verify:
**
**   es_version(aggregate_id, aggregate_type) / es_version(stream_id)
**   es_global_position()
**   es_event_exists(event_id)
**   es_uuid()
**   es_init()
**   es_clear()
**   es_info()
**
** Their flags are in eventstore.c's table of every function.  Readers
** never create the schema: on a database without it they see an empty
** store.
*/
#include "es_internal.h"
#include "eventstore.h"

/* The version built (the VERSION file, passed by the Makefile), and the
** git commit where the build knows one.  A build without them (the
** single-file dist/eventstore.c) takes the public header's version. */
#ifndef ES_VERSION
# define ES_VERSION EVENTSTORE_VERSION
#endif

/* An integer result, or the database error that stopped the function. */
static void resultInteger(sqlite3_context *ctx, const char *zFunc, int rc,
                          i64 v){
  if( rc!=SQLITE_OK ){
    esResultDbError(ctx, zFunc, rc);
  }else{
    sqlite3_result_int64(ctx, v);
  }
}

/* es_version(aggregate_id, aggregate_type) or es_version(stream_id) */
void esVersionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  EsText id, type;
  i64 iKey = 0, iVersion = 0;
  int rc;
  if( argc==2 ){
    if( esArgsStreamParts(ctx, argv[0], argv[1], "es_version", &id, &type) ){
      return;
    }
  }else if( esArgsStreamId(ctx, argv[0], "es_version", &id, &type) ){
    return;
  }
  rc = esStorageStreamLookup(p, id.z, id.n, type.z, type.n, &iKey, &iVersion);
  resultInteger(ctx, "es_version", rc, iVersion);
}

void esGlobalPositionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  i64 iPos = 0;
  int rc = esStorageGlobalPosition(p, &iPos);
  (void)argc; (void)argv;
  resultInteger(ctx, "es_global_position", rc, iPos);
}

void esEventExistsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  u8 aId[16];
  int bExists = 0, rc;
  (void)argc;
  switch( esUuidFromValue(argv[0], aId) ){
    case 2:
      esResultError(ctx, SQLITE_ERROR, "es_event_exists: event_id is NULL");
      return;
    case 1: {
      EsQuote q;
      const char *z = (const char*)sqlite3_value_text(argv[0]);
      esResultError(ctx, SQLITE_ERROR, "es_event_exists: '%s' is not a"
          " UUID", esUtf8Quote(&q, z, sqlite3_value_bytes(argv[0])));
      return;
    }
  }
  rc = esStorageEventExists(p, aId, &bExists);
  resultInteger(ctx, "es_event_exists", rc, bExists);
}

void esUuidFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  u8 a[16];
  char z[ES_UUID_TEXT_LEN];
  (void)argc; (void)argv;
  esUuidGenerate(a);
  esUuidFormat(a, z);
  sqlite3_result_text(ctx, z, ES_UUID_TEXT_LEN, SQLITE_TRANSIENT);
}

/*
** es_info(): {"version":"1.0.0","schema_version":2,"sqlite_version":
** "3.40.1"}, and "commit" where the build knows its git commit.
*/
void esInfoFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  char *z;
  (void)argc; (void)argv;
#ifdef ES_COMMIT
  z = sqlite3_mprintf("{\"version\":\"%s\",\"schema_version\":%d,"
      "\"sqlite_version\":\"%s\",\"commit\":\"%s\"}", ES_VERSION,
      ES_SCHEMA_VERSION, sqlite3_libversion(), ES_COMMIT);
#else
  z = sqlite3_mprintf("{\"version\":\"%s\",\"schema_version\":%d,"
      "\"sqlite_version\":\"%s\"}", ES_VERSION, ES_SCHEMA_VERSION,
      sqlite3_libversion());
#endif
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  esResultJson(ctx, z, -1, sqlite3_free);
}

/*
** es_store_writing(): 1 while eventstore's own functions change the
** checkpoints and snapshots, the tables that change (schema.c): their
** triggers refuse every other change.  A caller only ever sees 0.
*/
void esStoreWritingFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  sqlite3_result_int(ctx, p->bOwnWrite);
}

/* es_init and es_clear: the work, as esScopeRunWrite runs it. */
static int initWork(EsConn *p, void *pArg, char **pzErr){
  (void)pArg;
  return esSchemaCreate(p, pzErr);
}
static int clearWork(EsConn *p, void *pArg, char **pzErr){
  (void)pArg;
  return esSchemaClear(p, pzErr);
}

void esInitFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  if( esScopeRunWrite(ctx, "es_init", ES_WRITE_ATOMIC, initWork, 0)==SQLITE_OK ){
    sqlite3_result_int(ctx, ES_SCHEMA_VERSION);
  }
}

/* True if main is an in-memory or temporary database. */
static int isScratchDatabase(sqlite3 *db){
  const char *zFile = sqlite3_db_filename(db, "main");
  return zFile==0 || zFile[0]==0;
}

void esClearFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  (void)argc; (void)argv;
  if( !isScratchDatabase(p->db) ){
    esResultError(ctx, SQLITE_ERROR, "es_clear: refused on a file database"
        " (%s): es_clear is a testing helper for in-memory and temporary"
        " databases only; nothing was changed",
        sqlite3_db_filename(p->db, "main"));
    return;
  }
  if( esScopeRunWrite(ctx, "es_clear", ES_WRITE_ATOMIC, clearWork, 0)==SQLITE_OK ){
    sqlite3_result_int(ctx, ES_SCHEMA_VERSION);
  }
}
