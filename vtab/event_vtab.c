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
** A cursor runs the SQL query over main.es_events that the plan xBestIndex
** chose describes (plan.c; the contract is in es_internal.h), or one such
** query per arm, merged by global position (the streams of an aggregate
** id, the values of an IN list: each arm is in global order, so the merge
** is too).  It turns each storage row into the table's columns: UUID
** blobs become canonical text, microsecond integers become timestamps,
** and stream_id is put together from aggregate_id and aggregate_type.
** Nothing is read ahead beyond one row per arm: memory stays flat however
** many rows are read.
*/
#include "../ext/es_internal.h"

/* One inner statement of a cursor, and its current row. */
typedef struct EsArm EsArm;
struct EsArm {
  EsQuery *pQuery;        /* the running statement, or NULL */
  i64 iPos;               /* global_position of its current row */
  i64 iTime;              /* its occurred_at, when merged by it */
  int bEof;               /* no row */
};

typedef struct EsCursor EsCursor;
struct EsCursor {
  sqlite3_vtab_cursor base;
  EsArm aArm[ES_PLAN_MERGE_MAX];
  int nArm;               /* arms open; more than one: a merge */
  int iCur;               /* the arm whose row is the cursor's */
  int bDesc;              /* merge in descending order */
  int bByTime;            /* merge by occurred_at, then global_position */
  int bMerge;             /* arms are merged: each row's keys are read */
  int bTs;                /* zTs holds a formatted timestamp */
  i64 iTsSecond;          /* the second zTs shows (resultTimestamp) */
  char zTs[ES_TIMESTAMP_TEXT_LEN+1];
  i64 nLeft;              /* merged rows still to return; -1: no limit */
  int bEof;
  char *zText;            /* text handed to SQLite, reused row to row */
  int nTextAlloc;
};

/*
** The common part of each table's xConnect: declare the table zSql, mark
** it innocuous (reading the store has no side effects, so views and
** triggers may use it even with trusted_schema off) and make its EsVtab,
** named zName, holding a reference to p.
*/
int esVtabConnect(sqlite3 *db, EsConn *p, const char *zSql,
                  const char *zName, sqlite3_vtab **ppVtab, char **pzErr){
  EsVtab *pTab;
  int rc = sqlite3_declare_vtab(db, zSql);
  if( rc!=SQLITE_OK ){
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    return rc;
  }
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  pTab = sqlite3_malloc(sizeof(EsVtab));
  if( pTab==0 ) return SQLITE_NOMEM;
  memset(pTab, 0, sizeof(*pTab));
  pTab->p = p;
  pTab->zName = zName;
  esConnRef(p);
  *ppVtab = &pTab->base;
  return SQLITE_OK;
}

/*
** xConnect of both tables: argv[0] is the module's name, which says which
** one this is.
*/
static int eventConnect(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr){
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
  rc = esVtabConnect(db, (EsConn*)pAux, zSql,
                     bStream ? "event_stream" : "event_all", ppVtab, pzErr);
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ) ((EsVtab*)*ppVtab)->bStream = bStream;
  return rc;
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

static void releaseArms(EsCursor *pCur){
  EsVtab *pTab = (EsVtab*)pCur->base.pVtab;
  int i;
  for(i=0; i<pCur->nArm; i++){
    esConnQueryRelease(pTab->p, pCur->aArm[i].pQuery);
    pCur->aArm[i].pQuery = 0;
  }
  pCur->nArm = 0;
  pCur->iCur = 0;
}

static int eventClose(sqlite3_vtab_cursor *cur){
  EsCursor *pCur = (EsCursor*)cur;
  releaseArms(pCur);
  sqlite3_free(pCur->zText);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int setVtabError(EsVtab *pTab, int rc){
  if( rc==SQLITE_NOMEM ) return rc;
  sqlite3_free(pTab->base.zErrMsg);
  pTab->base.zErrMsg = sqlite3_mprintf("%s: %s", pTab->zName,
      pTab->p->zReadErr ? pTab->p->zReadErr : sqlite3_errmsg(pTab->p->db));
  return rc;
}

/* Step one arm to its next row.  A merge reads the row's keys (each
** sqlite3_column_* call takes the connection's mutex: only then). */
static int stepArm(EsCursor *pCur, EsArm *pArm){
  EsVtab *pTab = (EsVtab*)pCur->base.pVtab;
  sqlite3_stmt *pStmt = pArm->pQuery->pStmt;
  int rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    pTab->p->nRowsVisited++;
    if( pCur->bMerge ){
      pArm->iPos = sqlite3_column_int64(pStmt, ES_SCOL_GLOBAL_POSITION);
      if( pCur->bByTime ){
        pArm->iTime = sqlite3_column_int64(pStmt, ES_SCOL_OCCURRED_AT);
      }
    }
    return SQLITE_OK;
  }
  pArm->bEof = 1;
  return rc==SQLITE_DONE ? SQLITE_OK : setVtabError(pTab, rc);
}

