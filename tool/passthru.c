/*
** passthru.c -- the thinnest virtual table over an SQL query, for
** tool/bench --floor.
**
** passthruRegister(db, zName, zSql, nCol, iOrderCol, bDesc) makes zName an
** eponymous virtual table whose rows are the rows of the query zSql.  The
** query may have one parameter, ?1, given as the table's hidden column
** `arg` (zName(?) or WHERE arg = ?).  Its first nCol result columns are
** the table's columns c0..c{nCol-1}; it returns its rows ordered by column
** iOrderCol (descending if bDesc), and an ORDER BY on that column is
** consumed.
**
** It does nothing but step the inner statement and copy each column out,
** the cheapest way the SQLite API allows (the same way as
** vtab/event_vtab.c: text copied into a buffer the cursor reuses and
** handed over NUL-terminated).  So the time a query spends in it, against
** the same query run directly, is what the virtual-table layer alone costs:
** no virtual table over SQL storage can read faster.  The bench reports it
** as the floor of the read workloads.
*/
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include "passthru.h"

typedef struct PtTable PtTable;
struct PtTable {
  sqlite3 *db;
  char *zSql;          /* the inner query */
  int nCol;            /* its columns; column nCol is the hidden `arg` */
  int iOrderCol;       /* the column the rows come ordered by */
  int bDesc;           /* ... descending */
};

typedef struct PtVtab PtVtab;
struct PtVtab {
  sqlite3_vtab base;
  PtTable *pDef;
  sqlite3_stmt *pIdle;     /* the inner query, kept between cursors */
};

typedef struct PtCursor PtCursor;
struct PtCursor {
  sqlite3_vtab_cursor base;
  sqlite3_stmt *pStmt;     /* the inner query (PtVtab.pIdle while closed) */
  int bEof;
  char *zText;             /* text handed to SQLite, reused row to row */
  int nAlloc;
};

