/*
** sql.c -- the SQL of a plan: the inner query over main.es_events that a
** cursor runs for the plan xBestIndex chose (plan.c), and the binding of
** the plan's values to it.
**
** The query names its driving index itself (driverIndex), so that SQLite
** never sorts; the terms come from the plan's slots, one per argv value
** (appendTerm); an arm's own stream key or event type, and its LIMIT, are
** parameters of their own (es_internal.h, ES_PLAN_ARM_PARAM).  Binding
** checks each value as API.md asks: a value that can match nothing (NULL,
** a malformed UUID) makes the result empty, as in plain SQL; one that
** cannot be compared (not a timestamp, a stream id that cannot name a
** stream, invalid UTF-8) is an error.
*/
#include "../ext/es_internal.h"

/* ------------------------------------------------------------ the query */

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
  if( esPlanFindSlot(idxStr, ES_CODE_EVENT_ID, '=')>=0 ){
    *pbUnique = 1;
    return " INDEXED BY es_events_event_id";
  }
  if( esPlanFindSlot(idxStr, ES_CODE_GLOBAL_POSITION, '=')>=0 ){
    *pbUnique = 1;
    return " NOT INDEXED";
  }
  if( esPlanNamesOneStream(idxStr) || eArm==ES_ARM_STREAM ){
    *pbStream = 1;
    return " INDEXED BY es_events_stream";
  }
  if( esPlanFindSlot(idxStr, ES_CODE_EVENT_TYPE, '=')>=0 || eArm==ES_ARM_TYPE ){
    return " INDEXED BY es_events_event_type";
  }
  if( esPlanFindSlot(idxStr, ES_CODE_TENANT_ID, '=')>=0 ){
    return " INDEXED BY es_events_tenant";
  }
  if( esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=')>=0 ){
    return " INDEXED BY es_events_aggregate_type";
  }
  if( esPlanFindSlot(idxStr, ES_CODE_GLOBAL_POSITION, 0)>=0
   || esPlanFindSlot(idxStr, ES_CODE_STORED_AT, 0)>=0 ){
    return " NOT INDEXED";
  }
  if( esPlanFindSlot(idxStr, ES_CODE_OCCURRED_AT, 0)>=0 ){
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
      int iType = esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=');
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
      if( esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')<0 ){
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
int esSqlBuild(EsVtab *pTab, int idxNum, const char *idxStr, int eArm,
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
    if( esPlanFindSlot(idxStr, ES_CODE_LIMIT, 0)>=0 ){
      sqlite3_str_appendf(pStr, " LIMIT ?%d", ES_PLAN_ARM_LIMIT_PARAM);
    }
  }else{
    i = esPlanFindSlot(idxStr, ES_CODE_LIMIT, 0);
    if( i>=0 ) sqlite3_str_appendf(pStr, " LIMIT ?%d", 2*i+2);
    i = esPlanFindSlot(idxStr, ES_CODE_OFFSET, 0);
    if( i>=0 ) sqlite3_str_appendf(pStr, " OFFSET ?%d", 2*i+2);
  }
  *pzSql = sqlite3_str_finish(pStr);
  return *pzSql ? SQLITE_OK : SQLITE_NOMEM;
}

/* -------------------------------------------------------------- binding */

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
int esSqlStreamId(EsVtab *pTab, sqlite3_value *pVal, const char **pz,
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
int esSqlInValues(EsVtab *pTab, char cCol, sqlite3_value *pList,
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
    esSqlInFree(apVal, n>nMax ? nMax : n);
    return rc;
  }
  *pn = n;
  return SQLITE_OK;
}

void esSqlInFree(sqlite3_value **apVal, int n){
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
      rc = esSqlStreamId(pTab, pVal, &zId, &nId, &nIdPart);
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
  switch( esColumnsByCode(cCol) ? esColumnsByCode(cCol)->eKind : ES_KIND_PLAIN ){
    case ES_KIND_STREAM: {
      const char *z = 0;
      int n = 0, nId;
      rc = esSqlStreamId(pTab, pVal, &z, &n, &nId);
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
int esSqlBind(EsVtab *pTab, sqlite3_stmt *pStmt, const char *idxStr,
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