/* Does arm a's row come before arm b's in the merge? */
static int armBefore(const EsCursor *pCur, const EsArm *a, const EsArm *b){
  if( pCur->bByTime && a->iTime!=b->iTime ) return a->iTime < b->iTime;
  return pCur->bDesc ? a->iPos > b->iPos : a->iPos < b->iPos;
}

/* Make the cursor's row the arm whose row comes next. */
static void pickArm(EsCursor *pCur){
  int i, iBest = -1;
  for(i=0; i<pCur->nArm; i++){
    const EsArm *pArm = &pCur->aArm[i];
    if( pArm->bEof ) continue;
    if( iBest<0 || armBefore(pCur, pArm, &pCur->aArm[iBest]) ) iBest = i;
  }
  pCur->bEof = iBest<0 || pCur->nLeft==0;
  pCur->iCur = iBest<0 ? 0 : iBest;
}

/* Move past the current row (after a merge: to the next of all arms). */
static int advance(EsCursor *pCur){
  int rc = stepArm(pCur, &pCur->aArm[pCur->iCur]);
  if( rc==SQLITE_OK ) pickArm(pCur);
  return rc;
}

static int eventNext(sqlite3_vtab_cursor *cur){
  EsCursor *pCur = (EsCursor*)cur;
  int rc;
  if( pCur->nLeft>0 ) pCur->nLeft--;
  rc = advance(pCur);
  if( rc!=SQLITE_OK ){
    pCur->bEof = 1;
    releaseArms(pCur);
  }
  return rc;
}

/* What esConnQuery needs to build a plan's SQL on a cache miss. */
typedef struct PlanArgs PlanArgs;
struct PlanArgs {
  EsVtab *pTab;
  int idxNum;
  const char *idxStr;
  int eArm;
  int iVariant;           /* which of an ES_ARM_OCCURRED plan's two arms */
};

static int buildSql(void *pArg, char **pzSql){
  PlanArgs *pA = (PlanArgs*)pArg;
  return esSqlBuild(pA->pTab, pA->idxNum, pA->idxStr, pA->eArm, pA->iVariant,
                    pzSql);
}

