/*
** conn.c -- the per-connection state of the extension.
**
** One EsConn is made for each connection the extension is loaded into.
** It holds the internal statements, prepared once and reused for every
** call (preparing costs more than most appends), and the virtual tables'
** statement cache.
**
** Closing.  sqlite3_close() refuses to close a connection that still has
** prepared statements, and it destroys function user data only after that
** check, so a cache owned by a function would keep the connection open
** forever.  The one callback SQLite makes before that check is xDisconnect
** of the virtual tables, eponymous ones included.  So before the first
** statement is cached, esConnPin() makes sure an eponymous instance of
** event_all exists (preparing a statement that names it creates one that
** lives until the connection closes); its xDisconnect finalizes the cache.
**
** The EsConn itself is reference counted: every function and module
** registration holds one reference and releases it in its destructor.
*/
#include "es_internal.h"

EsConn *esConnNew(sqlite3 *db){
  EsConn *p = sqlite3_malloc(sizeof(EsConn));
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->nRef = 1;
  p->iCheckedReprepare = -1;
  return p;
}

void esConnRef(EsConn *p){
  assert( p->nRef>0 );
  p->nRef++;
}

void esConnUnref(void *pArg){
  EsConn *p = (EsConn*)pArg;
  if( p==0 ) return;
  assert( p->nRef>0 );
  if( --p->nRef>0 ) return;
  esConnFinalizeAll(p);
  esNamesClear(p);
  sqlite3_free(p->zReadErr);
#ifdef ES_TESTING
  sqlite3_free(p->zLastQuery);
#endif
  sqlite3_free(p);
}

static void queryFree(EsQuery *pQ){
  sqlite3_finalize(pQ->pStmt);
  sqlite3_free(pQ->zKey);
  sqlite3_free(pQ->zSql);
  sqlite3_free(pQ);
}

/* Finalize the cached internal statements (not the virtual tables'), and
** forget the names of keys (names.c): this happens when the store's schema
** changed, which may have given the keys to other names. */
static void finalizeStatements(EsConn *p){
  int i;
  for(i=0; i<ES_STMT_COUNT; i++){
    sqlite3_finalize(p->aStmt[i]);
    p->aStmt[i] = 0;
  }
  p->iCheckedReprepare = -1;
  esNamesClear(p);
}

/* Finalize every cached statement.  Safe to call more than once. */
void esConnFinalizeAll(EsConn *p){
  EsQuery *pQ, *pNext;
  finalizeStatements(p);
  for(pQ=p->pQuery; pQ; pQ=pNext){
    pNext = pQ->pNext;
    if( pQ->inUse ){
      /* Still owned by an open cursor: the cursor frees it on close. */
      pQ->pNext = 0;
      pQ->inUse = 2;
      continue;
    }
    queryFree(pQ);
  }
  p->pQuery = 0;
  p->nQuery = 0;
  p->bPinned = 0;
}

/*
** Make sure an eponymous event_all instance exists, so that its
** xDisconnect will finalize the cache before sqlite3_close() checks for
** open statements.  Preparing (not running) a statement that names the
** table is enough.
*/
int esConnPin(EsConn *p){
  sqlite3_stmt *pStmt = 0;
  int rc;
  if( p->bPinned ) return SQLITE_OK;
  rc = sqlite3_prepare_v2(p->db, "SELECT 1 FROM main.event_all", -1, &pStmt, 0);
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK ) p->bPinned = 1;
  return rc;
}

/* The cached statement eStmt, prepared on first use. */
int esConnStmt(EsConn *p, int eStmt, sqlite3_stmt **pp){
  int rc;
  assert( eStmt>=0 && eStmt<ES_STMT_COUNT );
  if( p->aStmt[eStmt] ){
    *pp = p->aStmt[eStmt];
    return SQLITE_OK;
  }
  rc = esConnPin(p);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_prepare_v3(p->db, esStorageSql[eStmt], -1,
                          SQLITE_PREPARE_PERSISTENT, &p->aStmt[eStmt], 0);
  *pp = p->aStmt[eStmt];
  return rc;
}

