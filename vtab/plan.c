/*
** plan.c -- query planning for event_all and event_stream: xBestIndex,
** and the SQL that xFilter runs for a plan.  The idxNum/idxStr contract
** between the two is written once, in es_internal.h; what each column
** allows is in columns.c.
**
** Cost model.  Costs are in "rows visited", against an assumed store of
** ES_PLAN_ROWS events (the same order of size SQLite assumes for a table
** it has no statistics for), so that joins with ordinary tables plan
** sensibly:
**     one event by event_id or global_position     1 row (UNIQUE)
**     one stream                                   ES_PLAN_STREAM_ROWS
**     an event_type, tenant or aggregate type      ROWS/20 .. ROWS/10
**     a range of positions or times                a quarter (one bound)
**                                                  or a sixteenth (two)
**     nothing                                      every row
** LIMIT, when the table consumes it, caps the estimate.
*/
#include "../ext/es_internal.h"

#define ES_PLAN_ROWS         1000000.0
#define ES_PLAN_STREAM_ROWS  100.0

/* The idxStr column code of a virtual-table column, or 0. */
static char columnCode(EsVtab *pTab, int iCol){
  if( iCol==-1 ) return ES_CODE_GLOBAL_POSITION;          /* the rowid */
  if( iCol<0 || iCol>=ES_VCOL_COUNT ) return 0;
  if( iCol==ES_VCOL_STREAM && !pTab->bStream ) return 0;
  return esColumns[iCol].cCode;
}

/* Columns that take range operators; the others take only '='. */
static int isRangeColumn(char c){
  const EsColumn *pCol = esColumnsByCode(c);
  return pCol && pCol->bRange;
}

static int columnKind(char c){
  const EsColumn *pCol = esColumnsByCode(c);
  return pCol ? pCol->eKind : ES_KIND_PLAIN;
}

static char operatorCode(int op){
  switch( op ){
    case SQLITE_INDEX_CONSTRAINT_EQ: return '=';
    case SQLITE_INDEX_CONSTRAINT_LT: return '<';
    case SQLITE_INDEX_CONSTRAINT_LE: return '{';
    case SQLITE_INDEX_CONSTRAINT_GT: return '>';
    case SQLITE_INDEX_CONSTRAINT_GE: return '}';
  }
  return 0;
}

/* Storage columns needed to produce virtual-table column iCol. */
static int storageColumnsOf(int iCol){
  const EsColumn *pCol = &esColumns[iCol];
  if( pCol->eKind==ES_KIND_STREAM ){
    return (1<<ES_SCOL_AGGREGATE_ID) | (1<<ES_SCOL_AGGREGATE_TYPE);
  }
  return 1<<pCol->iScol;
}

/* The summary of the constraints a plan takes, for costing. */
typedef struct PlanShape PlanShape;
struct PlanShape {
  int bStream;        /* one stream named (s=, or a= with t=) */
  int bUnique;        /* e= or g= : at most one row */
  int bAggregateId;   /* a= without t= */
  int nEqIndexed;     /* y=, n=, t= */
  int nInValues;      /* values of y IN (...) when known, else 0 */
  int nRange;         /* bounds on g, p, o, d */
  int nOther;         /* v, c, r, u */
};

static double estimateRows(const PlanShape *pS){
  double r;
  if( pS->bUnique ) return 1.0;
  if( pS->bStream ){
    r = ES_PLAN_STREAM_ROWS;
  }else if( pS->bAggregateId ){
    r = ES_PLAN_STREAM_ROWS * 2;
  }else if( pS->nEqIndexed>0 ){
    r = ES_PLAN_ROWS / 20.0;
  }else if( pS->nInValues>0 ){
    r = ES_PLAN_ROWS / 20.0 * pS->nInValues;
  }else{
    r = ES_PLAN_ROWS;
  }
  if( pS->nRange==1 ) r /= 4.0;
  if( pS->nRange>=2 ) r /= 16.0;
  if( pS->nEqIndexed>1 ) r /= 10.0;
  if( pS->nOther>0 ) r /= 10.0;
  return r<1.0 ? 1.0 : r;
}

