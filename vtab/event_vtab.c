/*
** event_vtab.c -- the virtual tables event_all and event_stream.
**
** Both are eponymous-only (xCreate is NULL: they exist as soon as the
** extension is loaded, and CREATE VIRTUAL TABLE cannot make more) and
** read-only (no xUpdate: INSERT, UPDATE and DELETE fail).  They have the
** columns of API.md, in that order; event_stream has one more, HIDDEN,
** column `stream`, the argument of event_stream('<id>:<type>').
**
** Collations say how SQLite itself compares these columns, to agree with
** the table: UUIDs without regard to case (NOCASE), timestamps as instants
** (es_timestamp, timestamp.c).
**
** A cursor runs one SQL query over main.es_events, built from the plan
** that xBestIndex chose (plan.c; the contract is in es_internal.h), and turns
** each storage row into the table's columns: UUID blobs become canonical
** text, microsecond integers become timestamps, and stream_id is put
** together from aggregate_id and aggregate_type.  Nothing is read ahead or
** held: memory stays flat however many rows are read.
*/
#include "../ext/es_internal.h"

typedef struct EsCursor EsCursor;
struct EsCursor {
  sqlite3_vtab_cursor base;
  EsQuery *pQuery;        /* the running inner query, or NULL */
  int bEof;
  char *zText;            /* text handed to SQLite, reused row to row */
  int nTextAlloc;
};

