/*
** plan.c -- query planning for event_all and event_stream: xBestIndex,
** and the SQL that xFilter runs for a plan.  The idxNum/idxStr contract
** between the two is written once, in es_internal.h; what each column
** allows is in columns.c.
**
** ORDER.  Every plan returns its rows in global order (within one stream
** that is stream order), whether or not the query says ORDER BY; the one
** exception API.md allows is an unordered plan driven by an occurred_at
** range, which returns them in occurred_at order.  Two things make that
** hold without a sort step and with flat memory:
**   - each inner query names its driving index (INDEXED BY, NOT INDEXED),
**     one whose order is global order for the terms it serves, so SQLite
**     never sorts (driverIndex);
**   - rows that come from several ranges of an index (the streams of one
**     aggregate id, the values of an IN list) are read by one inner
**     statement per range, an "arm", and the cursor merges the arms by
**     global position (event_vtab.c).
** An IN list on any other column is left to SQLite: taking it as '=' would
** make SQLite call xFilter once per value, in list order.
**
** Cost model.  Costs are in "rows visited", against an assumed store of
** ES_PLAN_ROWS events (the same order of size SQLite assumes for a table
** it has no statistics for), so that joins with ordinary tables plan
** sensibly:
**     one event by event_id or global_position     1 row (UNIQUE)
**     one stream                                   ES_PLAN_STREAM_ROWS
**     an event_type, tenant or aggregate type      ROWS/20, times the
**                                                  values of an IN list
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
  int bStreams;       /* streams named by a list (s IN) */
  int bUnique;        /* e= or g= : at most one row */
  int bAggregateId;   /* a= without t= */
  int nEqIndexed;     /* y=, n=, t= */
  int nInValues;      /* an estimate of the values of y IN (...) */
  int nRange;         /* bounds on g, p, o, d */
  int nOther;         /* v, c, r, u */
};