/*
** xBestIndex.  Every usable constraint the table understands is taken
** (argvIndex, omit); timestamp constraints first, because SQLite honours
** omit only for the first 16 slots and a timestamp must never be
** re-checked by SQLite as text.
*/
int esPlanBestIndex(EsVtab *pTab, sqlite3_index_info *pInfo){
  char zPlan[2*64+1];
  int nSlot = 0, i, pass;
  int bHaveStreamArg = 0, bStreamArgUnusable = 0;
  int bHaveAggId = 0, bHaveAggType = 0, bAllTaken = 1;
  int iLimit = -1, iOffset = -1;
  PlanShape shape;
  double nRow;
  int idxNum = 0;
  sqlite3_uint64 colUsed = pInfo->colUsed;

  memset(&shape, 0, sizeof(shape));
  for(pass=0; pass<2; pass++){
    for(i=0; i<pInfo->nConstraint; i++){
      const struct sqlite3_index_constraint *pCons = &pInfo->aConstraint[i];
      char cCol = columnCode(pTab, pCons->iColumn);
      char cOp = operatorCode(pCons->op);
      const char *zColl;
      if( pCons->op==SQLITE_INDEX_CONSTRAINT_LIMIT ){
        if( pass==0 && pCons->usable ) iLimit = i;
        continue;
      }
      if( pCons->op==SQLITE_INDEX_CONSTRAINT_OFFSET ){
        if( pass==0 && pCons->usable ) iOffset = i;
        continue;
      }
      if( (pass==0)!=(cCol && columnKind(cCol)==ES_KIND_TIME) ) continue;
      if( cCol==0 || cOp==0 || (cOp!='=' && !isRangeColumn(cCol)) ){
        bAllTaken = 0;
        continue;
      }
      if( cCol==ES_CODE_STREAM_ID && cOp=='=' ){
        bHaveStreamArg = 1;
        if( !pCons->usable ) bStreamArgUnusable = 1;
      }
      if( !pCons->usable ){
        bAllTaken = 0;
        continue;
      }
      /* Text comparisons are applied with the column's own collation only
      ** (BINARY, or NOCASE for UUIDs, which are matched in any case). */
      zColl = sqlite3_vtab_collation(pInfo, i);
      if( cOp=='=' && !isRangeColumn(cCol) && zColl
       && sqlite3_stricmp(zColl, "BINARY")!=0
       && !(columnKind(cCol)==ES_KIND_UUID
             && sqlite3_stricmp(zColl, "NOCASE")==0) ){
        bAllTaken = 0;
        continue;
      }
      if( nSlot>=62 ){
        bAllTaken = 0;
        continue;
      }
      if( cCol==ES_CODE_EVENT_TYPE && cOp=='=' && sqlite3_vtab_in(pInfo, i, -1) ){
        sqlite3_vtab_in(pInfo, i, 1);
        cOp = 'i';
        shape.nInValues += 2;
      }
      zPlan[2*nSlot] = cCol;
      zPlan[2*nSlot+1] = cOp;
      nSlot++;
      pInfo->aConstraintUsage[i].argvIndex = nSlot;
      pInfo->aConstraintUsage[i].omit = 1;
      switch( cCol ){
        case ES_CODE_STREAM_ID: shape.bStream = 1; break;
        case ES_CODE_AGGREGATE_ID: bHaveAggId = 1; break;
        case ES_CODE_AGGREGATE_TYPE: bHaveAggType = 1; shape.nEqIndexed++; break;
        case ES_CODE_EVENT_ID: shape.bUnique = 1; break;
        case ES_CODE_GLOBAL_POSITION: if( cOp=='=' ) shape.bUnique = 1; else shape.nRange++; break;
        case ES_CODE_EVENT_TYPE: if( cOp=='=' ) shape.nEqIndexed++; break;
        case ES_CODE_TENANT_ID: shape.nEqIndexed++; break;
        case ES_CODE_STREAM_POSITION: case ES_CODE_OCCURRED_AT: case ES_CODE_STORED_AT:
          if( cOp=='=' ) shape.nOther++; else shape.nRange++;
          break;
        default: shape.nOther++; break;
      }
    }
  }
  if( bHaveAggId && bHaveAggType ) shape.bStream = 1;
  if( bHaveAggId && !bHaveAggType ) shape.bAggregateId = 1;

  /* event_stream needs a stream: by stream_id (or its TVF argument), or
  ** by aggregate_id and aggregate_type. */
  if( pTab->bStream && !shape.bStream ){
    int bNamed = bHaveStreamArg;
    for(i=0; i<pInfo->nConstraint && !bNamed; i++){
      int c = columnCode(pTab, pInfo->aConstraint[i].iColumn);
      if( (c==ES_CODE_AGGREGATE_ID || c==ES_CODE_AGGREGATE_TYPE)
       && pInfo->aConstraint[i].op==SQLITE_INDEX_CONSTRAINT_EQ ){
        bNamed = 1;
      }
    }
    if( bNamed || bStreamArgUnusable ) return SQLITE_CONSTRAINT;
    sqlite3_free(pTab->base.zErrMsg);
    pTab->base.zErrMsg = sqlite3_mprintf("event_stream: name a stream:"
        " event_stream('<aggregate_id>:<aggregate_type>'), WHERE stream_id ="
        " '<aggregate_id>:<aggregate_type>', or WHERE aggregate_id = ? AND"
        " aggregate_type = ?");
    return SQLITE_ERROR;
  }

  /* ORDER BY: rows always come out in global order, which within one
  ** stream is also stream order.  A unique first term makes the rest moot. */
  if( pInfo->nOrderBy>0 ){
    int iCol = pInfo->aOrderBy[0].iColumn;
    int bOk = iCol==ES_VCOL_GLOBAL_POSITION || iCol==-1
           || (shape.bStream && (iCol==ES_VCOL_STREAM_POSITION
                                 || iCol==ES_VCOL_AGGREGATE_VERSION));
    if( bOk ){
      pInfo->orderByConsumed = 1;
      idxNum |= ES_PLAN_ORDERED;
      if( pInfo->aOrderBy[0].desc ) idxNum |= ES_PLAN_DESC;
    }else{
      bAllTaken = 0;   /* SQLite sorts: LIMIT must stay with SQLite */
    }
  }

  /* LIMIT and OFFSET together or not at all (SQLite would skip the
  ** OFFSET rows a second time), and only when nothing is left for SQLite
  ** to filter after the table's rows. */
  nRow = estimateRows(&shape);
  if( iLimit>=0 && bAllTaken && nSlot<62 ){
    sqlite3_value *pVal = 0;
    zPlan[2*nSlot] = ES_CODE_LIMIT;
    zPlan[2*nSlot+1] = '.';
    nSlot++;
    pInfo->aConstraintUsage[iLimit].argvIndex = nSlot;
    pInfo->aConstraintUsage[iLimit].omit = 1;
    if( sqlite3_vtab_rhs_value(pInfo, iLimit, &pVal)==SQLITE_OK && pVal
     && sqlite3_value_type(pVal)==SQLITE_INTEGER ){
      double nLimit = (double)sqlite3_value_int64(pVal);
      if( nLimit>=0 && nLimit<nRow ) nRow = nLimit<1 ? 1 : nLimit;
    }
    if( iOffset>=0 ){
      zPlan[2*nSlot] = ES_CODE_OFFSET;
      zPlan[2*nSlot+1] = '.';
      nSlot++;
      pInfo->aConstraintUsage[iOffset].argvIndex = nSlot;
      pInfo->aConstraintUsage[iOffset].omit = 1;
    }
  }
  assert( nSlot<=63 && 2*nSlot<(int)sizeof(zPlan) );
  zPlan[2*nSlot] = 0;

  /* The storage columns the query reads (colUsed bit 63 means "63 and
  ** beyond", none of which exist). */
  for(i=0; i<ES_VCOL_COUNT; i++){
    if( colUsed & (((sqlite3_uint64)1)<<i) ){
      idxNum |= storageColumnsOf(i) << 1;
    }
  }

  pInfo->estimatedRows = (sqlite3_int64)nRow;
  pInfo->estimatedCost = nRow + (shape.bUnique || shape.bStream ? 10.0 : 0.0)
                       + (nSlot==0 ? 0.0 : 1.0);
  if( shape.bUnique ) pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  pInfo->idxNum = idxNum;
  pInfo->idxStr = sqlite3_mprintf("%s", zPlan);
  if( pInfo->idxStr==0 ) return SQLITE_NOMEM;
  pInfo->needToFreeIdxStr = 1;
  return SQLITE_OK;
}

