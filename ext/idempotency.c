/*
** idempotency.c -- event ids as the idempotency key of es_append (API.md):
** an event whose id is already stored, in any stream or earlier in the
** same batch, is skipped if it is the same event and refused if it is
** not; and a batch that was stored whole, right after the expected
** version, is recognised when it is sent again (a retry after a lost
** answer) and answered with the original result.
**
** "The same event" means the same event_type and data: data is stored in
** minimal form (json.c), so two spellings that differ only in whitespace
** are the same.  Every check here runs before the append's first write
** (THE RULE, scope.c).
*/
#include "es_internal.h"

/* Same event content: type and data (data is stored in minimal form). */
static int sameContent(const EsEvent *pEv, const char *zType, int nType,
                       const char *zData, int nData){
  return pEv->eventType.n==nType && memcmp(pEv->eventType.z, zType, nType)==0
      && pEv->data.n==nData && memcmp(pEv->data.z, zData, nData)==0;
}

static void formatUuid(const u8 *a, char *zOut){
  esUuidFormat(a, zOut);
  zOut[ES_UUID_TEXT_LEN] = 0;
}

/*
** Mark events whose id appeared earlier in the same batch, and check that
** such a repeat is the same event.  One pass over the batch with an
** open-addressing hash of the ids (the last bytes of a v4 UUID are
** random), so a batch of n events costs O(n).
*/
int esIdempotencyBatch(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  int i, j, nHash, rc = SQLITE_OK;
  int *aHash;
  if( pB->nEvent<2 ) return SQLITE_OK;
  pA->aDupOf = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)pB->nEvent);
  if( pA->aDupOf==0 ) return esAppendDbError(pA, SQLITE_NOMEM);
  for(nHash=16; nHash<pB->nEvent*2; nHash*=2){}
  aHash = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)nHash);
  if( aHash==0 ) return esAppendDbError(pA, SQLITE_NOMEM);
  for(i=0; i<nHash; i++) aHash[i] = -1;
  for(i=0; i<pB->nEvent && rc==SQLITE_OK; i++){
    const u8 *aId = pB->aEvent[i].eventId;
    unsigned h;
    memcpy(&h, aId+12, sizeof(h));   /* random bits of a v4 UUID */
    pA->aDupOf[i] = -1;
    for(j=(int)(h & (nHash-1)); aHash[j]>=0; j=(j+1)&(nHash-1)){
      const EsEvent *pPrev = &pB->aEvent[aHash[j]];
      if( memcmp(pPrev->eventId, aId, 16)==0 ){
        pA->aDupOf[i] = aHash[j];
        break;
      }
    }
    if( pA->aDupOf[i]<0 ){
      aHash[j] = i;
    }else{
      const EsEvent *pPrev = &pB->aEvent[pA->aDupOf[i]];
      if( !sameContent(&pB->aEvent[i], pPrev->eventType.z, pPrev->eventType.n,
                       pPrev->data.z, pPrev->data.n) ){
        char zId[ES_UUID_TEXT_LEN+1];
        formatUuid(aId, zId);
        rc = esAppendRefusal(pA, SQLITE_CONSTRAINT_UNIQUE, "es_append: event"
            " id %s appears twice in the batch with different content", zId);
      }
    }
  }
  sqlite3_free(aHash);
  return rc;
}

/*
** The version check failed.  Is this a retry of a batch that is already
** stored whole, right after the expected version?  Then *pbReplay is set
** and the original result is in pA.
*/
int esIdempotencyReplay(EsAppend *pA, int *pbReplay){
  EsBatch *pB = &pA->batch;
  sqlite3_stmt *pStmt;
  int i, rc;
  *pbReplay = 0;
  if( pA->iExpected<0 || pA->iStreamKey==0 ) return SQLITE_OK;
  /* (Written so that a huge expected version cannot overflow: found by
  ** fuzz_append.) */
  if( pA->iExpected > pA->iVersion - pB->nEvent ) return SQLITE_OK;
  rc = esConnStmt(pA->p, ES_STMT_EVENT_AT, &pStmt);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  for(i=0; i<pB->nEvent; i++){
    const EsEvent *pEv = &pB->aEvent[i];
    int bSame = 0;
    sqlite3_bind_int64(pStmt, 1, pA->iStreamKey);
    sqlite3_bind_int64(pStmt, 2, pA->iExpected + 1 + i);
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      const void *aId = sqlite3_column_blob(pStmt, 0);
      int nId = sqlite3_column_bytes(pStmt, 0);
      const char *zType = (const char*)sqlite3_column_text(pStmt, 1);
      int nType = sqlite3_column_bytes(pStmt, 1);
      const char *zData = (const char*)sqlite3_column_text(pStmt, 2);
      int nData = sqlite3_column_bytes(pStmt, 2);
      bSame = nId==16 && memcmp(aId, pEv->eventId, 16)==0 && zType && zData
           && sameContent(pEv, zType, nType, zData, nData);
      pA->iGlobalPosition = sqlite3_column_int64(pStmt, 3);
      rc = SQLITE_DONE;
    }
    sqlite3_reset(pStmt);
    if( rc!=SQLITE_DONE ) return esAppendDbError(pA, rc);
    if( !bSame ) return SQLITE_OK;
  }
  *pbReplay = 1;
  pA->iNewVersion = pA->iExpected + pB->nEvent;
  return SQLITE_OK;
}

/*
** An event id that is already stored: the same event is skipped (its
** global position noted), a different one is a refusal.  bMustExist: the
** insert found it stored (else this is the check before writing, and an
** id that is not stored is fine).
*/
int esIdempotencyStored(EsAppend *pA, const EsEvent *pEv, i64 *piStoredPos,
                        int bMustExist){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_EVENT_BY_ID, &pStmt);
  int bSame = 0;
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  sqlite3_bind_blob(pStmt, 1, pEv->eventId, 16, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    const char *zType = (const char*)sqlite3_column_text(pStmt, 3);
    int nType = sqlite3_column_bytes(pStmt, 3);
    const char *zData = (const char*)sqlite3_column_text(pStmt, 4);
    int nData = sqlite3_column_bytes(pStmt, 4);
    *piStoredPos = sqlite3_column_int64(pStmt, 0);
    bSame = zType && zData && sameContent(pEv, zType, nType, zData, nData);
    rc = SQLITE_DONE;
  }else if( rc==SQLITE_DONE ){
    /* Not stored.  After an insert that changed nothing, the conflict
    ** was not on event_id after all. */
    bSame = 1;
    if( bMustExist ) rc = SQLITE_CORRUPT;
  }
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  if( rc!=SQLITE_DONE ) return esAppendDbError(pA, rc);
  if( !bSame ){
    char zId[ES_UUID_TEXT_LEN+1];
    formatUuid(pEv->eventId, zId);
    return esAppendRefusal(pA, SQLITE_CONSTRAINT_UNIQUE, "es_append: event id"
        " %s is already stored with different content", zId);
  }
  return SQLITE_OK;
}