/*
** xConnect of both tables: argv[0] is the module's name, which says which
** one this is.
*/
static int eventConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
  EsVtab *pTab;
  sqlite3_str *pStr = sqlite3_str_new(db);
  char *zSql;
  int i, rc, bStream = argc>0 && sqlite3_stricmp(argv[0], "event_stream")==0;
  (void)argv;
  for(i=0; i<ES_VCOL_COUNT; i++){
    if( i==ES_VCOL_STREAM && !bStream ) continue;
    sqlite3_str_appendf(pStr, "%s%s %s", i ? ", " : "CREATE TABLE x(",
                        esColumns[i].zName, esColumns[i].zDecl);
  }
  sqlite3_str_appendchar(pStr, 1, ')');
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_declare_vtab(db, zSql);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    return rc;
  }
  /* Reading the store has no side effects: allow use from views and
  ** triggers even with trusted_schema off. */
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  pTab = sqlite3_malloc(sizeof(EsVtab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->p = (EsConn*)pAux;
  pTab->bStream = bStream;
  pTab->zName = bStream ? "event_stream" : "event_all";
  esConnRef(pTab->p);
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

/*
** The eponymous tables are disconnected when the connection closes, before
** SQLite checks for unfinalized statements: the moment to finalize the
** extension's statement cache (see conn.c).
*/
static int eventDisconnect(sqlite3_vtab *pVtab){
  EsVtab *pTab = (EsVtab*)pVtab;
  esConnFinalizeAll(pTab->p);
  esConnUnref(pTab->p);
  sqlite3_free(pTab);
  return SQLITE_OK;
}

static int eventBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  return esPlanBestIndex((EsVtab*)pVtab, pInfo);
}

static int eventOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  EsCursor *pCur = sqlite3_malloc(sizeof(EsCursor));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static void releaseQuery(EsCursor *pCur){
  EsVtab *pTab = (EsVtab*)pCur->base.pVtab;
  if( pCur->pQuery ){
    esConnQueryRelease(pTab->p, pCur->pQuery);
    pCur->pQuery = 0;
  }
}

static int eventClose(sqlite3_vtab_cursor *cur){
  EsCursor *pCur = (EsCursor*)cur;
  releaseQuery(pCur);
  sqlite3_free(pCur->zText);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int setVtabError(EsVtab *pTab, int rc){
  if( rc==SQLITE_NOMEM ) return rc;
  sqlite3_free(pTab->base.zErrMsg);
  pTab->base.zErrMsg = sqlite3_mprintf("%s: %s", pTab->zName,
                                       sqlite3_errmsg(pTab->p->db));
  return rc;
}

static int eventNext(sqlite3_vtab_cursor *cur){
  EsCursor *pCur = (EsCursor*)cur;
  EsVtab *pTab = (EsVtab*)cur->pVtab;
  int rc = sqlite3_step(pCur->pQuery->pStmt);
  if( rc==SQLITE_ROW ){
    pTab->p->nRowsVisited++;
    return SQLITE_OK;
  }
  pCur->bEof = 1;
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  rc = setVtabError(pTab, rc);
  releaseQuery(pCur);
  return rc;
}

/* What esConnQuery needs to build a plan's SQL on a cache miss. */
typedef struct PlanArgs PlanArgs;
struct PlanArgs {
  EsVtab *pTab;
  int idxNum;
  const char *idxStr;
  int nIn;
};

static int buildSql(void *pArg, char **pzSql){
  PlanArgs *pA = (PlanArgs*)pArg;
  return esPlanBuildSql(pA->pTab, pA->idxNum, pA->idxStr, pA->nIn, pzSql);
}

static int eventFilter(sqlite3_vtab_cursor *cur, int idxNum,
                       const char *idxStr, int argc, sqlite3_value **argv){
  EsCursor *pCur = (EsCursor*)cur;
  EsVtab *pTab = (EsVtab*)cur->pVtab;
  i64 iSnapshot = 0;
  int rc, bEmpty = 0, nIn = -1;
  sqlite3_value *apIn[ES_PLAN_MERGE_MAX];

  releaseQuery(pCur);
  pCur->bEof = 1;
  if( idxStr==0 ) idxStr = "";
  rc = esStorageGlobalPosition(pTab->p, &iSnapshot);
  if( rc!=SQLITE_OK ) return setVtabError(pTab, rc);
  if( iSnapshot==0 ) return SQLITE_OK;          /* empty, or no schema */
  rc = esPlanInValues(idxStr, argc, argv, apIn, &nIn);
  if( rc!=SQLITE_OK ) return rc;
  if( nIn==0 ) return SQLITE_OK;                /* IN (NULL): no rows */

  {
    PlanArgs args;
    args.pTab = pTab;
    args.idxNum = idxNum;
    args.idxStr = idxStr;
    args.nIn = nIn;
    rc = esConnQuery(pTab->p, idxNum, nIn, idxStr, buildSql, &args,
                     &pCur->pQuery);
  }
  if( rc!=SQLITE_OK ){
    rc = esSchemaIsMissingError(pTab->p, rc) ? SQLITE_OK : setVtabError(pTab, rc);
  }else{
#ifdef ES_TESTING
    esTestingNoteQuery(pTab->p, pCur->pQuery->zSql);
#endif
    rc = esPlanBind(pTab, pCur->pQuery->pStmt, idxNum, idxStr, argc, argv,
                    apIn, nIn, iSnapshot, &bEmpty);
    if( rc!=SQLITE_OK || bEmpty ){
      releaseQuery(pCur);
    }else{
      pCur->bEof = 0;
      rc = eventNext(cur);
    }
  }
  if( nIn>0 ) esPlanInFree(apIn, nIn);
  return rc;
}

static int eventEof(sqlite3_vtab_cursor *cur){
  return ((EsCursor*)cur)->bEof;
}

/*
** Column values.  Each storage value is fetched once with
** sqlite3_column_value() (every sqlite3_column_* call takes the
** connection's mutex) and read with sqlite3_value_*.  Formatted text is
** handed over NUL-terminated (length -1), so that SQLite need not grow the
** copy by one byte when the caller asks for it as C text.
*/

/* A UUID column: canonical text from the stored 16-byte blob. */
static void resultUuid(sqlite3_context *ctx, sqlite3_value *pVal){
  if( sqlite3_value_type(pVal)==SQLITE_BLOB && sqlite3_value_bytes(pVal)==16 ){
    char z[ES_UUID_TEXT_LEN+1];
    esUuidFormat((const u8*)sqlite3_value_blob(pVal), z);
    z[ES_UUID_TEXT_LEN] = 0;
    sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_value(ctx, pVal);
  }
}

/* A timestamp column: Unix microseconds as YYYY-MM-DDTHH:MM:SS.ffffffZ. */
static void resultTimestamp(sqlite3_context *ctx, sqlite3_value *pVal){
  if( sqlite3_value_type(pVal)==SQLITE_INTEGER ){
    i64 t = sqlite3_value_int64(pVal);
    if( t>=ES_MIN_MICROS && t<=ES_MAX_MICROS ){
      char z[ES_TIMESTAMP_TEXT_LEN+1];
      esTimestampFormat(t, z);
      z[ES_TIMESTAMP_TEXT_LEN] = 0;
      sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
      return;
    }
  }
  sqlite3_result_value(ctx, pVal);
}

/*
** The cursor's text buffer, grown to hold at least n bytes.  Returns 0 if
** out of memory.
*/
static char *cursorText(EsCursor *pCur, int n){
  if( n>pCur->nTextAlloc ){
    char *zNew = sqlite3_realloc(pCur->zText, n + 64);
    if( zNew==0 ) return 0;
    pCur->zText = zNew;
    pCur->nTextAlloc = n + 64;
  }
  return pCur->zText;
}

/* stream_id: aggregate_id ':' aggregate_type, built in the text buffer. */
static int resultStreamId(EsCursor *pCur, sqlite3_context *ctx,
                          sqlite3_stmt *pStmt){
  sqlite3_value *pId = sqlite3_column_value(pStmt, ES_SCOL_AGGREGATE_ID);
  sqlite3_value *pType = sqlite3_column_value(pStmt, ES_SCOL_AGGREGATE_TYPE);
  int bText = sqlite3_value_type(pId)==SQLITE_TEXT
           && sqlite3_value_type(pType)==SQLITE_TEXT;
  int nId = sqlite3_value_bytes(pId);
  int nType = sqlite3_value_bytes(pType);
  const char *zId = (const char*)sqlite3_value_blob(pId);
  const char *zType = (const char*)sqlite3_value_blob(pType);
  int n = nId + 1 + nType;
  char *z;
  if( !bText || zId==0 || zType==0 ){
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  if( (z = cursorText(pCur, n+1))==0 ) return SQLITE_NOMEM;
  memcpy(z, zId, nId);
  z[nId] = ':';
  memcpy(z + nId + 1, zType, nType);
  z[n] = 0;
  sqlite3_result_text(ctx, z, memchr(z, 0, n) ? n : -1, SQLITE_TRANSIENT);
  return SQLITE_OK;
}

/*
** A value copied through.  Stored text is not NUL-terminated, and
** SQLite's own ways of passing it on each cost an allocation per value:
** sqlite3_result_value() copies it into a fresh buffer, and text handed
** over with its length is copied without a terminator, which
** sqlite3_column_text() then reallocates to add.  Copied into the
** cursor's buffer with a terminator and handed over as NUL-terminated
** (length -1), it goes into the result register's reused buffer as C
** text that needs nothing more.  (Text with a NUL byte inside keeps its
** length.)  sqlite3_value_blob() gives the bytes of a text value without
** converting or terminating it.
*/
static int resultPlain(EsCursor *pCur, sqlite3_context *ctx,
                       sqlite3_value *pVal){
  if( sqlite3_value_type(pVal)==SQLITE_TEXT ){
    int n = sqlite3_value_bytes(pVal);
    const char *zIn = n ? (const char*)sqlite3_value_blob(pVal) : "";
    char *z = cursorText(pCur, n+1);
    if( z==0 ) return SQLITE_NOMEM;
    memcpy(z, zIn, n);
    z[n] = 0;
    sqlite3_result_text(ctx, z, memchr(z, 0, n) ? n : -1, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_value(ctx, pVal);
  }
  return SQLITE_OK;
}

static int eventColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                       int iCol){
  EsCursor *pCur = (EsCursor*)cur;
  sqlite3_stmt *pStmt = pCur->pQuery->pStmt;
  const EsColumn *pCol;
  assert( iCol>=0 && iCol<ES_VCOL_COUNT );
  pCol = &esColumns[iCol];
  switch( pCol->eKind ){
    case ES_KIND_STREAM:
      return resultStreamId(pCur, ctx, pStmt);
    case ES_KIND_UUID:
      resultUuid(ctx, sqlite3_column_value(pStmt, pCol->iScol));
      return SQLITE_OK;
    case ES_KIND_TIME:
      resultTimestamp(ctx, sqlite3_column_value(pStmt, pCol->iScol));
      return SQLITE_OK;
  }
  return resultPlain(pCur, ctx, sqlite3_column_value(pStmt, pCol->iScol));
}

static int eventRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  EsCursor *pCur = (EsCursor*)cur;
  *pRowid = sqlite3_column_int64(pCur->pQuery->pStmt, ES_SCOL_GLOBAL_POSITION);
  return SQLITE_OK;
}

/* One module, registered under both names (eventConnect tells them
** apart).  xCreate is NULL: eponymous-only. */
static sqlite3_module eventModule = {
  .iVersion = 0,
  .xCreate = 0,
  .xConnect = eventConnect,
  .xBestIndex = eventBestIndex,
  .xDisconnect = eventDisconnect,
  .xDestroy = eventDisconnect,
  .xOpen = eventOpen,
  .xClose = eventClose,
  .xFilter = eventFilter,
  .xNext = eventNext,
  .xEof = eventEof,
  .xColumn = eventColumn,
  .xRowid = eventRowid,
};

int esVtabRegister(sqlite3 *db, EsConn *p){
  int rc;
  esConnRef(p);
  rc = sqlite3_create_module_v2(db, "event_all", &eventModule, p,
                                esConnUnref);
  if( rc==SQLITE_OK ){
    esConnRef(p);
    rc = sqlite3_create_module_v2(db, "event_stream", &eventModule, p,
                                  esConnUnref);
  }
  return rc;
}