static const char *sqlOperator(char cOp){
  switch( cOp ){
    case '<': return "<";
    case '{': return "<=";
    case '>': return ">";
    case '}': return ">=";
  }
  return "=";
}

/* The es_events column that filter code cCol compares. */
static const char *storageColumnOf(char cCol){
  const EsColumn *pCol = esColumnsByCode(cCol);
  assert( pCol && pCol->iScol>=0 );
  return esColumnsStorage[pCol->iScol];
}

/* The first slot of a plan whose column is cCol and operator '=', or -1. */
static int findEq(const char *idxStr, char cCol){
  int i;
  for(i=0; idxStr[2*i]; i++){
    if( idxStr[2*i]==cCol && idxStr[2*i+1]=='=' ) return i;
  }
  return -1;
}

/*
** True if occurred_at's index should serve the plan (see es_internal.h):
** an occurred_at range and no other filter that an index serves, a range
** of positions aside.
*/
static int occurredDriver(const char *idxStr){
  int i, bOther = 0, bOccurred = 0;
  for(i=0; idxStr[2*i]; i++){
    char cCol = idxStr[2*i], cOp = idxStr[2*i+1];
    const EsColumn *pCol = esColumnsByCode(cCol);
    if( cCol==ES_CODE_OCCURRED_AT ){
      bOccurred = 1;
    }else if( pCol && pCol->bIndexed && cCol!=ES_CODE_STREAM_POSITION
           && (cCol!=ES_CODE_GLOBAL_POSITION || cOp=='=') ){
      bOther = 1;
    }
  }
  return bOccurred && !bOther;
}

