/*
** plan.c -- query planning for event_all and event_stream: xBestIndex,
** and how xFilter reads a plan back (its slots, its arms, its LIMIT).  The
** idxNum/idxStr contract between the two is written once, in
** es_internal.h; what each column allows is in columns.c; the SQL a plan
** runs is built and bound in sql.c.
**
** ORDER.  Every plan returns its rows in global order (within one stream
** that is stream order), whether or not the query says ORDER BY; the one
** exception API.md allows is an unordered plan driven by an occurred_at
** range, which returns them in occurred_at order.  Two things make that
** hold without a sort step and with flat memory:
**   - each inner query names its driving index (INDEXED BY, NOT INDEXED),
**     one whose order is global order for the terms it serves, so SQLite
**     never sorts (sql.c, driverIndex);
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
  return 1<<esColumns[iCol].iScol;
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
        ** (event types and stream ids, whose ranges it merges), else left
        ** to SQLite, which would otherwise iterate it value by value. */
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

/* --------------------------------------------------- reading a plan back */

/* The first slot with column cCol and operator cOp (0: any), or -1. */
int esPlanFindSlot(const char *idxStr, char cCol, char cOp){
  int i;
  for(i=0; idxStr[2*i]; i++){
    if( idxStr[2*i]==cCol && (cOp==0 || idxStr[2*i+1]==cOp) ) return i;
  }
  return -1;
}

/* True if the plan names exactly one stream (s=, or a= with t=). */
int esPlanNamesOneStream(const char *idxStr){
  return esPlanFindSlot(idxStr, ES_CODE_STREAM_ID, '=')>=0
      || (esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')>=0
          && esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=')>=0);
}

static int hasUniqueTerm(const char *idxStr){
  return esPlanFindSlot(idxStr, ES_CODE_EVENT_ID, '=')>=0
      || esPlanFindSlot(idxStr, ES_CODE_GLOBAL_POSITION, '=')>=0;
}

/*
** How the plan's rows are read: by one inner statement (ES_ARM_NONE), or
** by arms merged in order (es_internal.h, EsArmKind): one per stream (the
** streams of an aggregate id, or a list of stream ids), one per kind of
** the event types and aggregate type asked for, or the two halves of an
** occurred_at range that drives the plan.  xFilter falls back to
** ES_ARM_NONE when there would be more than ES_PLAN_MERGE_MAX arms.
*/
int esPlanArmKind(const char *idxStr){
  if( esPlanNamesOneStream(idxStr) || hasUniqueTerm(idxStr) ) return ES_ARM_NONE;
  if( esPlanFindSlot(idxStr, ES_CODE_STREAM_ID, 'i')>=0
   || esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')>=0 ){
    return ES_ARM_STREAM;
  }
  if( esPlanFindSlot(idxStr, ES_CODE_EVENT_TYPE, 0)>=0
   || esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=')>=0 ){
    return ES_ARM_KIND;
  }
  if( esPlanFindSlot(idxStr, ES_CODE_OCCURRED_AT, 0)>=0
   && esPlanFindSlot(idxStr, ES_CODE_TENANT_ID, '=')<0
   && esPlanFindSlot(idxStr, ES_CODE_GLOBAL_POSITION, 0)<0
   && esPlanFindSlot(idxStr, ES_CODE_STORED_AT, 0)<0 ){
    return ES_ARM_OCCURRED;
  }
  return ES_ARM_NONE;
}

/* The slot whose values make the arms (see esPlanArmKind), or -1.  For
** ES_ARM_KIND, the event type's if there is one (else the aggregate
** type's); for ES_ARM_OCCURRED, the first occurred_at bound. */
int esPlanArmSlot(const char *idxStr, int eArm){
  int i;
  switch( eArm ){
    case ES_ARM_STREAM:
      i = esPlanFindSlot(idxStr, ES_CODE_STREAM_ID, 'i');
      return i>=0 ? i : esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_ID, '=');
    case ES_ARM_KIND:
      i = esPlanFindSlot(idxStr, ES_CODE_EVENT_TYPE, 0);
      return i>=0 ? i : esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=');
    case ES_ARM_OCCURRED:
      return esPlanFindSlot(idxStr, ES_CODE_OCCURRED_AT, 0);
  }
  return -1;
}

/*
** The LIMIT and OFFSET the plan consumed: *pnLimit -1 for none (or a
** negative LIMIT), *pnOffset 0 for none.
*/
void esPlanLimits(const char *idxStr, int argc, sqlite3_value **argv,
                  i64 *pnLimit, i64 *pnOffset){
  int i = esPlanFindSlot(idxStr, ES_CODE_LIMIT, 0);
  *pnLimit = -1;
  *pnOffset = 0;
  if( i>=0 && i<argc ){
    *pnLimit = sqlite3_value_int64(argv[i]);
    if( *pnLimit<0 ) *pnLimit = -1;
  }
  i = esPlanFindSlot(idxStr, ES_CODE_OFFSET, 0);
  if( i>=0 && i<argc ){
    *pnOffset = sqlite3_value_int64(argv[i]);
    if( *pnOffset<0 ) *pnOffset = 0;
  }
}
