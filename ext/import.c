/*
** import.c -- es_import(): events stored at the positions and the time
** another store gave them.  It is how a store is copied (tool/es_copy.c):
** every event keeps its global position, stream position and stored_at,
** which es_append chooses itself.
**
**   es_import(aggregate_id, aggregate_type, stream_version, global_position,
**             stored_at, events)
**
** events is es_append's: one event object or a JSON array of them, each
** with its event_id.  The events go to the stream right after
** stream_version (its version before them), at global positions
** global_position, global_position+1, ..., all with stored_at; the rest
** of the append is es_append's own (its checks, its write scope, its
** result).
**
** Refused before anything is written, each with an error that says which:
** the stream at another version than stream_version, or the store's
** newest global position other than global_position-1 (both
** SQLITE_CONSTRAINT_FUNCTION: the copy is out of step with its target);
** stored_at before the newest event's (stored_at never decreases along
** global_position); an event without an event_id, an event_id that is
** stored already, or one that appears twice (a copy never skips an event,
** as es_append skips a duplicate: it would leave a gap).
*/
#include "es_internal.h"

/* Refuse the batch if an event's id is stored already (THE RULE, scope.c:
** before the first write). */
static int checkNotStored(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  int i, rc;
  for(i=0; i<pB->nEvent; i++){
    i64 iPos = 0;
    rc = esIdempotencyStored(pA, &pB->aEvent[i], &iPos, 0);
    if( rc ) return rc;
    if( iPos>0 ){
      char zId[ES_UUID_TEXT_LEN+1];
      esUuidFormat(pB->aEvent[i].eventId, zId);
      zId[ES_UUID_TEXT_LEN] = 0;
      return esAppendRefusal(pA, SQLITE_CONSTRAINT_UNIQUE, "es_import: event"
          " id %s is already stored, at global position %lld", zId, iPos);
    }
  }
  return SQLITE_OK;
}

static int checkNoRepeats(EsAppend*);

/*
** The checks of es_import, in the write scope, after the stream lookup
** (append.c, appendInScope), in place of es_append's version check.
*/
int esImportCheck(EsAppend *pA){
  const EsImport *pI = pA->pImport;
  i64 iHead = 0;
  int rc;
  assert( pI!=0 );
  if( pA->iVersion!=pA->iExpected ){
    return esAppendRefusal(pA, SQLITE_CONSTRAINT_FUNCTION, "es_import: stream"
        " '%.*s:%.*s' is at version %lld, not %lld", pA->aggId.n, pA->aggId.z,
        pA->aggType.n, pA->aggType.z, pA->iVersion, pA->iExpected);
  }
  rc = checkNoRepeats(pA);
  if( rc ) return rc;
  rc = esStorageGlobalPosition(pA->p, &iHead);
  if( rc ) return esAppendDbError(pA, rc);
  if( iHead!=pI->iGlobalPosition-1 ){
    return esAppendRefusal(pA, SQLITE_CONSTRAINT_FUNCTION, "es_import: the"
        " store's newest global position is %lld, so the next event is at"
        " %lld, not %lld", iHead, iHead+1, pI->iGlobalPosition);
  }
  if( pI->iStoredAt<pA->iLastStoredAt ){
    char zGiven[28], zLast[28];
    esTimestampFormat(pI->iStoredAt, zGiven);
    esTimestampFormat(pA->iLastStoredAt, zLast);
    zGiven[27] = zLast[27] = 0;
    return esAppendRefusal(pA, SQLITE_ERROR, "es_import: stored_at %s is"
        " before the newest event's, %s (stored_at never decreases along"
        " global_position)", zGiven, zLast);
  }
  return checkNotStored(pA);
}

/* No event of the batch repeats another's id (esIdempotencyBatch marked
** the repeats): es_append would skip it, a copy must not. */
static int checkNoRepeats(EsAppend *pA){
  int i;
  for(i=0; pA->aDupOf && i<pA->batch.nEvent; i++){
    if( pA->aDupOf[i]>=0 ){
      return esAppendRefusal(pA, SQLITE_CONSTRAINT_UNIQUE, "es_import: event"
          " %d repeats event %d's id (an import never skips an event)", i+1,
          pA->aDupOf[i]+1);
    }
  }
  return SQLITE_OK;
}

/* Every event names its id, and none twice (esIdempotencyBatch found the
** repeats). */
static int checkIds(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  int i;
  for(i=0; i<pB->nEvent; i++){
    if( !pB->aEvent[i].hasEventId ){
      return esAppendError(pA, SQLITE_ERROR, "es_import: event %d has no"
          " event_id (an import keeps every event's own)", i+1);
    }
  }
  return SQLITE_OK;
}

void esImportFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsAppend a;
  EsImport im;
  int eTime;
  (void)argc;
  memset(&a, 0, sizeof(a));
  memset(&im, 0, sizeof(im));
  a.p = (EsConn*)sqlite3_user_data(ctx);
  a.pImport = &im;
  if( esArgsStreamParts(ctx, argv[0], argv[1], "es_import", &a.aggId,
                        &a.aggType)
   || esArgsInteger(ctx, argv[2], "es_import", "stream_version", 0,
                    &a.iExpected)
   || esArgsInteger(ctx, argv[3], "es_import", "global_position", 1,
                    &im.iGlobalPosition) ){
    return;
  }
  eTime = esTimestampFromValue(argv[4], &im.iStoredAt);
  if( eTime ){
    esResultError(ctx, SQLITE_ERROR, eTime==2 ? "es_import: stored_at is NULL"
                  : "es_import: stored_at is not a timestamp");
    return;
  }
  if( sqlite3_value_type(argv[5])!=SQLITE_TEXT ){
    esResultError(ctx, SQLITE_ERROR, "es_import: events must be JSON text");
    return;
  }
  if( esBatchParseJson(&a.batch, (const char*)sqlite3_value_text(argv[5]),
                       sqlite3_value_bytes(argv[5])) ){
    if( a.batch.rcErr==SQLITE_NOMEM || a.batch.zErr==0 ){
      esAppendDbError(&a, SQLITE_NOMEM);
    }else{
      esAppendError(&a, SQLITE_ERROR, "es_import: %s", a.batch.zErr);
    }
  }else{
    checkIds(&a);
  }
  esAppendRun(ctx, &a);
}