static const char *indexedBy(const char *idxStr){
  return occurredDriver(idxStr) ? " INDEXED BY es_events_occurred_at" : "";
}

/*
** The ORDER BY of a plan's query.  In one stream, stream order is global
** order: saying stream_position lets SQLite walk the stream index without
** sorting.  A plan that need not be ordered
** (no ORDER BY consumed) and is driven by occurred_at returns rows in
** occurred_at order, with no sort at all.
*/
static const char *orderBy(int idxNum, const char *idxStr, int bStream){
  int bDesc = (idxNum & ES_PLAN_DESC)!=0;
  if( bStream ){
    return bDesc ? " ORDER BY stream_position DESC" : " ORDER BY stream_position";
  }
  if( occurredDriver(idxStr) && (idxNum & ES_PLAN_ORDERED)==0 ){
    return " ORDER BY occurred_at, global_position";
  }
  if( (idxNum & ES_PLAN_ORDERED)==0 && findEq(idxStr, ES_CODE_AGGREGATE_ID)>=0 ) return "";
  {
    int i;
    for(i=0; idxStr[2*i]; i++){
      if( idxStr[2*i+1]=='i' && (idxNum & ES_PLAN_ORDERED)==0 ) return "";
    }
  }
  return bDesc ? " ORDER BY global_position DESC" : " ORDER BY global_position";
}

