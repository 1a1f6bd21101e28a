/*
** checkpoint.c -- consumers' checkpoints (API.md, Consumers):
**
**   es_checkpoint(name)                                   reads
**   es_checkpoint_set(name, position [, expected_position]) writes
**
** A consumer reads event_all after its checkpoint, handles the events and
** moves its checkpoint.  When the handling writes to the same database,
** doing both in one transaction handles every event exactly once: a crash
** keeps both or neither.  The compare-and-set form makes two instances of
** one consumer exclusive: of two that read the same checkpoint, the second
** to set it fails (SQLITE_CONSTRAINT_FUNCTION) and its transaction, read
** model update included, is rolled back by its caller.
**
** The checkpoints are the rows of es_consumers (schema.c); the listing is
** the es_checkpoints table (vtab/checkpoints.c).  Only es_checkpoint_set
** and es_clear change the rows: the table's triggers let a change through
** only while es_store_writing() is true, around the one statement below.
*/
#include "es_internal.h"

/* A consumer's checkpoint; 0 (and *pbFound 0) when it has none. */
static int readCheckpoint(EsConn *p, const EsText *pName, i64 *piPos,
                          int *pbFound){
  sqlite3_stmt *pStmt;
  int rc = esStorageReader(p, ES_STMT_CHECKPOINT_GET, &pStmt);
  *piPos = 0;
  *pbFound = 0;
  if( rc!=SQLITE_OK || pStmt==0 ) return rc;
  sqlite3_bind_text(pStmt, 1, pName->z, pName->n, SQLITE_STATIC);
  rc = esConnReadRow(pStmt, piPos, 1, pbFound);
  return rc==SQLITE_OK ? rc : esStorageReadFailed(p, rc);
}

void esCheckpointFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  EsText name;
  i64 iPos;
  int bFound, rc;
  (void)argc;
  if( esArgsName(ctx, argv[0], "es_checkpoint", "name", ES_MAX_CONSUMER_NAME,
                 &name) ){
    return;
  }
  rc = readCheckpoint(p, &name, &iPos, &bFound);
  if( rc!=SQLITE_OK ){
    esResultDbError(ctx, "es_checkpoint", rc);
  }else{
    sqlite3_result_int64(ctx, iPos);
  }
}

/* The arguments of one es_checkpoint_set call. */
typedef struct CheckpointSet CheckpointSet;
struct CheckpointSet {
  EsText name;
  i64 iPos;
  i64 iExpected;
  int bExpected;          /* iExpected was given: compare-and-set */
};

/* The write, inside the scope (esScopeRunWrite): every refusal before it. */
static int checkpointSetWork(EsConn *p, void *pArg, char **pzErr){
  CheckpointSet *pSet = (CheckpointSet*)pArg;
  sqlite3_stmt *pStmt;
  i64 iNow, iHead;
  int rc, bFound;
  rc = readCheckpoint(p, &pSet->name, &iNow, &bFound);
  if( rc==SQLITE_OK ) rc = esStorageGlobalPosition(p, &iHead);
  if( rc!=SQLITE_OK ) return rc;
  if( pSet->iPos>iHead ){
    *pzErr = sqlite3_mprintf("position %lld is beyond the newest event"
        " (es_global_position() is %lld)", pSet->iPos, iHead);
    return SQLITE_ERROR;
  }
  if( pSet->bExpected && iNow!=pSet->iExpected ){
    *pzErr = sqlite3_mprintf("checkpoint '%.*s' is at %lld, not %lld",
        pSet->name.n, pSet->name.z, iNow, pSet->iExpected);
    return SQLITE_CONSTRAINT_FUNCTION;
  }
  if( !pSet->bExpected && pSet->iPos<iNow ){
    *pzErr = sqlite3_mprintf("checkpoint '%.*s' is at %lld: without"
        " expected_position it only moves forward (to move it back to %lld,"
        " give expected_position %lld)", pSet->name.n, pSet->name.z, iNow,
        pSet->iPos, iNow);
    return SQLITE_ERROR;
  }
  rc = esConnStmt(p, ES_STMT_CHECKPOINT_PUT, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pStmt, 1, pSet->name.z, pSet->name.n, SQLITE_STATIC);
  sqlite3_bind_int64(pStmt, 2, pSet->iPos);
  sqlite3_bind_int64(pStmt, 3, esTimestampNow());
  p->bOwnWrite = 1;
  rc = esConnRun(p, ES_STMT_CHECKPOINT_PUT);
  p->bOwnWrite = 0;
  sqlite3_clear_bindings(pStmt);
  return rc;
}

void esCheckpointSetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  static const char zFunc[] = "es_checkpoint_set";
  CheckpointSet set;
  memset(&set, 0, sizeof(set));
  if( esArgsName(ctx, argv[0], zFunc, "name", ES_MAX_CONSUMER_NAME,
                 &set.name)
   || esArgsInteger(ctx, argv[1], zFunc, "position", 0, &set.iPos) ){
    return;
  }
  if( argc>2 ){
    if( esArgsInteger(ctx, argv[2], zFunc, "expected_position", 0,
                      &set.iExpected) ){
      return;
    }
    set.bExpected = 1;
  }
  if( esScopeRunWrite(ctx, zFunc, ES_WRITE_STORE, checkpointSetWork,
                      &set)==SQLITE_OK ){
    sqlite3_result_int64(ctx, set.iPos);
  }
}
