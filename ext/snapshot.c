/*
** snapshot.c -- aggregate snapshots (API.md, Snapshots):
**
**   es_snapshot_save(aggregate_id, aggregate_type, version, state
**                    [, schema_version])
**   es_snapshot(aggregate_id, aggregate_type [, schema_version])
**   es_snapshot_delete(aggregate_id, aggregate_type)
**
** A snapshot is a cache beside the events, not an event: the state of a
** stream's aggregate after its first `version` events, so that loading it
** reads only the events after that.  One per stream and schema_version
** (the shape of the state: a reader asks for the shape it understands, and
** a snapshot of another shape is never misread as its own).  Rows of
** es_snapshots (schema.c), keyed by the stream's key; only the functions
** here and es_clear change them (the table's triggers, es_store_writing()).
*/
#include "es_internal.h"

/* The stream of (aggregate_id, aggregate_type): key 0 if none. */
static int findStream(EsConn *p, const EsText *pId, const EsText *pType,
                      i64 *piKey, i64 *piVersion){
  return esStorageStreamLookup(p, pId->z, pId->n, pType->z, pType->n, piKey,
                               piVersion);
}

/* The version of the stream's snapshot of schema version iSchema, or 0. */
static int snapshotVersion(EsConn *p, i64 iKey, i64 iSchema, i64 *piVersion){
  sqlite3_stmt *pStmt;
  int bRow, rc = esStorageReader(p, ES_STMT_SNAPSHOT_GET, &pStmt);
  *piVersion = 0;
  if( rc!=SQLITE_OK || pStmt==0 ) return rc;
  sqlite3_bind_int64(pStmt, 1, iKey);
  sqlite3_bind_int64(pStmt, 2, iSchema);
  rc = esConnReadRow(pStmt, piVersion, 1, &bRow);
  return rc==SQLITE_OK ? rc : esStorageReadFailed(p, rc);
}

/* The arguments of one es_snapshot_save call, and its result. */
typedef struct SnapshotSave SnapshotSave;
struct SnapshotSave {
  EsText id, type;
  i64 iVersion;
  EsText state;           /* a JSON object, minimal form */
  i64 iSchema;
  i64 iKept;              /* the version stored after the call */
};