static int ptConnect(sqlite3 *db, void *pAux, int argc,
                     const char *const *argv, sqlite3_vtab **ppVtab,
                     char **pzErr){
  PtTable *pDef = (PtTable*)pAux;
  sqlite3_str *pStr = sqlite3_str_new(db);
  PtVtab *pTab;
  char *zDecl;
  int i, rc;
  (void)argc; (void)argv; (void)pzErr;
  sqlite3_str_appendall(pStr, "CREATE TABLE x(");
  for(i=0; i<pDef->nCol; i++) sqlite3_str_appendf(pStr, "c%d, ", i);
  sqlite3_str_appendall(pStr, "arg HIDDEN)");
  zDecl = sqlite3_str_finish(pStr);
  if( zDecl==0 ) return SQLITE_NOMEM;
  rc = sqlite3_declare_vtab(db, zDecl);
  sqlite3_free(zDecl);
  if( rc!=SQLITE_OK ) return rc;
  pTab = sqlite3_malloc(sizeof(*pTab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->pDef = pDef;
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

static int ptDisconnect(sqlite3_vtab *pVtab){
  sqlite3_finalize(((PtVtab*)pVtab)->pIdle);
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

/* `arg =` goes to the inner query; a query with a parameter needs it. */
static int ptBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  PtTable *pDef = ((PtVtab*)pVtab)->pDef;
  int i, bArg = 0, bNeedArg = strstr(pDef->zSql, "?1")!=0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    if( pC->iColumn==pDef->nCol && pC->op==SQLITE_INDEX_CONSTRAINT_EQ ){
      if( !pC->usable ) continue;
      pInfo->aConstraintUsage[i].argvIndex = 1;
      pInfo->aConstraintUsage[i].omit = 1;
      bArg = 1;
      break;
    }
  }
  if( bNeedArg && !bArg ) return SQLITE_CONSTRAINT;
  if( pInfo->nOrderBy==1 && pInfo->aOrderBy[0].iColumn==pDef->iOrderCol
   && pInfo->aOrderBy[0].desc==pDef->bDesc ){
    pInfo->orderByConsumed = 1;
  }
  pInfo->idxNum = bArg;
  pInfo->estimatedCost = bArg ? 10 : 1e6;
  return SQLITE_OK;
}

/* A query is prepared once per connection, as the extension's are: a
** cursor takes the idle statement if there is one. */
static int ptOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  PtVtab *pTab = (PtVtab*)pVtab;
  PtCursor *pCur = sqlite3_malloc(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->pStmt = pTab->pIdle;
  pTab->pIdle = 0;
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int ptClose(sqlite3_vtab_cursor *cur){
  PtCursor *pCur = (PtCursor*)cur;
  PtVtab *pTab = (PtVtab*)cur->pVtab;
  if( pTab->pIdle==0 && pCur->pStmt ){
    sqlite3_reset(pCur->pStmt);
    pTab->pIdle = pCur->pStmt;
  }else{
    sqlite3_finalize(pCur->pStmt);
  }
  sqlite3_free(pCur->zText);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int ptNext(sqlite3_vtab_cursor *cur){
  PtCursor *pCur = (PtCursor*)cur;
  int rc = sqlite3_step(pCur->pStmt);
  if( rc==SQLITE_ROW ) return SQLITE_OK;
  pCur->bEof = 1;
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

static int ptFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                    int argc, sqlite3_value **argv){
  PtCursor *pCur = (PtCursor*)cur;
  PtTable *pDef = ((PtVtab*)cur->pVtab)->pDef;
  (void)idxNum; (void)idxStr;
  if( pCur->pStmt==0 ){
    int rc = sqlite3_prepare_v3(pDef->db, pDef->zSql, -1,
                                SQLITE_PREPARE_PERSISTENT, &pCur->pStmt, 0);
    if( rc!=SQLITE_OK ) return rc;
  }else{
    sqlite3_reset(pCur->pStmt);
  }
  if( argc>0 ) sqlite3_bind_value(pCur->pStmt, 1, argv[0]);
  pCur->bEof = 0;
  return ptNext(cur);
}

static int ptEof(sqlite3_vtab_cursor *cur){
  return ((PtCursor*)cur)->bEof;
}

static int ptColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  PtCursor *pCur = (PtCursor*)cur;
  sqlite3_value *pVal = sqlite3_column_value(pCur->pStmt, i);
  if( sqlite3_value_type(pVal)==SQLITE_TEXT ){
    int n = sqlite3_value_bytes(pVal);
    const char *zIn = n ? (const char*)sqlite3_value_blob(pVal) : "";
    if( n+1>pCur->nAlloc ){
      char *zNew = sqlite3_realloc(pCur->zText, n + 64);
      if( zNew==0 ) return SQLITE_NOMEM;
      pCur->zText = zNew;
      pCur->nAlloc = n + 64;
    }
    memcpy(pCur->zText, zIn, n);
    pCur->zText[n] = 0;
    sqlite3_result_text(ctx, pCur->zText, -1, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_value(ctx, pVal);
  }
  return SQLITE_OK;
}

static int ptRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = sqlite3_column_int64(((PtCursor*)cur)->pStmt, 0);
  return SQLITE_OK;
}

static sqlite3_module ptModule = {
  .iVersion = 0,
  .xConnect = ptConnect,
  .xBestIndex = ptBestIndex,
  .xDisconnect = ptDisconnect,
  .xDestroy = ptDisconnect,
  .xOpen = ptOpen,
  .xClose = ptClose,
  .xFilter = ptFilter,
  .xNext = ptNext,
  .xEof = ptEof,
  .xColumn = ptColumn,
  .xRowid = ptRowid,
};

static void ptTableFree(void *p){
  PtTable *pDef = (PtTable*)p;
  if( pDef ){
    sqlite3_free(pDef->zSql);
    sqlite3_free(pDef);
  }
}

int passthruRegister(sqlite3 *db, const char *zName, const char *zSql,
                     int nCol, int iOrderCol, int bDesc){
  PtTable *pDef = sqlite3_malloc(sizeof(*pDef));
  if( pDef==0 ) return SQLITE_NOMEM;
  pDef->db = db;
  pDef->zSql = sqlite3_mprintf("%s", zSql);
  pDef->nCol = nCol;
  pDef->iOrderCol = iOrderCol;
  pDef->bDesc = bDesc;
  if( pDef->zSql==0 ){
    sqlite3_free(pDef);
    return SQLITE_NOMEM;
  }
  return sqlite3_create_module_v2(db, zName, &ptModule, pDef, ptTableFree);
}