/* Run a cached statement that returns no rows (BEGIN, COMMIT, ...). */
int esConnRun(EsConn *p, int eStmt){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(p, eStmt, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
  return rc==SQLITE_DONE || rc==SQLITE_ROW ? SQLITE_OK : rc;
}

/*
** Step a statement (bound by the caller) that returns at most one row and
** read its first n columns as integers into a[]; a NULL column leaves its
** a[i] as it was (the caller's default).  *pbRow says whether there was a
** row.  The statement is reset and its bindings cleared.
*/
int esConnReadRow(sqlite3_stmt *pStmt, i64 *a, int n, int *pbRow){
  int rc, i;
  *pbRow = 0;
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    *pbRow = 1;
    for(i=0; i<n; i++){
      if( sqlite3_column_type(pStmt, i)!=SQLITE_NULL ){
        a[i] = sqlite3_column_int64(pStmt, i);
      }
    }
    rc = SQLITE_OK;
  }else if( rc==SQLITE_DONE ){
    rc = SQLITE_OK;
  }
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  return rc;
}

/*
** Finalize the cached internal statements (not the virtual tables'
** queries) after this connection changed the store's schema.  SQLite
** would re-prepare them on their next run, which may be inside a write
** scope; prepared afresh, they are ready before the next scope opens (see
** esScopeBegin in scope.c).  (SQLite's deprecated expired-statement test
** could say which are stale, but it is missing from builds without
** deprecated interfaces, such as Node's better-sqlite3.)
*/
void esConnForgetStatements(EsConn *p){
  finalizeStatements(p);
  p->bSchemaChanged = 0;
}

/* How many idle virtual-table statements to keep. */
#define ES_QUERY_CACHE_MAX 32

/*
** A statement for a virtual-table cursor, cached by its plan (iKey1,
** iKey2, zKey): an idle cached one if there is one; else xBuild writes the
** SQL (only then: building it costs more than finding it) and a new
** statement joins the cache.  It is marked in use until
** esConnQueryRelease().
*/
int esConnQuery(EsConn *p, int iKey1, int iKey2, const char *zKey,
                int (*xBuild)(void*, char**), void *pBuildArg, EsQuery **pp){
  EsQuery *pQ;
  int rc;
  *pp = 0;
  for(pQ=p->pQuery; pQ; pQ=pQ->pNext){
    if( !pQ->inUse && pQ->iKey1==iKey1 && pQ->iKey2==iKey2
     && strcmp(pQ->zKey, zKey)==0 ){
      pQ->inUse = 1;
      *pp = pQ;
      return SQLITE_OK;
    }
  }
  rc = esConnPin(p);
  if( rc!=SQLITE_OK ) return rc;
  pQ = sqlite3_malloc(sizeof(EsQuery));
  if( pQ==0 ) return SQLITE_NOMEM;
  memset(pQ, 0, sizeof(*pQ));
  pQ->iKey1 = iKey1;
  pQ->iKey2 = iKey2;
  pQ->zKey = sqlite3_mprintf("%s", zKey);
  rc = pQ->zKey ? xBuild(pBuildArg, &pQ->zSql) : SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v3(p->db, pQ->zSql, -1, SQLITE_PREPARE_PERSISTENT,
                            &pQ->pStmt, 0);
  }
  if( rc!=SQLITE_OK ){
    queryFree(pQ);
    return rc;
  }
  pQ->inUse = 1;
  /* Evict idle entries beyond the cache size (the list is newest first). */
  pQ->pNext = p->pQuery;
  p->pQuery = pQ;
  p->nQuery++;
  if( p->nQuery>ES_QUERY_CACHE_MAX ){
    EsQuery **pp2 = &p->pQuery;
    int n = 0;
    while( *pp2 ){
      EsQuery *pCur = *pp2;
      if( ++n>ES_QUERY_CACHE_MAX && !pCur->inUse ){
        *pp2 = pCur->pNext;
        queryFree(pCur);
        p->nQuery--;
      }else{
        pp2 = &pCur->pNext;
      }
    }
  }
  *pp = pQ;
  return SQLITE_OK;
}

/* A cursor is done with its statement: reset it and return it. */
void esConnQueryRelease(EsConn *p, EsQuery *pQ){
  (void)p;
  if( pQ==0 ) return;
  sqlite3_reset(pQ->pStmt);
  sqlite3_clear_bindings(pQ->pStmt);
  if( pQ->inUse==2 ){
    /* The cache was flushed while the cursor was open. */
    queryFree(pQ);
    return;
  }
  pQ->inUse = 0;
}