/* The slot of the plan's first IN list, or -1.  Only that one is merged;
** any further IN list is a json_each() term. */
static int firstInList(const char *idxStr){
  int i;
  for(i=0; idxStr[2*i]; i++){
    if( idxStr[2*i+1]=='i' ) return i;
  }
  return -1;
}

static int isMergePlan(int idxNum, const char *idxStr, int nIn){
  return firstInList(idxStr)>=0 && (idxNum & ES_PLAN_ORDERED)
      && nIn>=1 && nIn<=ES_PLAN_MERGE_MAX;
}

/*
** Append one SELECT of a plan's query: the columns, the table and every
** term.  iArm<0: an IN list is one json_each() term; iArm>=0: this SELECT
** takes the IN list's value number iArm (parameter ?ES_PLAN_IN_PARAM+iArm),
** one arm of a merge (see esPlanBuildSql).
*/
static void appendSelect(sqlite3_str *pStr, int idxNum, const char *idxStr,
                         int iArm, int *pbStream){
  int i, iAggId, iAggType;
  sqlite3_str_appendall(pStr, "SELECT ");
  for(i=0; i<ES_SCOL_COUNT; i++){
    int bUsed = (idxNum>>1) & (1<<i);
    sqlite3_str_appendf(pStr, "%s%s", i ? "," : "",
                        bUsed ? esColumnsStorage[i] : "NULL");
  }
  sqlite3_str_appendf(pStr, " FROM main.es_events%s WHERE global_position<=?1",
                      indexedBy(idxStr));

  iAggId = findEq(idxStr, ES_CODE_AGGREGATE_ID);
  iAggType = findEq(idxStr, ES_CODE_AGGREGATE_TYPE);
  if( iAggId>=0 && iAggType>=0 ){
    sqlite3_str_appendf(pStr, " AND stream_key=(SELECT stream_key FROM"
        " main.es_streams WHERE aggregate_id=?%d AND aggregate_type=?%d)",
        2*iAggId+2, 2*iAggType+2);
    *pbStream = 1;
  }else if( iAggId>=0 ){
    sqlite3_str_appendf(pStr, " AND stream_key IN (SELECT stream_key FROM"
        " main.es_streams WHERE aggregate_id=?%d)", 2*iAggId+2);
  }
  for(i=0; idxStr[2*i]; i++){
    char cCol = idxStr[2*i], cOp = idxStr[2*i+1];
    int iParam = 2*i+2;
    if( (cCol==ES_CODE_AGGREGATE_ID && i==iAggId) || (cCol==ES_CODE_AGGREGATE_TYPE && i==iAggType && iAggId>=0) ){
      continue;   /* already in the stream_key subquery above */
    }
    switch( cCol ){
      case ES_CODE_STREAM_ID:
        sqlite3_str_appendf(pStr, " AND stream_key=(SELECT stream_key FROM"
            " main.es_streams WHERE aggregate_id=?%d AND aggregate_type=?%d)",
            iParam, iParam+1);
        *pbStream = 1;
        break;
      case ES_CODE_LIMIT: case ES_CODE_OFFSET:
        break;
      case ES_CODE_STORED_AT:
        /* A stored_at bound, turned into a global_position range by
        ** esPlanBind: [?(2i+2), ?(2i+3)). */
        sqlite3_str_appendf(pStr, " AND global_position>=?%d"
                            " AND global_position<?%d", iParam, iParam+1);
        break;
      default:
        if( cOp=='i' && iArm>=0 && i==firstInList(idxStr) ){
          sqlite3_str_appendf(pStr, " AND %s=?%d", storageColumnOf(cCol),
                              ES_PLAN_IN_PARAM + iArm);
        }else if( cOp=='i' ){
          sqlite3_str_appendf(pStr, " AND %s IN (SELECT value FROM"
              " json_each(?%d))", storageColumnOf(cCol), iParam);
        }else{
          sqlite3_str_appendf(pStr, " AND %s%s?%d", storageColumnOf(cCol),
                              sqlOperator(cOp), iParam);
        }
        break;
    }
  }
}

