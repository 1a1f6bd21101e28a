/*
** checkpoints.c -- the table es_checkpoints: every consumer's checkpoint
** and how far it is behind (API.md, Consumers).
**
**   SELECT * FROM es_checkpoints;
**   name | position | updated_at | lag
**
** lag is the newest global position minus the checkpoint's: the events the
** consumer has still to handle.  Eponymous and read-only like event_all;
** on a database without the store it is empty.  A store has few
** consumers, so the cursor runs one small query over es_consumers
** (schema.c) and xBestIndex only tells SQLite that rows come in name
** order.
*/
#include "../ext/es_internal.h"

typedef struct CkCursor CkCursor;
struct CkCursor {
  sqlite3_vtab_cursor base;
  EsConn *p;
  sqlite3_stmt *pStmt;    /* the running query, or 0 when at the end */
  i64 iRow;
};


enum { CK_NAME, CK_POSITION, CK_UPDATED_AT, CK_LAG };

static const char zListSql[] =
  "SELECT c.name, c.position, c.updated_at, h.head - c.position"
  " FROM main.es_consumers c,"
  " (SELECT coalesce(max(global_position),0) AS head FROM main.es_events) h"
  " ORDER BY c.name";

static int ckConnect(sqlite3 *db, void *pAux, int argc,
                     const char *const *argv, sqlite3_vtab **ppVtab,
                     char **pzErr){
  (void)argc; (void)argv;
  return esVtabConnect(db, (EsConn*)pAux, "CREATE TABLE x(name TEXT,"
      " position INTEGER, updated_at TEXT COLLATE es_timestamp,"
      " lag INTEGER)", "es_checkpoints", ppVtab, pzErr);
}

static int ckDisconnect(sqlite3_vtab *pVtab){
  EsVtab *pTab = (EsVtab*)pVtab;
  esConnUnref(pTab->p);
  sqlite3_free(pTab);
  return SQLITE_OK;
}

/* Rows come in name order (the primary key of es_consumers). */
static int ckBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==CK_NAME
   && !pInfo->aOrderBy[0].desc ){
    pInfo->orderByConsumed = 1;
  }
  pInfo->estimatedCost = 100.0;
  pInfo->estimatedRows = 10;
  return SQLITE_OK;
}

static int ckOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  CkCursor *pCur = sqlite3_malloc(sizeof(CkCursor));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->p = ((EsVtab*)pVtab)->p;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int ckClose(sqlite3_vtab_cursor *cur){
  CkCursor *pCur = (CkCursor*)cur;
  sqlite3_finalize(pCur->pStmt);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* The error of a failed read, on the table. */
static int ckError(CkCursor *pCur, int rc){
  sqlite3_vtab *pVtab = pCur->base.pVtab;
  EsConn *p = pCur->p;
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = sqlite3_mprintf("es_checkpoints: %s",
                                   p->zReadErr ? p->zReadErr
                                               : sqlite3_errmsg(p->db));
  return rc;
}

static int ckNext(sqlite3_vtab_cursor *cur){
  CkCursor *pCur = (CkCursor*)cur;
  int rc = sqlite3_step(pCur->pStmt);
  pCur->iRow++;
  if( rc==SQLITE_ROW ) return SQLITE_OK;
  rc = sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  if( rc!=SQLITE_OK ){
    rc = esStorageReadFailed(pCur->p, rc);
    if( rc!=SQLITE_OK ) return ckError(pCur, rc);
  }
  return SQLITE_OK;
}

static int ckFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                    int argc, sqlite3_value **argv){
  CkCursor *pCur = (CkCursor*)cur;
  int rc;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  pCur->iRow = 0;
  sqlite3_free(pCur->p->zReadErr);
  pCur->p->zReadErr = 0;
  rc = sqlite3_prepare_v2(pCur->p->db, zListSql, -1, &pCur->pStmt, 0);
  if( rc!=SQLITE_OK ){
    pCur->pStmt = 0;
    rc = esStorageReadFailed(pCur->p, rc);   /* no store: no rows */
    return rc==SQLITE_OK ? rc : ckError(pCur, rc);
  }
  return ckNext(cur);
}

static int ckEof(sqlite3_vtab_cursor *cur){
  return ((CkCursor*)cur)->pStmt==0;
}

static int ckColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  CkCursor *pCur = (CkCursor*)cur;
  if( i==CK_UPDATED_AT ){
    char z[ES_TIMESTAMP_TEXT_LEN+1];
    esTimestampFormat(sqlite3_column_int64(pCur->pStmt, i), z);
    z[ES_TIMESTAMP_TEXT_LEN] = 0;
    sqlite3_result_text(ctx, z, ES_TIMESTAMP_TEXT_LEN, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, i));
  }
  return SQLITE_OK;
}

static int ckRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  *pRowid = ((CkCursor*)cur)->iRow;
  return SQLITE_OK;
}

static sqlite3_module ckModule = ES_EPONYMOUS_MODULE(ck);

int esCheckpointsVtabRegister(sqlite3 *db, EsConn *p){
  return esVtabModuleRegister(db, p, "es_checkpoints", &ckModule);
}
