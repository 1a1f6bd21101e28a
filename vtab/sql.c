/*
** sql.c -- the SQL of a plan: the inner query over main.es_events that a
** cursor runs for the plan xBestIndex chose (plan.c), and the binding of
** the plan's values to it.
**
** The query names its driving index itself (driverIndex), so that SQLite
** never sorts; the terms come from the plan's slots, one per argv value
** (appendTerm); an arm's own stream key, kind or rowid range, and its
** LIMIT, are parameters of their own (es_internal.h, ES_PLAN_ARM_PARAM).
** Event and aggregate types are compared as kinds (es_kinds), aggregate
** ids as streams (es_streams).  Binding
** checks each value as API.md asks: a value that can match nothing (NULL,
** a malformed UUID) makes the result empty, as in plain SQL; one that
** cannot be compared (not a timestamp, a stream id that cannot name a
** stream, invalid UTF-8) is an error.
*/
#include "../ext/es_internal.h"

/* ------------------------------------------------------------ the query */

/*
** The index that drives the plan's query (variant iVariant of an arm), as
** the clause that follows es_events' name, and whether the rows come in
** stream order.  Each choice reads its rows in global order (an equality
** on an index whose entries end in the rowid, the stream index within a
** stream, the rowid), so the query never sorts; only occurred_at's index
** reads in time order, which an ordered plan then sorts (the one sort a
** plan can have: the rows of an occurred_at range whose occurred_at was
** given, in global order).
*/
static const char *driverIndex(const char *idxStr, int eArm, int iVariant,
                               int *pbStream, int *pbUnique){
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
  if( eArm==ES_ARM_KIND ) return " INDEXED BY es_events_kind";
  if( esPlanFindSlot(idxStr, ES_CODE_TENANT_ID, '=')>=0 ){
    return " INDEXED BY es_events_tenant";
  }
  if( eArm==ES_ARM_OCCURRED && iVariant==1 ){
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

/* What the query compares for filter code cCol (esColumnsStorage). */
static const char *storageColumnOf(char cCol){
  const EsColumn *pCol = esColumnsByCode(cCol);
  assert( pCol && pCol->iScol>=0 );
  return esColumnsStorage[pCol->iScol];
}

/* The kinds term of event type or aggregate type slot i: the kinds of
** that type (for an IN list, of any of its types). */
static void appendKindTerm(sqlite3_str *pStr, const char *idxStr, int i){
  int iParam = 2*i+2;
  if( idxStr[2*i]==ES_CODE_AGGREGATE_TYPE ){
    sqlite3_str_appendf(pStr, " AND e.kind IN (SELECT kind FROM main.es_kinds"
                        " WHERE aggregate_type=?%d)", iParam);
  }else if( idxStr[2*i+1]=='i' ){
    sqlite3_str_appendf(pStr, " AND e.kind IN (SELECT kind FROM main.es_kinds"
        " WHERE event_type IN (SELECT value FROM json_each(?%d)))", iParam);
  }else{
    sqlite3_str_appendf(pStr, " AND e.kind IN (SELECT kind FROM main.es_kinds"
                        " WHERE event_type=?%d)", iParam);
  }
}

/*
** The term of slot i (parameter ?iParam), or of the arm
** (?ES_PLAN_ARM_PARAM), for variant iVariant of arm kind eArm.
*/
static void appendTerm(sqlite3_str *pStr, const char *idxStr, int i,
                       int eArm, int iVariant){
  char cCol = idxStr[2*i], cOp = idxStr[2*i+1];
  int iParam = 2*i+2;
  int iArmSlot = esPlanArmSlot(idxStr, eArm);
  switch( cCol ){
    case ES_CODE_STREAM_ID:
      if( eArm==ES_ARM_STREAM && i==iArmSlot ){
        sqlite3_str_appendf(pStr, " AND e.stream_key=?%d", ES_PLAN_ARM_PARAM);
      }else if( cOp=='i' ){
        sqlite3_str_appendf(pStr, " AND e.stream_key IN (SELECT s2.stream_key"
            " FROM main.es_streams s2 WHERE s2.aggregate_id||':'||"
            "s2.aggregate_type IN (SELECT value FROM json_each(?%d)))", iParam);
      }else{
        sqlite3_str_appendf(pStr, " AND e.stream_key=(SELECT stream_key FROM"
            " main.es_streams WHERE aggregate_id=?%d AND aggregate_type=?%d)",
            iParam, iParam+1);
      }
      break;
    case ES_CODE_AGGREGATE_ID: {
      int iType = esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=');
      if( eArm==ES_ARM_STREAM && i==iArmSlot ){
        sqlite3_str_appendf(pStr, " AND e.stream_key=?%d", ES_PLAN_ARM_PARAM);
      }else if( iType>=0 ){
        sqlite3_str_appendf(pStr, " AND e.stream_key=(SELECT stream_key FROM"
            " main.es_streams WHERE aggregate_id=?%d AND aggregate_type=?%d)",
            iParam, 2*iType+2);
      }else{
        sqlite3_str_appendf(pStr, " AND e.stream_key IN (SELECT stream_key"
            " FROM main.es_streams WHERE aggregate_id=?%d)", iParam);
      }
      break;
    }
    case ES_CODE_EVENT_TYPE:
    case ES_CODE_AGGREGATE_TYPE: {
      /* The arms of an ES_ARM_KIND plan are the kinds of its first event
      ** type and first aggregate type (esSqlKinds): the arm's term stands
      ** for both.  The first aggregate type is part of the first aggregate
      ** id's stream term.  Every other type slot has a term of its own. */
      int iFirstType = esPlanFindSlot(idxStr, ES_CODE_EVENT_TYPE, 0);
      int iFirstAgg = esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=');
      if( eArm==ES_ARM_KIND && i==iArmSlot ){
        sqlite3_str_appendf(pStr, " AND e.kind=?%d", ES_PLAN_ARM_PARAM);
      }else if( eArm==ES_ARM_KIND && (i==iFirstType || i==iFirstAgg) ){
        /* in the arm's kind */
      }else if( i==iFirstAgg
             && esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_ID, '=')>=0 ){
        /* in the stream term */
      }else{
        appendKindTerm(pStr, idxStr, i);
      }
      break;
    }
    case ES_CODE_LIMIT:
    case ES_CODE_OFFSET:
      break;
    case ES_CODE_STORED_AT:
      /* A stored_at bound, turned into a global_position range by
      ** esSqlBind: [?(2i+2), ?(2i+3)). */
      sqlite3_str_appendf(pStr, " AND e.global_position>=?%d"
                          " AND e.global_position<?%d", iParam, iParam+1);
      break;
    case ES_CODE_OCCURRED_AT:
      if( eArm==ES_ARM_OCCURRED ){
        /* Variant 0: the rowid range of [?ARM, ?ARM+1) (the cursor found
        ** it), where occurred_at is stored_at; variant 1: the index. */
        if( iVariant==0 && i==iArmSlot ){
          sqlite3_str_appendf(pStr, " AND e.occurred_at IS NULL"
              " AND e.global_position>=?%d AND e.global_position<?%d",
              ES_PLAN_ARM_PARAM, ES_PLAN_ARM_PARAM+1);
        }
        if( iVariant==1 ){
          if( i==iArmSlot ){
            sqlite3_str_appendall(pStr, " AND e.occurred_at IS NOT NULL");
          }
          sqlite3_str_appendf(pStr, " AND e.occurred_at%s?%d",
                              sqlOperator(cOp), iParam);
        }
        break;
      }
      sqlite3_str_appendf(pStr, " AND %s%s?%d", storageColumnOf(cCol),
                          sqlOperator(cOp), iParam);
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
** The SQL of variant iVariant of a plan read as eArm says (esPlanArmKind).
** Parameters: ?1 is the snapshot bound (the highest global position when
** the cursor started: rows appended while it is open are not seen, so a
** scan that appends cannot run forever); argv slot i (0-based) is
** parameter ?(2*i+2), and for a stream id also ?(2*i+3), the id's two
** parts.  An arm's own values are ?ES_PLAN_ARM_PARAM (and the next), its
** LIMIT ?ES_PLAN_ARM_LIMIT_PARAM: the cursor applies LIMIT and OFFSET to
** the merged rows, so each arm reads at most LIMIT + OFFSET of them.
** The names behind the stream and kind keys are not joined: the cursor
** decodes them (names.c).
*/
int esSqlBuild(EsVtab *pTab, int idxNum, const char *idxStr, int eArm,
               int iVariant, char **pzSql){
  sqlite3_str *pStr = sqlite3_str_new(pTab->p->db);
  int i, bStream, bUnique;
  int bDesc = (idxNum & ES_PLAN_DESC)!=0;
  const char *zIndex = driverIndex(idxStr, eArm, iVariant, &bStream, &bUnique);
  if( eArm==ES_ARM_OCCURRED ){
    idxNum |= (1<<ES_SCOL_OCCURRED_AT) << 1;    /* the merge reads it */
  }

  sqlite3_str_appendall(pStr, "SELECT ");
  for(i=0; i<ES_SCOL_COUNT; i++){
    int bUsed = (idxNum>>1) & (1<<i);
    sqlite3_str_appendf(pStr, "%s%s", i ? "," : "",
                        bUsed ? esColumnsStorage[i] : "NULL");
  }
  sqlite3_str_appendf(pStr, " FROM main.es_events e%s", zIndex);
  sqlite3_str_appendall(pStr, " WHERE e.global_position<=?1");
  for(i=0; idxStr[2*i]; i++) appendTerm(pStr, idxStr, i, eArm, iVariant);

  if( bUnique ){
    /* at most one row */
  }else if( bStream ){
    sqlite3_str_appendall(pStr, bDesc ? " ORDER BY e.stream_position DESC"
                                      : " ORDER BY e.stream_position");
  }else if( eArm==ES_ARM_OCCURRED && (idxNum & ES_PLAN_ORDERED)==0 ){
    /* Unordered: in occurred_at order, merged by it (event_vtab.c). */
    sqlite3_str_appendall(pStr, iVariant==1 ? " ORDER BY e.occurred_at,"
                          " e.global_position" : " ORDER BY e.global_position");
  }else{
    sqlite3_str_appendall(pStr, bDesc ? " ORDER BY e.global_position DESC"
                                      : " ORDER BY e.global_position");
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

/* The values of an IN list (or one value), as a JSON array of strings for
** json_each(), owned by the caller in *pz. */
static int inListJson(EsVtab *pTab, char cCol, sqlite3_value *pList, int bIn,
                      char **pz){
  sqlite3_str *pStr = sqlite3_str_new(pTab->p->db);
  sqlite3_value *pVal = 0;
  int rc = SQLITE_OK, bFirst = 1;
  sqlite3_str_appendchar(pStr, 1, '[');
  for(rc = bIn ? sqlite3_vtab_in_first(pList, &pVal) : SQLITE_OK,
      pVal = bIn ? pVal : pList;
      rc==SQLITE_OK && pVal;
      rc = bIn ? sqlite3_vtab_in_next(pList, &pVal) : SQLITE_DONE){
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
  *pz = sqlite3_str_finish(pStr);
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( *pz==0 ) return SQLITE_NOMEM;
  if( rc!=SQLITE_OK ){
    sqlite3_free(*pz);
    *pz = 0;
  }
  return rc;
}

static int bindInList(EsVtab *pTab, sqlite3_stmt *pStmt, int iParam,
                      char cCol, sqlite3_value *pList){
  char *z = 0;
  int rc = inListJson(pTab, cCol, pList, 1, &z);
  if( rc!=SQLITE_OK ) return rc;
  return sqlite3_bind_text(pStmt, iParam, z, -1, sqlite3_free);
}

/*
** The kinds an ES_ARM_KIND plan reads: those of its event types (a value
** or an IN list) and its aggregate type, each either absent; up to
** ES_PLAN_MERGE_MAX of them, *pn their count (or one more: too many).
*/
int esSqlKinds(EsVtab *pTab, const char *idxStr, int argc, sqlite3_value **argv,
               i64 *aKind, int *pn){
  int iType = esPlanFindSlot(idxStr, ES_CODE_EVENT_TYPE, 0);
  int iAgg = esPlanFindSlot(idxStr, ES_CODE_AGGREGATE_TYPE, '=');
  sqlite3_value *pAgg = 0;
  char *zTypes = 0;
  int rc = SQLITE_OK;
  *pn = 0;
  if( iType>=argc || iAgg>=argc ) return SQLITE_OK;
  if( iType>=0 ){
    rc = inListJson(pTab, ES_CODE_EVENT_TYPE, argv[iType],
                    idxStr[2*iType+1]=='i', &zTypes);
  }
  if( rc==SQLITE_OK && iAgg>=0 ){
    pAgg = argv[iAgg];
    if( sqlite3_value_type(pAgg)==SQLITE_NULL ){
      sqlite3_free(zTypes);
      return SQLITE_OK;                     /* = NULL: no rows */
    }
    rc = checkText(pTab, ES_CODE_AGGREGATE_TYPE, pAgg);
  }
  if( rc==SQLITE_OK ){
    rc = esStorageKindsOf(pTab->p, zTypes, pAgg, aKind, ES_PLAN_MERGE_MAX, pn);
  }
  sqlite3_free(zTypes);
  return rc;
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
** The global_position range [*piLo, *piHi) of the events whose stored_at
** is within the plan's occurred_at bounds: an ES_ARM_OCCURRED plan reads
** the events whose occurred_at is their stored_at there.  *pbEmpty: a
** bound is NULL, which matches nothing.
*/
int esSqlStoredAtRange(EsVtab *pTab, const char *idxStr, int argc,
                       sqlite3_value **argv, i64 iSnapshot, i64 *piLo,
                       i64 *piHi, int *pbEmpty){
  int i, rc = SQLITE_OK;
  *piLo = 1;
  *piHi = iSnapshot + 1;
  *pbEmpty = 0;
  for(i=0; idxStr[2*i] && i<argc && rc==SQLITE_OK; i++){
    char cOp = idxStr[2*i+1];
    i64 t, lo = 1, hi = iSnapshot + 1;
    if( idxStr[2*i]!=ES_CODE_OCCURRED_AT ) continue;
    switch( esTimestampFromValue(argv[i], &t) ){
      case 2: *pbEmpty = 1; return SQLITE_OK;
      case 1: return timestampError(pTab, ES_CODE_OCCURRED_AT, argv[i]);
    }
    if( cOp=='>' || cOp=='}' || cOp=='=' ){
      rc = esStorageStoredAtBound(pTab->p, t, cOp=='>', iSnapshot, &lo);
    }
    if( rc==SQLITE_OK && (cOp=='<' || cOp=='{' || cOp=='=') ){
      rc = esStorageStoredAtBound(pTab->p, t, cOp!='<', iSnapshot, &hi);
    }
    if( lo>*piLo ) *piLo = lo;
    if( hi<*piHi ) *piHi = hi;
  }
  return rc;
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
  /* (An arm's stream or kind slot is the arm's own; occurred_at's is not:
  ** variant 1 of its arms compares it.) */
  int i, rc, iArmSlot = eArm==ES_ARM_OCCURRED ? -1 : esPlanArmSlot(idxStr, eArm);
  *pbEmpty = 0;
  rc = sqlite3_bind_int64(pStmt, 1, iSnapshot);
  for(i=0; idxStr[2*i] && i<argc && rc==SQLITE_OK; i++){
    if( i==iArmSlot ) continue;
    rc = bindSlot(pTab, pStmt, idxStr, i, argv[i], iSnapshot, pbEmpty);
  }
  return rc;
}