/*
** The SQL of a plan.  Parameters: ?1 is the snapshot bound (the highest
** global position when the cursor started: rows appended while it is open
** are not seen, so a scan that appends cannot run forever); argv slot i
** (0-based) is parameter ?(2*i+2), and for a stream id also ?(2*i+3),
** the id's two parts.
**
** An ordered plan with an IN list of nIn (1..ES_PLAN_MERGE_MAX) distinct
** values becomes a UNION ALL of one SELECT per value, each in index order,
** which SQLite merges without a sort: the rows stream in global order.
** Longer lists are one SELECT with event_type IN (json_each(...)).
*/
int esPlanBuildSql(EsVtab *pTab, int idxNum, const char *idxStr, int nIn,
                   char **pzSql){
  sqlite3_str *pStr = sqlite3_str_new(pTab->p->db);
  int i, bStream = 0;
  int bMerge = isMergePlan(idxNum, idxStr, nIn);

  if( bMerge ){
    idxNum |= (1<<ES_SCOL_GLOBAL_POSITION) << 1;   /* ORDER BY 1 needs it */
    for(i=0; i<nIn; i++){
      if( i ) sqlite3_str_appendall(pStr, " UNION ALL ");
      appendSelect(pStr, idxNum, idxStr, i, &bStream);
    }
    sqlite3_str_appendall(pStr, (idxNum & ES_PLAN_DESC) ? " ORDER BY 1 DESC"
                                                         : " ORDER BY 1");
  }else{
    appendSelect(pStr, idxNum, idxStr, -1, &bStream);
    sqlite3_str_appendall(pStr, orderBy(idxNum, idxStr, bStream));
  }
  for(i=0; idxStr[2*i]; i++){
    if( idxStr[2*i]==ES_CODE_LIMIT ) sqlite3_str_appendf(pStr, " LIMIT ?%d", 2*i+2);
  }
  for(i=0; idxStr[2*i]; i++){
    if( idxStr[2*i]==ES_CODE_OFFSET ) sqlite3_str_appendf(pStr, " OFFSET ?%d", 2*i+2);
  }
  *pzSql = sqlite3_str_finish(pStr);
  return *pzSql ? SQLITE_OK : SQLITE_NOMEM;
}