static double estimateRows(const PlanShape *pS){
  double r;
  if( pS->bUnique ) return 1.0;
  if( pS->bStream ){
    r = ES_PLAN_STREAM_ROWS;
  }else if( pS->bStreams || pS->bAggregateId ){
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

/* Note what a taken constraint says about the plan's shape. */
static void addToShape(PlanShape *pS, char cCol, char cOp){
  switch( cCol ){
    case ES_CODE_STREAM_ID:
      if( cOp=='i' ) pS->bStreams = 1; else pS->bStream = 1;
      break;
    case ES_CODE_AGGREGATE_ID:   pS->bAggregateId = 1; break;
    case ES_CODE_AGGREGATE_TYPE: pS->nEqIndexed++; break;
    case ES_CODE_EVENT_ID:       pS->bUnique = 1; break;
    case ES_CODE_GLOBAL_POSITION:
      if( cOp=='=' ) pS->bUnique = 1; else pS->nRange++;
      break;
    case ES_CODE_EVENT_TYPE:
      if( cOp=='=' ) pS->nEqIndexed++; else pS->nInValues += 2;
      break;
    case ES_CODE_TENANT_ID:      pS->nEqIndexed++; break;
    case ES_CODE_STREAM_POSITION:
    case ES_CODE_OCCURRED_AT:
    case ES_CODE_STORED_AT:
      if( cOp=='=' ) pS->nOther++; else pS->nRange++;
      break;
    default: pS->nOther++; break;
  }
}

/*
** event_stream needs a stream: by stream_id (or its TVF argument, or a
** list of them), or by aggregate_id and aggregate_type.  If the query
** names one only with constraints that are not usable in this call (a
** join's other order), SQLITE_CONSTRAINT makes SQLite try another; if it
** names none at all, the error says how to.
*/
static int requireStream(EsVtab *pTab, sqlite3_index_info *pInfo){
  int i, bId = 0, bAggId = 0, bAggType = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pCons = &pInfo->aConstraint[i];
    if( pCons->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    switch( columnCode(pTab, pCons->iColumn) ){
      case ES_CODE_STREAM_ID:      bId = 1; break;
      case ES_CODE_AGGREGATE_ID:   bAggId = 1; break;
      case ES_CODE_AGGREGATE_TYPE: bAggType = 1; break;
    }
  }
  if( bId || (bAggId && bAggType) ) return SQLITE_CONSTRAINT;
  sqlite3_free(pTab->base.zErrMsg);
  pTab->base.zErrMsg = sqlite3_mprintf("event_stream: name a stream:"
      " event_stream('<aggregate_id>:<aggregate_type>'), WHERE stream_id ="
      " '<aggregate_id>:<aggregate_type>', or WHERE aggregate_id = ? AND"
      " aggregate_type = ?%s", bAggId ? " (aggregate_type is missing)"
                             : bAggType ? " (aggregate_id is missing)" : "");
  return SQLITE_ERROR;
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
      if( cCol==0 || cOp==0 || (cOp!='=' && !isRangeColumn(cCol))
       || !pCons->usable || nSlot>=62 ){
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
      if( cOp=='=' && sqlite3_vtab_in(pInfo, i, -1) ){
        /* An IN list: taken whole where the table can keep global order
        ** (event types and stream ids, merged by arms), else left to
        ** SQLite, which would otherwise iterate it value by value. */
        if( cCol!=ES_CODE_EVENT_TYPE && cCol!=ES_CODE_STREAM_ID ){
          bAllTaken = 0;
          continue;
        }
        sqlite3_vtab_in(pInfo, i, 1);
        cOp = 'i';
      }
      zPlan[2*nSlot] = cCol;
      zPlan[2*nSlot+1] = cOp;
      nSlot++;
      pInfo->aConstraintUsage[i].argvIndex = nSlot;
      pInfo->aConstraintUsage[i].omit = 1;
      if( cCol==ES_CODE_AGGREGATE_ID ) bHaveAggId = 1;
      if( cCol==ES_CODE_AGGREGATE_TYPE ) bHaveAggType = 1;
      addToShape(&shape, cCol, cOp);
    }
  }
  if( bHaveAggId && bHaveAggType ) shape.bStream = 1;
  if( shape.bStream ) shape.bAggregateId = 0;

  if( pTab->bStream && !shape.bStream && !shape.bStreams ){
    return requireStream(pTab, pInfo);
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
  ** beyond", none of which exist).  A merge of arms needs the position. */
  idxNum |= (1<<ES_SCOL_GLOBAL_POSITION) << 1;
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

/* ------------------------------------------------------ the inner query */

/* The first slot with column cCol and operator cOp (0: any), or -1. */
static int findSlot(const char *idxStr, char cCol, char cOp){
  int i;
  for(i=0; idxStr[2*i]; i++){
    if( idxStr[2*i]==cCol && (cOp==0 || idxStr[2*i+1]==cOp) ) return i;
  }
  return -1;
}

/* True if the plan names exactly one stream (s=, or a= with t=). */
static int namesOneStream(const char *idxStr){
  return findSlot(idxStr, ES_CODE_STREAM_ID, '=')>=0
      || (findSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')>=0
          && findSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=')>=0);
}

static int hasUniqueTerm(const char *idxStr){
  return findSlot(idxStr, ES_CODE_EVENT_ID, '=')>=0
      || findSlot(idxStr, ES_CODE_GLOBAL_POSITION, '=')>=0;
}

/*
** How the plan's rows are read: by one inner statement (ES_ARM_NONE), or
** by one per stream (ES_ARM_STREAM: the streams of an aggregate id, or a
** list of stream ids) or per event type of an IN list (ES_ARM_TYPE),
** merged by global position.  xFilter falls back to ES_ARM_NONE when
** there would be more than ES_PLAN_MERGE_MAX arms.
*/
int esPlanArmKind(const char *idxStr){
  if( namesOneStream(idxStr) || hasUniqueTerm(idxStr) ) return ES_ARM_NONE;
  if( findSlot(idxStr, ES_CODE_STREAM_ID, 'i')>=0
   || findSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')>=0 ){
    return ES_ARM_STREAM;
  }
  if( findSlot(idxStr, ES_CODE_EVENT_TYPE, 'i')>=0 ) return ES_ARM_TYPE;
  return ES_ARM_NONE;
}

/* The slot whose values the arms take (see esPlanArmKind), or -1. */
int esPlanArmSlot(const char *idxStr, int eArm){
  int i;
  switch( eArm ){
    case ES_ARM_STREAM:
      i = findSlot(idxStr, ES_CODE_STREAM_ID, 'i');
      return i>=0 ? i : findSlot(idxStr, ES_CODE_AGGREGATE_ID, '=');
    case ES_ARM_TYPE:
      return findSlot(idxStr, ES_CODE_EVENT_TYPE, 'i');
  }
  return -1;
}

/*
** The index that drives the plan's query, as the clause that follows the
** table's name, and whether the rows come in stream order.  Each choice
** reads its rows in global order (an equality on an index whose entries
** end in the rowid, the stream index within a stream, the rowid), so the
** query never sorts; only occurred_at's index reads in time order, which
** an ordered plan then sorts (the one sort a plan can have: the rows of
** an occurred_at range, in global order).
*/
static const char *driverIndex(const char *idxStr, int eArm, int *pbStream,
                               int *pbUnique){
  *pbStream = *pbUnique = 0;
  if( findSlot(idxStr, ES_CODE_EVENT_ID, '=')>=0 ){
    *pbUnique = 1;
    return " INDEXED BY es_events_event_id";
  }
  if( findSlot(idxStr, ES_CODE_GLOBAL_POSITION, '=')>=0 ){
    *pbUnique = 1;
    return " NOT INDEXED";
  }
  if( namesOneStream(idxStr) || eArm==ES_ARM_STREAM ){
    *pbStream = 1;
    return " INDEXED BY es_events_stream";
  }
  if( findSlot(idxStr, ES_CODE_EVENT_TYPE, '=')>=0 || eArm==ES_ARM_TYPE ){
    return " INDEXED BY es_events_event_type";
  }
  if( findSlot(idxStr, ES_CODE_TENANT_ID, '=')>=0 ){
    return " INDEXED BY es_events_tenant";
  }
  if( findSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=')>=0 ){
    return " INDEXED BY es_events_aggregate_type";
  }
  if( findSlot(idxStr, ES_CODE_GLOBAL_POSITION, 0)>=0
   || findSlot(idxStr, ES_CODE_STORED_AT, 0)>=0 ){
    return " NOT INDEXED";
  }
  if( findSlot(idxStr, ES_CODE_OCCURRED_AT, 0)>=0 ){
    return " INDEXED BY es_events_occurred_at";
  }
  return " NOT INDEXED";
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

/* The term of slot i (parameter ?iParam), or of the arm (?ES_PLAN_ARM). */
static void appendTerm(sqlite3_str *pStr, const char *idxStr, int i,
                       int iArmSlot){
  char cCol = idxStr[2*i], cOp = idxStr[2*i+1];
  int iParam = 2*i+2;
  if( i==iArmSlot ){
    sqlite3_str_appendf(pStr, " AND %s=?%d", cCol==ES_CODE_EVENT_TYPE ?
                        "event_type" : "stream_key", ES_PLAN_ARM_PARAM);
    return;
  }
  switch( cCol ){
    case ES_CODE_STREAM_ID:
      if( cOp=='i' ){
        sqlite3_str_appendf(pStr, " AND aggregate_id||':'||aggregate_type IN"
            " (SELECT value FROM json_each(?%d))", iParam);
      }else{
        sqlite3_str_appendf(pStr, " AND stream_key=(SELECT stream_key FROM"
            " main.es_streams WHERE aggregate_id=?%d AND aggregate_type=?%d)",
            iParam, iParam+1);
      }
      break;
    case ES_CODE_AGGREGATE_ID: {
      int iType = findSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=');
      if( iType>=0 ){
        sqlite3_str_appendf(pStr, " AND stream_key=(SELECT stream_key FROM"
            " main.es_streams WHERE aggregate_id=?%d AND aggregate_type=?%d)",
            iParam, 2*iType+2);
      }else{
        sqlite3_str_appendf(pStr, " AND stream_key IN (SELECT stream_key"
            " FROM main.es_streams WHERE aggregate_id=?%d)", iParam);
      }
      break;
    }
    case ES_CODE_AGGREGATE_TYPE:
      if( findSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')<0 ){
        sqlite3_str_appendf(pStr, " AND aggregate_type=?%d", iParam);
      }
      break;                /* else in the aggregate id's stream term */
    case ES_CODE_LIMIT:
    case ES_CODE_OFFSET:
      break;
    case ES_CODE_STORED_AT:
      /* A stored_at bound, turned into a global_position range by
      ** esPlanBind: [?(2i+2), ?(2i+3)). */
      sqlite3_str_appendf(pStr, " AND global_position>=?%d"
                          " AND global_position<?%d", iParam, iParam+1);
      break;
    default:
      if( cOp=='i' ){
        sqlite3_str_appendf(pStr, " AND %s IN (SELECT value FROM"
            " json_each(?%d))", storageColumnOf(cCol), iParam);
      }else{
        sqlite3_str_appendf(pStr, " AND %s%s?%d", storageColumnOf(cCol),
                            sqlOperator(cOp), iParam);
      }
      break;
  }
}

/*
** The SQL of a plan, read as eArm says (esPlanArmKind).  Parameters: ?1
** is the snapshot bound (the highest global position when the cursor
** started: rows appended while it is open are not seen, so a scan that
** appends cannot run forever); argv slot i (0-based) is parameter
** ?(2*i+2), and for a stream id also ?(2*i+3), the id's two parts.  An
** arm's stream key or event type is ?ES_PLAN_ARM_PARAM, and LIMIT in an
** arm ?ES_PLAN_ARM_LIMIT_PARAM: the cursor applies LIMIT and OFFSET to
** the merged rows, so each arm reads at most LIMIT + OFFSET of them.
*/
int esPlanBuildSql(EsVtab *pTab, int idxNum, const char *idxStr, int eArm,
                   char **pzSql){
  sqlite3_str *pStr = sqlite3_str_new(pTab->p->db);
  int i, bStream, bUnique, iArmSlot = esPlanArmSlot(idxStr, eArm);
  int bDesc = (idxNum & ES_PLAN_DESC)!=0;
  const char *zIndex = driverIndex(idxStr, eArm, &bStream, &bUnique);

  sqlite3_str_appendall(pStr, "SELECT ");
  for(i=0; i<ES_SCOL_COUNT; i++){
    int bUsed = (idxNum>>1) & (1<<i);
    sqlite3_str_appendf(pStr, "%s%s", i ? "," : "",
                        bUsed ? esColumnsStorage[i] : "NULL");
  }
  sqlite3_str_appendf(pStr, " FROM main.es_events%s WHERE global_position<=?1",
                      zIndex);
  for(i=0; idxStr[2*i]; i++) appendTerm(pStr, idxStr, i, iArmSlot);

  if( bUnique ){
    /* at most one row */
  }else if( bStream ){
    sqlite3_str_appendall(pStr, bDesc ? " ORDER BY stream_position DESC"
                                      : " ORDER BY stream_position");
  }else if( strstr(zIndex, "occurred_at") && (idxNum & ES_PLAN_ORDERED)==0 ){
    sqlite3_str_appendall(pStr, " ORDER BY occurred_at, global_position");
  }else{
    sqlite3_str_appendall(pStr, bDesc ? " ORDER BY global_position DESC"
                                      : " ORDER BY global_position");
  }
  if( eArm!=ES_ARM_NONE ){
    if( findSlot(idxStr, ES_CODE_LIMIT, 0)>=0 ){
      sqlite3_str_appendf(pStr, " LIMIT ?%d", ES_PLAN_ARM_LIMIT_PARAM);
    }
  }else{
    i = findSlot(idxStr, ES_CODE_LIMIT, 0);
    if( i>=0 ) sqlite3_str_appendf(pStr, " LIMIT ?%d", 2*i+2);
    i = findSlot(idxStr, ES_CODE_OFFSET, 0);
    if( i>=0 ) sqlite3_str_appendf(pStr, " OFFSET ?%d", 2*i+2);
  }
  *pzSql = sqlite3_str_finish(pStr);
  return *pzSql ? SQLITE_OK : SQLITE_NOMEM;
}

/* ----------------------------------------------------- binding the plan */

static int planError(EsVtab *pTab, const char *zFmt, ...){
  va_list ap;
  sqlite3_free(pTab->base.zErrMsg);
  va_start(ap, zFmt);
  pTab->base.zErrMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  return pTab->base.zErrMsg ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* A text filter value must be valid UTF-8 (API.md). */
static int checkText(EsVtab *pTab, char cCol, sqlite3_value *pVal){
  const char *z;
  int n;
  EsQuote q;
  if( sqlite3_value_type(pVal)!=SQLITE_TEXT ) return SQLITE_OK;
  z = (const char*)sqlite3_value_text(pVal);
  n = sqlite3_value_bytes(pVal);
  if( z==0 ) return SQLITE_NOMEM;
  if( esUtf8Check(z, n)==0 ) return SQLITE_OK;
  return planError(pTab, "%s: %s value '%s' is not valid UTF-8", pTab->zName,
                   esColumnsByCode(cCol)->zName, esUtf8Quote(&q, z, n));
}

/*
** A stream id filter value: *pnId is the length of its aggregate_id, or
** -1 if the value can match nothing (NULL, a blob).  Text that cannot
** name a stream is an error, as in every function (API.md).
*/
int esPlanStreamId(EsVtab *pTab, sqlite3_value *pVal, const char **pz,
                   int *pn, int *pnId){
  const char *zProblem;
  EsQuote q;
  int eType = sqlite3_value_type(pVal);
  *pnId = -1;
  if( eType==SQLITE_NULL || eType==SQLITE_BLOB ) return SQLITE_OK;
  *pz = (const char*)sqlite3_value_text(pVal);
  *pn = sqlite3_value_bytes(pVal);
  if( *pz==0 ) return SQLITE_NOMEM;
  zProblem = esArgsStreamIdProblem(*pz, *pn, pnId);
  if( zProblem==0 ) return SQLITE_OK;
  *pnId = -1;
  return planError(pTab, "%s: stream_id '%s' %s", pTab->zName,
                   esUtf8Quote(&q, *pz, *pn), zProblem);
}

/*
** The distinct non-NULL values of an IN list (pList, from argv), compared
** as text (the columns are text).  Up to nMax copies are stored in apVal
** (free them with esPlanInFree); *pn is their count, or nMax+1 for a
** longer list.
*/
int esPlanInValues(EsVtab *pTab, char cCol, sqlite3_value *pList,
                   sqlite3_value **apVal, int nMax, int *pn){
  int rc, n = 0;
  sqlite3_value *pVal = 0;
  *pn = 0;
  for(rc=sqlite3_vtab_in_first(pList, &pVal); rc==SQLITE_OK && pVal;
      rc=sqlite3_vtab_in_next(pList, &pVal)){
    const char *z;
    int k, bDup = 0;
    if( sqlite3_value_type(pVal)==SQLITE_NULL ) continue;
    rc = checkText(pTab, cCol, pVal);
    if( rc!=SQLITE_OK ) break;
    z = (const char*)sqlite3_value_text(pVal);
    if( z==0 ){ rc = SQLITE_NOMEM; break; }
    for(k=0; k<n; k++){
      if( strcmp((const char*)sqlite3_value_text(apVal[k]), z)==0 ){
        bDup = 1;
        break;
      }
    }
    if( bDup ) continue;
    if( n==nMax ){ n++; break; }
    /* The iterator reuses its value object: keep a copy. */
    apVal[n] = sqlite3_value_dup(pVal);
    if( apVal[n]==0 ){ rc = SQLITE_NOMEM; break; }
    n++;
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( rc!=SQLITE_OK ){
    esPlanInFree(apVal, n>nMax ? nMax : n);
    return rc;
  }
  *pn = n;
  return SQLITE_OK;
}

void esPlanInFree(sqlite3_value **apVal, int n){
  int i;
  for(i=0; i<n; i++) sqlite3_value_free(apVal[i]);
}

/* The values of an IN list, as a JSON array of strings for json_each(). */
static int bindInList(EsVtab *pTab, sqlite3_stmt *pStmt, int iParam,
                      char cCol, sqlite3_value *pList){
  sqlite3_str *pStr = sqlite3_str_new(pTab->p->db);
  sqlite3_value *pVal = 0;
  int rc, bFirst = 1;
  char *z;
  sqlite3_str_appendchar(pStr, 1, '[');
  for(rc=sqlite3_vtab_in_first(pList, &pVal); rc==SQLITE_OK && pVal;
      rc=sqlite3_vtab_in_next(pList, &pVal)){
    const unsigned char *zVal;
    if( sqlite3_value_type(pVal)==SQLITE_NULL ) continue;  /* never equal */
    if( cCol==ES_CODE_STREAM_ID ){
      const char *zId;
      int nId, nIdPart;
      rc = esPlanStreamId(pTab, pVal, &zId, &nId, &nIdPart);
      if( rc!=SQLITE_OK ) break;
      if( nIdPart<0 ) continue;
    }else{
      rc = checkText(pTab, cCol, pVal);
      if( rc!=SQLITE_OK ) break;
    }
    zVal = sqlite3_value_text(pVal);
    if( zVal==0 ){ rc = SQLITE_NOMEM; break; }
    if( !bFirst ) sqlite3_str_appendchar(pStr, 1, ',');
    bFirst = 0;
    esJsonAppendString(pStr, (const char*)zVal, sqlite3_value_bytes(pVal));
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

static int timestampError(EsVtab *pTab, char cCol, sqlite3_value *pVal){
  EsQuote q;
  const char *z = (const char*)sqlite3_value_text(pVal);
  return planError(pTab, "%s: %s: '%s' is not a timestamp (use ISO-8601"
      " such as '2026-11-26T10:00:00Z' or '2026-11-26 12:00:00+02:00', or"
      " Unix seconds)", pTab->zName, esColumnsByCode(cCol)->zName,
      esUtf8Quote(&q, z, sqlite3_value_bytes(pVal)));
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
** In event_stream, aggregate_id and aggregate_type name the stream: a
** value that cannot is an error, as in es_version (API.md).  In event_all
** they are plain filters.
*/
static int checkStreamPart(EsVtab *pTab, char cCol, sqlite3_value *pVal){
  const char *z, *zProblem = 0;
  int n;
  EsQuote q;
  if( !pTab->bStream || sqlite3_value_type(pVal)!=SQLITE_TEXT ) return SQLITE_OK;
  if( cCol!=ES_CODE_AGGREGATE_ID && cCol!=ES_CODE_AGGREGATE_TYPE ){
    return SQLITE_OK;
  }
  z = (const char*)sqlite3_value_text(pVal);
  n = sqlite3_value_bytes(pVal);
  if( z==0 ) return SQLITE_NOMEM;
  if( cCol==ES_CODE_AGGREGATE_ID ){
    zProblem = esArgsAggregateIdProblem(z, n);
  }else if( esArgsTypeName(z, n) ){
    zProblem = "is not a valid type name (" ES_TYPE_NAME_RULE ")";
  }
  if( zProblem==0 ) return SQLITE_OK;
  return planError(pTab, "%s: %s '%s' %s", pTab->zName,
                   esColumnsByCode(cCol)->zName, esUtf8Quote(&q, z, n),
                   zProblem);
}

/* Bind slot i of the plan.  *pbEmpty: its value can match no row. */
static int bindSlot(EsVtab *pTab, sqlite3_stmt *pStmt, const char *idxStr,
                    int i, sqlite3_value *pVal, i64 iSnapshot, int *pbEmpty){
  char cCol = idxStr[2*i], cOp = idxStr[2*i+1];
  int iParam = 2*i+2, rc = SQLITE_OK;
  if( cOp=='i' ) return bindInList(pTab, pStmt, iParam, cCol, pVal);
  switch( columnKind(cCol) ){
    case ES_KIND_STREAM: {
      const char *z = 0;
      int n = 0, nId;
      rc = esPlanStreamId(pTab, pVal, &z, &n, &nId);
      if( rc==SQLITE_OK && nId<0 ) *pbEmpty = 1;
      if( rc==SQLITE_OK && nId>=0 ){
        rc = sqlite3_bind_text(pStmt, iParam, z, nId, SQLITE_TRANSIENT);
        if( rc==SQLITE_OK ){
          rc = sqlite3_bind_text(pStmt, iParam+1, z+nId+1, n-nId-1,
                                 SQLITE_TRANSIENT);
        }
      }
      return rc;
    }
    case ES_KIND_UUID: {
      u8 a[16];
      if( esUuidFromValue(pVal, a)!=0 ){
        *pbEmpty = 1;   /* NULL or not a UUID: equal to no stored id */
        return SQLITE_OK;
      }
      return sqlite3_bind_blob(pStmt, iParam, a, 16, SQLITE_TRANSIENT);
    }
    case ES_KIND_TIME: {
      i64 t;
      switch( esTimestampFromValue(pVal, &t) ){
        case 0:
          if( cCol==ES_CODE_OCCURRED_AT ){
            return sqlite3_bind_int64(pStmt, iParam, t);
          }
          return bindStoredAtRange(pTab, pStmt, iParam, cOp, t, iSnapshot);
        case 2:
          *pbEmpty = 1;
          return SQLITE_OK;
      }
      return timestampError(pTab, cCol, pVal);
    }
  }
  if( cCol!=ES_CODE_LIMIT && cCol!=ES_CODE_OFFSET ){
    if( sqlite3_value_type(pVal)==SQLITE_NULL ) *pbEmpty = 1;
    rc = checkText(pTab, cCol, pVal);
    if( rc==SQLITE_OK ) rc = checkStreamPart(pTab, cCol, pVal);
  }
  if( rc==SQLITE_OK ) rc = sqlite3_bind_value(pStmt, iParam, pVal);
  return rc;
}

/*
** Bind argv to the statement of a plan read as eArm says.  A value that
** can match no row (a NULL, a malformed UUID) sets *pbEmpty, as the same
** comparison would match nothing in plain SQL.  A value that cannot be
** compared (text that is not a timestamp, a stream id that cannot name a
** stream, invalid UTF-8) is an error.  The arm's own slot is bound per arm
** by the cursor.
*/
int esPlanBind(EsVtab *pTab, sqlite3_stmt *pStmt, const char *idxStr,
               int eArm, int argc, sqlite3_value **argv, i64 iSnapshot,
               int *pbEmpty){
  int i, rc, iArmSlot = esPlanArmSlot(idxStr, eArm);
  *pbEmpty = 0;
  rc = sqlite3_bind_int64(pStmt, 1, iSnapshot);
  for(i=0; idxStr[2*i] && i<argc && rc==SQLITE_OK; i++){
    if( i==iArmSlot ) continue;
    rc = bindSlot(pTab, pStmt, idxStr, i, argv[i], iSnapshot, pbEmpty);
  }
  return rc;
}

/*
** The LIMIT and OFFSET the plan consumed: *pnLimit -1 for none (or a
** negative LIMIT), *pnOffset 0 for none.
*/
void esPlanLimits(const char *idxStr, int argc, sqlite3_value **argv,
                  i64 *pnLimit, i64 *pnOffset){
  int i = findSlot(idxStr, ES_CODE_LIMIT, 0);
  *pnLimit = -1;
  *pnOffset = 0;
  if( i>=0 && i<argc ){
    *pnLimit = sqlite3_value_int64(argv[i]);
    if( *pnLimit<0 ) *pnLimit = -1;
  }
  i = findSlot(idxStr, ES_CODE_OFFSET, 0);
  if( i>=0 && i<argc ){
    *pnOffset = sqlite3_value_int64(argv[i]);
    if( *pnOffset<0 ) *pnOffset = 0;
  }
}