static int snapshotSaveWork(EsConn *p, void *pArg, char **pzErr){
  SnapshotSave *pS = (SnapshotSave*)pArg;
  sqlite3_stmt *pStmt;
  i64 iKey, iStream, iHave;
  int rc = findStream(p, &pS->id, &pS->type, &iKey, &iStream);
  if( rc!=SQLITE_OK ) return rc;
  if( iKey==0 ){
    *pzErr = sqlite3_mprintf("stream '%.*s:%.*s' does not exist", pS->id.n,
        pS->id.z, pS->type.n, pS->type.z);
    return SQLITE_ERROR;
  }
  if( pS->iVersion>iStream ){
    *pzErr = sqlite3_mprintf("version %lld is beyond stream '%.*s:%.*s',"
        " which is at version %lld", pS->iVersion, pS->id.n, pS->id.z,
        pS->type.n, pS->type.z, iStream);
    return SQLITE_ERROR;
  }
  rc = snapshotVersion(p, iKey, pS->iSchema, &iHave);
  if( rc!=SQLITE_OK ) return rc;
  if( iHave>pS->iVersion ){
    pS->iKept = iHave;            /* a newer snapshot stays */
    return SQLITE_OK;
  }
  rc = esConnStmt(p, ES_STMT_SNAPSHOT_PUT, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_int64(pStmt, 1, iKey);
  sqlite3_bind_int64(pStmt, 2, pS->iSchema);
  sqlite3_bind_int64(pStmt, 3, pS->iVersion);
  sqlite3_bind_text(pStmt, 4, pS->state.z, pS->state.n, SQLITE_STATIC);
  sqlite3_bind_int64(pStmt, 5, esTimestampNow());
  p->bOwnWrite = 1;
  rc = esConnRun(p, ES_STMT_SNAPSHOT_PUT);
  p->bOwnWrite = 0;
  sqlite3_clear_bindings(pStmt);
  pS->iKept = pS->iVersion;
  return rc;
}

/* The optional schema_version argument (default 1). */
static int schemaVersionArg(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv, int i, const char *zFunc,
                            i64 *piSchema){
  *piSchema = 1;
  if( argc<=i ) return 0;
  return esArgsInteger(ctx, argv[i], zFunc, "schema_version", 1, piSchema);
}

void esSnapshotSaveFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  static const char zFunc[] = "es_snapshot_save";
  SnapshotSave s;
  EsArena arena;
  const char *zJsonErr = 0;
  memset(&s, 0, sizeof(s));
  if( esArgsStreamParts(ctx, argv[0], argv[1], zFunc, &s.id, &s.type)
   || esArgsInteger(ctx, argv[2], zFunc, "version", 1, &s.iVersion)
   || schemaVersionArg(ctx, argc, argv, 4, zFunc, &s.iSchema) ){
    return;
  }
  if( sqlite3_value_type(argv[3])!=SQLITE_TEXT ){
    esResultError(ctx, SQLITE_ERROR, "%s: state must be a JSON object%s",
        zFunc, sqlite3_value_type(argv[3])==SQLITE_NULL ? ", not NULL" : "");
    return;
  }
  s.state.z = (const char*)sqlite3_value_text(argv[3]);
  s.state.n = sqlite3_value_bytes(argv[3]);
  if( s.state.z==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  esArenaInit(&arena, (i64)s.state.n + 1);
  switch( esJsonIsObject(s.state.z, s.state.n, &arena, &s.state, &zJsonErr) ){
    case 1:
      esResultError(ctx, SQLITE_ERROR, "%s: state must be a JSON object",
                    zFunc);
      break;
    case 2:
      if( zJsonErr==esJsonOutOfMemory ){
        sqlite3_result_error_nomem(ctx);
      }else{
        esResultError(ctx, SQLITE_ERROR, "%s: state is not valid JSON (%s)",
                      zFunc, zJsonErr ? zJsonErr : "syntax error");
      }
      break;
    default:
      if( esScopeRunWrite(ctx, zFunc, ES_WRITE_STORE, snapshotSaveWork,
                          &s)==SQLITE_OK ){
        sqlite3_result_int64(ctx, s.iKept);
      }
  }
  esArenaFree(&arena);
}

/* es_snapshot(): {"version":..,"schema_version":..,"state":{..},
** "stored_at":".."}, or NULL. */
void esSnapshotFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  static const char zFunc[] = "es_snapshot";
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  EsText id, type;
  sqlite3_stmt *pStmt = 0;
  i64 iKey = 0, iStream, iSchema;
  int rc;
  if( esArgsStreamParts(ctx, argv[0], argv[1], zFunc, &id, &type)
   || schemaVersionArg(ctx, argc, argv, 2, zFunc, &iSchema) ){
    return;
  }
  rc = findStream(p, &id, &type, &iKey, &iStream);
  if( rc==SQLITE_OK && iKey>0 ){
    rc = esStorageReader(p, ES_STMT_SNAPSHOT_GET, &pStmt);
  }
  if( rc==SQLITE_OK && pStmt ){
    sqlite3_bind_int64(pStmt, 1, iKey);
    sqlite3_bind_int64(pStmt, 2, iSchema);
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      char zTs[ES_TIMESTAMP_TEXT_LEN+1];
      char *z;
      esTimestampFormat(sqlite3_column_int64(pStmt, 2), zTs);
      zTs[ES_TIMESTAMP_TEXT_LEN] = 0;
      z = sqlite3_mprintf("{\"version\":%lld,\"schema_version\":%lld,"
          "\"state\":%s,\"stored_at\":\"%s\"}", sqlite3_column_int64(pStmt, 0),
          iSchema, (const char*)sqlite3_column_text(pStmt, 1), zTs);
      sqlite3_reset(pStmt);
      if( z==0 ){
        sqlite3_result_error_nomem(ctx);
      }else{
        esResultJson(ctx, z, -1, sqlite3_free);
      }
      return;
    }
    rc = sqlite3_reset(pStmt);
    if( rc!=SQLITE_OK ) rc = esStorageReadFailed(p, rc);
  }
  if( rc!=SQLITE_OK ){
    esResultDbError(ctx, zFunc, rc);
  }else{
    sqlite3_result_null(ctx);
  }
}

/* The arguments of one es_snapshot_delete call, and its result. */
typedef struct SnapshotDelete SnapshotDelete;
struct SnapshotDelete {
  EsText id, type;
  i64 nDeleted;
};

static int snapshotDeleteWork(EsConn *p, void *pArg, char **pzErr){
  SnapshotDelete *pD = (SnapshotDelete*)pArg;
  sqlite3_stmt *pStmt;
  i64 iKey, iStream;
  int rc = findStream(p, &pD->id, &pD->type, &iKey, &iStream);
  (void)pzErr;
  if( rc!=SQLITE_OK || iKey==0 ) return rc;
  rc = esConnStmt(p, ES_STMT_SNAPSHOT_DELETE, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_int64(pStmt, 1, iKey);
  p->bOwnWrite = 1;
  rc = sqlite3_step(pStmt);
  p->bOwnWrite = 0;
  if( rc==SQLITE_DONE ) pD->nDeleted = sqlite3_changes64(p->db);
  rc = sqlite3_reset(pStmt);
  return rc;
}

void esSnapshotDeleteFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  static const char zFunc[] = "es_snapshot_delete";
  SnapshotDelete d;
  (void)argc;
  memset(&d, 0, sizeof(d));
  if( esArgsStreamParts(ctx, argv[0], argv[1], zFunc, &d.id, &d.type) ){
    return;
  }
  if( esScopeRunWrite(ctx, zFunc, ES_WRITE_STORE, snapshotDeleteWork,
                      &d)==SQLITE_OK ){
    sqlite3_result_int64(ctx, d.nDeleted);
  }
}