/*
** The distinct non-NULL values of the plan's IN list, compared as text
** (the column is text).  Up to ES_PLAN_MERGE_MAX copies are stored in
** apVal (free them with esPlanInFree); *pn is their count, or
** ES_PLAN_MERGE_MAX+1 for a longer list.  A plan without an IN list gives
** *pn = -1.
*/
int esPlanInValues(const char *idxStr, int argc, sqlite3_value **argv,
                   sqlite3_value **apVal, int *pn){
  int i, rc = SQLITE_OK, n = 0;
  sqlite3_value *pVal = 0;
  *pn = -1;
  for(i=0; idxStr[2*i] && i<argc; i++){
    if( idxStr[2*i+1]=='i' ) break;
  }
  if( idxStr[2*i]==0 || i>=argc ) return SQLITE_OK;
  for(rc=sqlite3_vtab_in_first(argv[i], &pVal); rc==SQLITE_OK && pVal;
      rc=sqlite3_vtab_in_next(argv[i], &pVal)){
    const char *z;
    int k, bDup = 0;
    if( sqlite3_value_type(pVal)==SQLITE_NULL ) continue;
    z = (const char*)sqlite3_value_text(pVal);
    if( z==0 ) return SQLITE_NOMEM;
    for(k=0; k<n && k<ES_PLAN_MERGE_MAX; k++){
      if( strcmp((const char*)sqlite3_value_text(apVal[k]), z)==0 ){
        bDup = 1;
        break;
      }
    }
    if( bDup ) continue;
    if( n<ES_PLAN_MERGE_MAX ){
      /* The iterator reuses its value object: keep a copy. */
      apVal[n] = sqlite3_value_dup(pVal);
      if( apVal[n]==0 ){
        rc = SQLITE_NOMEM;
        break;
      }
    }
    if( ++n>ES_PLAN_MERGE_MAX ) break;
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  *pn = n;
  if( rc!=SQLITE_OK ){
    esPlanInFree(apVal, n);
    *pn = -1;
  }
  return rc;
}

void esPlanInFree(sqlite3_value **apVal, int n){
  int i;
  for(i=0; i<n && i<ES_PLAN_MERGE_MAX; i++) sqlite3_value_free(apVal[i]);
}

/* The values of an IN list, as a JSON array of strings for json_each(). */
static int bindInList(sqlite3_stmt *pStmt, int iParam, sqlite3_value *pList,
                      sqlite3 *db){
  sqlite3_str *pStr = sqlite3_str_new(db);
  sqlite3_value *pVal = 0;
  int rc, bFirst = 1;
  char *z;
  sqlite3_str_appendchar(pStr, 1, '[');
  for(rc=sqlite3_vtab_in_first(pList, &pVal); rc==SQLITE_OK && pVal;
      rc=sqlite3_vtab_in_next(pList, &pVal)){
    const unsigned char *zVal;
    int n;
    if( sqlite3_value_type(pVal)==SQLITE_NULL ) continue;  /* never equal */
    zVal = sqlite3_value_text(pVal);
    n = sqlite3_value_bytes(pVal);
    if( zVal==0 ){ rc = SQLITE_NOMEM; break; }
    if( !bFirst ) sqlite3_str_appendchar(pStr, 1, ',');
    bFirst = 0;
    esJsonAppendString(pStr, (const char*)zVal, n);
  }
  sqlite3_str_appendchar(pStr, 1, ']');
  z = sqlite3_str_finish(pStr);
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( z==0 ) return SQLITE_NOMEM;
  if( rc!=SQLITE_OK ){
    sqlite3_free(z);
    return rc;
  }
  return sqlite3_bind_text(pStmt, iParam, z, -1, sqlite3_free);
}

static int bindError(EsVtab *pTab, const char *zColumn, sqlite3_value *pVal){
  sqlite3_free(pTab->base.zErrMsg);
  pTab->base.zErrMsg = sqlite3_mprintf("%s: %s: '%.64s' is not a timestamp"
      " (use ISO-8601 such as '2026-11-26T10:00:00Z' or"
      " '2026-11-26 12:00:00+02:00', or Unix seconds)", pTab->zName, zColumn,
      sqlite3_value_text(pVal));
  return SQLITE_ERROR;
}

/*
** A stored_at bound as the global_position range [?iParam, ?iParam+1):
**   > t   [first after t, end)      >= t   [first at or after t, end)
**   < t   [1, first at or after t)  <= t   [1, first after t)
**   = t   [first at or after t, first after t)
*/
static int bindStoredAtRange(EsVtab *pTab, sqlite3_stmt *pStmt, int iParam,
                             char cOp, i64 t, i64 iSnapshot){
  i64 lo = 1, hi = iSnapshot + 1;
  int rc = SQLITE_OK;
  if( cOp=='>' || cOp=='}' || cOp=='=' ){
    rc = esStorageStoredAtBound(pTab->p, t, cOp=='>', iSnapshot, &lo);
  }
  if( rc==SQLITE_OK && (cOp=='<' || cOp=='{' || cOp=='=') ){
    rc = esStorageStoredAtBound(pTab->p, t, cOp!='<', iSnapshot, &hi);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(pStmt, iParam, lo);
  if( rc==SQLITE_OK ) rc = sqlite3_bind_int64(pStmt, iParam+1, hi);
  return rc;
}

/*
** Bind argv to the statement of a plan.  A value that can match no row
** (a NULL, a malformed UUID, a stream id without ':') binds NULL, which
** then matches nothing, as the same comparison would in plain SQL.  A
** value that is not a timestamp, compared with a timestamp column, is an
** error.
*/
int esPlanBind(EsVtab *pTab, sqlite3_stmt *pStmt, int idxNum,
               const char *idxStr, int argc, sqlite3_value **argv,
               sqlite3_value **apIn, int nIn, i64 iSnapshot, int *pbEmpty){
  int i, rc = SQLITE_OK;
  int bMerge = isMergePlan(idxNum, idxStr, nIn);
  int iMerged = bMerge ? firstInList(idxStr) : -1;
  *pbEmpty = nIn==0;
  sqlite3_bind_int64(pStmt, 1, iSnapshot);
  if( bMerge ){
    for(i=0; i<nIn && rc==SQLITE_OK; i++){
      rc = sqlite3_bind_value(pStmt, ES_PLAN_IN_PARAM + i, apIn[i]);
    }
  }
  for(i=0; idxStr[2*i] && i<argc && rc==SQLITE_OK; i++){
    char cCol = idxStr[2*i], cOp = idxStr[2*i+1];
    int iParam = 2*i+2;
    sqlite3_value *pVal = argv[i];
    switch( cCol ){
      case ES_CODE_STREAM_ID: {
        const char *z = (const char*)sqlite3_value_text(pVal);
        int n = sqlite3_value_bytes(pVal), nId = 0;
        if( sqlite3_value_type(pVal)!=SQLITE_NULL && z
         && esArgsSplitStreamId(z, n, &nId)==0 ){
          rc = sqlite3_bind_text(pStmt, iParam, z, nId, SQLITE_TRANSIENT);
          if( rc==SQLITE_OK ){
            rc = sqlite3_bind_text(pStmt, iParam+1, z+nId+1, n-nId-1,
                                   SQLITE_TRANSIENT);
          }
        }else{
          *pbEmpty = 1;
        }
        break;
      }
      case ES_CODE_EVENT_ID: case ES_CODE_CORRELATION_ID: case ES_CODE_CAUSATION_ID: {
        u8 a[16];
        if( esUuidFromValue(pVal, a)==0 ){
          rc = sqlite3_bind_blob(pStmt, iParam, a, 16, SQLITE_TRANSIENT);
        }else{
          *pbEmpty = 1;
        }
        break;
      }
      case ES_CODE_OCCURRED_AT: case ES_CODE_STORED_AT: {
        i64 t;
        switch( esTimestampFromValue(pVal, &t) ){
          case 0:
            if( cCol==ES_CODE_OCCURRED_AT ){
              rc = sqlite3_bind_int64(pStmt, iParam, t);
            }else{
              rc = bindStoredAtRange(pTab, pStmt, iParam, cOp, t, iSnapshot);
            }
            break;
          case 2: *pbEmpty = 1; break;
          default:
            return bindError(pTab, cCol==ES_CODE_OCCURRED_AT ? "occurred_at" : "stored_at",
                             pVal);
        }
        break;
      }
      case ES_CODE_EVENT_TYPE:
        if( cOp=='i' ){
          if( i!=iMerged ) rc = bindInList(pStmt, iParam, pVal, pTab->p->db);
        }else{
          rc = sqlite3_bind_value(pStmt, iParam, pVal);
        }
        break;
      default:
        if( sqlite3_value_type(pVal)==SQLITE_NULL && cCol!=ES_CODE_LIMIT && cCol!=ES_CODE_OFFSET ){
          *pbEmpty = 1;
        }
        rc = sqlite3_bind_value(pStmt, iParam, pVal);
        break;
    }
  }
  return rc;
}