/*
** The values the arms of an ES_ARM_STREAM plan take: the stream keys of
** the aggregate id, or of the listed stream ids (streams that do not exist
** are left out).  *pn is their count, or ES_PLAN_MERGE_MAX+1 if there are
** too many to merge.
*/
static int streamArms(EsVtab *pTab, const char *idxStr, sqlite3_value *pVal,
                      i64 *aKey, int *pn){
  int iSlot = esPlanArmSlot(idxStr, ES_ARM_STREAM), rc, n = 0;
  sqlite3_value *pId = 0;
  *pn = 0;
  if( idxStr[2*iSlot+1]!='i' ){
    const char *z = (const char*)sqlite3_value_text(pVal);
    if( sqlite3_value_type(pVal)!=SQLITE_TEXT ) return SQLITE_OK;
    if( z==0 ) return SQLITE_NOMEM;
    if( esUtf8Check(z, sqlite3_value_bytes(pVal)) ){
      EsQuote q;
      sqlite3_free(pTab->base.zErrMsg);
      pTab->base.zErrMsg = sqlite3_mprintf("%s: aggregate_id value '%s' is"
          " not valid UTF-8", pTab->zName,
          esUtf8Quote(&q, z, sqlite3_value_bytes(pVal)));
      return SQLITE_ERROR;
    }
    return esStorageStreamsOf(pTab->p, z, sqlite3_value_bytes(pVal), aKey,
                              ES_PLAN_MERGE_MAX, pn);
  }
  for(rc=sqlite3_vtab_in_first(pVal, &pId); rc==SQLITE_OK && pId;
      rc=sqlite3_vtab_in_next(pVal, &pId)){
    const char *z;
    int nText, nId, k;
    i64 iKey = 0, iVersion;
    rc = esSqlStreamId(pTab, pId, &z, &nText, &nId);
    if( rc!=SQLITE_OK ) return rc;
    if( nId<0 ) continue;
    rc = esStorageStreamLookup(pTab->p, z, nId, z+nId+1, nText-nId-1, &iKey,
                               &iVersion);
    if( rc!=SQLITE_OK ) return rc;
    if( iKey==0 ) continue;
    for(k=0; k<n && k<ES_PLAN_MERGE_MAX && aKey[k]!=iKey; k++){}
    if( k<n ) continue;
    if( n==ES_PLAN_MERGE_MAX ){ n++; break; }
    aKey[n++] = iKey;
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  *pn = n;
  return rc;
}

/* Bind parameter i where the statement has it (variant 1 of an
** occurred_at plan has no rowid range; an arm without LIMIT no limit). */
static int bindIfUsed(sqlite3_stmt *pStmt, int i, i64 v){
  if( i>sqlite3_bind_parameter_count(pStmt) ) return SQLITE_OK;
  return sqlite3_bind_int64(pStmt, i, v);
}

/*
** Open the next arm of the cursor: its statement, bound to the plan's
** values and the arm's own (a stream key, a kind, a rowid range: aArmVal),
** stepped to its first row.
*/
static int openArm(EsCursor *pCur, PlanArgs *pArgs, int argc,
                   sqlite3_value **argv, i64 iSnapshot, const i64 *aArmVal,
                   i64 nArmLimit, int *pbEmpty){
  EsVtab *pTab = pArgs->pTab;
  EsArm *pArm = &pCur->aArm[pCur->nArm];
  sqlite3_stmt *pStmt;
  int rc = esConnQuery(pTab->p, pArgs->idxNum, pArgs->eArm*4 + pArgs->iVariant,
                       pArgs->idxStr, buildSql, pArgs, &pArm->pQuery);
  if( rc!=SQLITE_OK ){
    pArm->pQuery = 0;
    rc = esStorageReadFailed(pTab->p, rc);
    if( rc==SQLITE_OK ) *pbEmpty = 1;          /* no store: no rows */
    return rc==SQLITE_OK ? rc : setVtabError(pTab, rc);
  }
  pCur->nArm++;
  pArm->bEof = 0;
  pStmt = pArm->pQuery->pStmt;
#ifdef ES_TESTING
  esTestingNoteQuery(pTab->p, pArm->pQuery->zSql);
#endif
  rc = esSqlBind(pTab, pStmt, pArgs->idxStr, pArgs->eArm, argc, argv,
                 iSnapshot, pbEmpty);
  if( rc==SQLITE_OK && pArgs->eArm!=ES_ARM_NONE ){
    rc = bindIfUsed(pStmt, ES_PLAN_ARM_PARAM, aArmVal[0]);
    if( rc==SQLITE_OK && pArgs->eArm==ES_ARM_OCCURRED ){
      rc = bindIfUsed(pStmt, ES_PLAN_ARM_PARAM+1, aArmVal[1]);
    }
    if( rc==SQLITE_OK ){
      rc = bindIfUsed(pStmt, ES_PLAN_ARM_LIMIT_PARAM, nArmLimit);
    }
  }
  if( rc!=SQLITE_OK || *pbEmpty ) return rc;
  return stepArm(pCur, pArm);
}

static int eventFilter(sqlite3_vtab_cursor *cur, int idxNum,
                       const char *idxStr, int argc, sqlite3_value **argv){
  EsCursor *pCur = (EsCursor*)cur;
  EsVtab *pTab = (EsVtab*)cur->pVtab;
  i64 iSnapshot = 0, nLimit, nOffset, aVal[ES_PLAN_MERGE_MAX];
  int rc = SQLITE_OK, k, n = 1, bEmpty = 0, iSlot;
  PlanArgs args;

  releaseArms(pCur);
  pCur->bEof = 1;
  if( idxStr==0 ) idxStr = "";
  rc = esStorageGlobalPosition(pTab->p, &iSnapshot);
  if( rc!=SQLITE_OK ) return setVtabError(pTab, rc);
  if( iSnapshot==0 ) return SQLITE_OK;          /* empty, or no schema */
  esNamesScratchClear(pTab->p);
  {
    /* The names cached are those of the schema the last cursor read: any
    ** schema change (a store dropped and made again, es_clear) may have
    ** given their keys to other names. */
    sqlite3_stmt *pLast = pTab->p->aStmt[ES_STMT_LAST_EVENT];
    i64 n = pLast ? sqlite3_stmt_status(pLast, SQLITE_STMTSTATUS_REPREPARE, 0) : -1;
    if( n!=pTab->p->iNamesSchema ){
      esNamesClear(pTab->p);
      pTab->p->iNamesSchema = n;
    }
  }

  memset(&args, 0, sizeof(args));
  args.pTab = pTab;
  args.idxNum = idxNum;
  args.idxStr = idxStr;
  args.eArm = esPlanArmKind(idxStr);
  iSlot = esPlanArmSlot(idxStr, args.eArm);
  if( iSlot>=argc ) args.eArm = ES_ARM_NONE;
  switch( args.eArm ){
    case ES_ARM_STREAM:
      rc = streamArms(pTab, idxStr, argv[iSlot], aVal, &n);
      break;
    case ES_ARM_KIND:
      rc = esSqlKinds(pTab, idxStr, argc, argv, aVal, &n);
      break;
    case ES_ARM_OCCURRED:
      rc = esSqlStoredAtRange(pTab, idxStr, argc, argv, iSnapshot, &aVal[0],
                              &aVal[1], &bEmpty);
      n = bEmpty ? 0 : 2;
      break;
  }
  if( rc!=SQLITE_OK ) return rc;
  if( n>ES_PLAN_MERGE_MAX ){
    args.eArm = ES_ARM_NONE;       /* too many: one statement */
    n = 1;
  }

  esPlanLimits(idxStr, argc, argv, &nLimit, &nOffset);
  pCur->bDesc = (idxNum & ES_PLAN_DESC)!=0;
  pCur->bByTime = args.eArm==ES_ARM_OCCURRED && (idxNum & ES_PLAN_ORDERED)==0;
  pCur->bMerge = args.eArm!=ES_ARM_NONE;
  pCur->nLeft = args.eArm==ES_ARM_NONE ? -1 : nLimit;
  for(k=0; k<n && rc==SQLITE_OK && !bEmpty; k++){
    /* An occurred_at plan's two arms are two statements (variants); the
    ** others are one statement, bound to each arm's value. */
    args.iVariant = args.eArm==ES_ARM_OCCURRED ? k : 0;
    rc = openArm(pCur, &args, argc, argv, iSnapshot,
                 args.eArm==ES_ARM_OCCURRED ? aVal : &aVal[k],
                 nLimit<0 ? -1 : nLimit + nOffset, &bEmpty);
  }
  if( rc!=SQLITE_OK || bEmpty || pCur->nArm==0 ){
    releaseArms(pCur);
    return rc;
  }
  pickArm(pCur);
  if( args.eArm!=ES_ARM_NONE ){
    /* The arms read LIMIT + OFFSET rows each; skip OFFSET of the merge. */
    for(; nOffset>0 && !pCur->bEof && rc==SQLITE_OK; nOffset--){
      rc = advance(pCur);
    }
  }
  if( rc!=SQLITE_OK ){
    pCur->bEof = 1;
    releaseArms(pCur);
  }
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

/*
** A timestamp column: Unix microseconds as YYYY-MM-DDTHH:MM:SS.ffffffZ.
** Rows in order mostly share their second: the cursor keeps the last one
** formatted and writes only the microseconds of the next.
*/
static void resultTimestamp(EsCursor *pCur, sqlite3_context *ctx,
                            sqlite3_value *pVal){
  if( sqlite3_value_type(pVal)==SQLITE_INTEGER ){
    i64 t = sqlite3_value_int64(pVal);
    if( t>=ES_MIN_MICROS && t<=ES_MAX_MICROS ){
      i64 us = t % 1000000, sec;
      char *z = pCur->zTs;
      if( us<0 ) us += 1000000;
      sec = (t - us)/1000000;
      if( !pCur->bTs || sec!=pCur->iTsSecond ){
        esTimestampFormat(t, z);
        z[ES_TIMESTAMP_TEXT_LEN] = 0;
        pCur->iTsSecond = sec;
        pCur->bTs = 1;
      }else{
        int k;
        for(k=25; k>=20; k--){ z[k] = (char)('0' + us%10); us /= 10; }
      }
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

/*
** The names of the row's stream key or kind (names.c), by the column's
** kind: stream_id (aggregate_id ':' aggregate_type, built in the cursor's
** text buffer), aggregate_id, aggregate_type or event_type.  The names are
** NUL-terminated and hold no NUL (args.c), so they go over as C text.  A
** key that names nothing (a damaged store) gives NULL.
*/
static int resultName(EsCursor *pCur, sqlite3_context *ctx,
                      sqlite3_stmt *pStmt, const EsColumn *pCol){
  EsConn *p = ((EsVtab*)pCur->base.pVtab)->p;
  i64 iKey = sqlite3_column_int64(pStmt, pCol->iScol);
  EsText a, b;
  int bFound, rc;
  if( pCol->iScol==ES_SCOL_STREAM_KEY ){
    rc = esNamesStream(p, iKey, &a, &b, &bFound);
  }else{
    rc = esNamesKind(p, iKey, &a, &b, &bFound);
  }
  if( rc!=SQLITE_OK || !bFound ){
    if( rc==SQLITE_OK ) sqlite3_result_null(ctx);
    return rc;
  }
  switch( pCol->eKind ){
    case ES_KIND_STREAM: {
      char *z = cursorText(pCur, a.n + b.n + 2);
      if( z==0 ) return SQLITE_NOMEM;
      memcpy(z, a.z, a.n);
      z[a.n] = ':';
      memcpy(z + a.n + 1, b.z, b.n + 1);
      sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
      break;
    }
    case ES_KIND_KIND_EVENT:
      sqlite3_result_text(ctx, b.z, -1, SQLITE_TRANSIENT);
      break;
    default:          /* the stream's aggregate id, the kind's type */
      sqlite3_result_text(ctx, a.z, -1, SQLITE_TRANSIENT);
      break;
  }
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
  sqlite3_stmt *pStmt = pCur->aArm[pCur->iCur].pQuery->pStmt;
  const EsColumn *pCol;
  assert( iCol>=0 && iCol<ES_VCOL_COUNT );
  pCol = &esColumns[iCol];
  switch( pCol->eKind ){
    case ES_KIND_STREAM:
    case ES_KIND_STREAM_ID:
    case ES_KIND_KIND_TYPE:
    case ES_KIND_KIND_EVENT:
      return resultName(pCur, ctx, pStmt, pCol);
    case ES_KIND_UUID:
      resultUuid(ctx, sqlite3_column_value(pStmt, pCol->iScol));
      return SQLITE_OK;
    case ES_KIND_TIME:
      resultTimestamp(pCur, ctx, sqlite3_column_value(pStmt, pCol->iScol));
      return SQLITE_OK;
    case ES_KIND_JSON: {
      int rc = resultPlain(pCur, ctx, sqlite3_column_value(pStmt, pCol->iScol));
      sqlite3_result_subtype(ctx, ES_JSON_SUBTYPE);
      return rc;
    }
  }
  return resultPlain(pCur, ctx, sqlite3_column_value(pStmt, pCol->iScol));
}

static int eventRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid){
  EsCursor *pCur = (EsCursor*)cur;
  const EsArm *pArm = &pCur->aArm[pCur->iCur];
  *pRowid = pCur->bMerge ? pArm->iPos
          : sqlite3_column_int64(pArm->pQuery->pStmt, ES_SCOL_GLOBAL_POSITION);
  return SQLITE_OK;
}

/* One module, registered under both names (eventConnect tells them
** apart). */
static sqlite3_module eventModule = ES_EPONYMOUS_MODULE(event);

/* Register pModule as zName; the module holds a reference to p, dropped
** when SQLite forgets the module. */
int esVtabModuleRegister(sqlite3 *db, EsConn *p, const char *zName,
                         const sqlite3_module *pModule){
  esConnRef(p);
  return sqlite3_create_module_v2(db, zName, pModule, p, esConnUnref);
}

int esVtabRegister(sqlite3 *db, EsConn *p){
  int rc = esVtabModuleRegister(db, p, "event_all", &eventModule);
  if( rc==SQLITE_OK ){
    rc = esVtabModuleRegister(db, p, "event_stream", &eventModule);
  }
  return rc;
}
