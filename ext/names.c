/*
** names.c -- the names behind the small integer keys of storage format 2:
** a stream key's aggregate id and type (es_streams), a kind's aggregate
** type and event type (es_kinds), for the virtual tables' rows.
**
** Looking them up for every row would cost two b-tree searches a row; a
** join in the inner query costs the same.  So each connection keeps a
** bounded, direct-mapped cache of each: a key's slot is key modulo the
** cache's size, and a new name takes the slot over.  Memory is bounded
** (ES_NAMES_STREAMS and ES_NAMES_KINDS slots, made on first use, each
** name at most a few hundred bytes), and a miss costs one lookup.  The
** stream cache is large enough for a scan that cycles through many
** streams to hit (a smaller one missed on every row of such a scan).
**
** THE RULE that keeps the cache right: a key names one stream (one kind)
** for ever once it is committed, but the key of a stream created by a
** transaction that rolls back is given again to the next new stream.  So
** the cache learns a name only where everything the connection can see is
** committed: in autocommit mode, with no writing statement running.
** Inside a transaction a miss is looked up and held only for the cursor
** that needed it.  The cache is
** emptied when the store's schema changes (es_clear drops and recreates
** the tables; a store dropped and made again reuses keys).
*/
#include "es_internal.h"

/* Forget every name (the store's schema changed), and the slots. */
void esNamesClear(EsConn *p){
  int i;
  if( p->aStreamName ){
    for(i=0; i<ES_NAMES_STREAMS; i++) sqlite3_free(p->aStreamName[i].z);
  }
  if( p->aKindName ){
    for(i=0; i<ES_NAMES_KINDS; i++) sqlite3_free(p->aKindName[i].z);
  }
  sqlite3_free(p->aStreamName);
  sqlite3_free(p->aKindName);
  p->aStreamName = 0;
  p->aKindName = 0;
  esNamesScratchClear(p);
}

/* The slots of a cache, made on first use (a connection that never reads
** the tables has none); 0 if out of memory: then nothing is kept. */
static EsName *slots(EsName **paSlot, int nSlot){
  if( *paSlot==0 ){
    *paSlot = sqlite3_malloc64(sizeof(EsName)*(sqlite3_uint64)nSlot);
    if( *paSlot ) memset(*paSlot, 0, sizeof(EsName)*(size_t)nSlot);
  }
  return *paSlot;
}

/* May a name read now be kept (THE RULE)? */
static int canKeep(EsConn *p){
  return sqlite3_get_autocommit(p->db) && !esScopeWritingStatementRunning(p->db);
}

/* Point pA and pB at the names held in pName. */
static void namesOf(const EsName *pName, EsText *pA, EsText *pB){
  pA->z = pName->z;
  pA->n = pName->nA;
  pB->z = pName->z + pName->nA + 1;
  pB->n = pName->nB;
}

/* Keep names a[0..nA) and b[0..nB) of iKey in pName, NUL-separated. */
static int keepNames(EsName *pName, i64 iKey, const char *a, int nA,
                     const char *b, int nB){
  char *z = sqlite3_malloc(nA + nB + 2);
  if( z==0 ) return SQLITE_NOMEM;
  memcpy(z, a, nA);
  z[nA] = 0;
  memcpy(z + nA + 1, b, nB);
  z[nA + 1 + nB] = 0;
  sqlite3_free(pName->z);
  pName->z = z;
  pName->iKey = iKey;
  pName->nA = nA;
  pName->nB = nB;
  return SQLITE_OK;
}

/*
** The two names of key iKey, by statement eStmt (which returns them as
** columns 0 and 1): from its slot of the cache *paCache of nSlot slots
** (made on first use), else looked up and kept there if THE RULE allows,
** else kept in pScratch, the one name a cursor may
** hold outside the cache until the next xFilter (esNamesScratchClear).
** *pbFound is 0 if there is no such key (a damaged store).
*/
static int lookupNames(EsConn *p, EsName **paCache, int nSlot,
                       EsName *pScratch, int eStmt, i64 iKey, EsText *pA,
                       EsText *pB, int *pbFound){
  EsName *a = slots(paCache, nSlot);
  EsName *pSlot = a ? &a[(sqlite3_uint64)iKey % nSlot] : 0;
  sqlite3_stmt *pStmt;
  EsName *pKeep;
  int rc;
  *pbFound = 1;
  if( pSlot && pSlot->z && pSlot->iKey==iKey ){
    namesOf(pSlot, pA, pB);
    return SQLITE_OK;
  }
  if( pScratch->z && pScratch->iKey==iKey ){
    namesOf(pScratch, pA, pB);
    return SQLITE_OK;
  }
  rc = esConnStmt(p, eStmt, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_int64(pStmt, 1, iKey);
  rc = sqlite3_step(pStmt);
  pKeep = pSlot && canKeep(p) ? pSlot : pScratch;
  if( rc==SQLITE_ROW ){
    const char *a = (const char*)sqlite3_column_text(pStmt, 0);
    const char *b = (const char*)sqlite3_column_text(pStmt, 1);
    rc = (a && b) ? keepNames(pKeep, iKey, a, sqlite3_column_bytes(pStmt, 0),
                              b, sqlite3_column_bytes(pStmt, 1))
                  : SQLITE_NOMEM;
  }else{
    *pbFound = 0;
  }
  if( sqlite3_reset(pStmt)!=SQLITE_OK && rc==SQLITE_DONE ) rc = SQLITE_ERROR;
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( rc==SQLITE_OK && *pbFound ) namesOf(pKeep, pA, pB);
  return rc;
}

/* A new cursor: the names it may hold outside the cache are forgotten. */
void esNamesScratchClear(EsConn *p){
  int i;
  for(i=0; i<2; i++){
    sqlite3_free(p->aScratchName[i].z);
    p->aScratchName[i].z = 0;
  }
}

/* The aggregate id and type of stream iKey. */
int esNamesStream(EsConn *p, i64 iKey, EsText *pId, EsText *pType,
                  int *pbFound){
  return lookupNames(p, &p->aStreamName, ES_NAMES_STREAMS, &p->aScratchName[0],
                     ES_STMT_STREAM_NAMES, iKey, pId, pType, pbFound);
}

/* The aggregate type and event type of kind iKind. */
int esNamesKind(EsConn *p, i64 iKind, EsText *pAggType, EsText *pEventType,
                int *pbFound){
  return lookupNames(p, &p->aKindName, ES_NAMES_KINDS, &p->aScratchName[1],
                     ES_STMT_KIND_NAMES, iKind, pAggType, pEventType, pbFound);
}
