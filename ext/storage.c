/*
** storage.c -- the statements that read and write the es_* tables.
**
** The layout is storage format 2 (schema.c, THE FORMAT, has the DDL).
** Events refer to their stream and to their kind (aggregate type and event
** type) by small integer keys, so that indexes hold integers instead of
** repeating text in every entry; global_position is the rowid: appending
** is an insert at the right edge of the table b-tree, and reading in
** global order is a plain rowid scan.
**
** A stream's version is its highest stream_position, found by one seek in
** the unique index (stream_key, stream_position): O(log n), never a scan
** of the stream, and there is no separate counter to keep in step.
**
** Every statement names the main schema explicitly, so a TEMP table that
** happens to be called es_events is never read or written instead.
*/
#include "es_internal.h"

/* The tables of a store, of any format (schema.c). */
#define ES_STORE_TABLES "'es_meta','es_streams','es_events','es_kinds'," \
                        "'es_consumers','es_snapshots'"

const char *const esStorageSql[ES_STMT_COUNT] = {
  /* ES_STMT_BEGIN */           "BEGIN",
  /* ES_STMT_BEGIN_IMMEDIATE */ "BEGIN IMMEDIATE",
  /* ES_STMT_COMMIT */          "COMMIT",
  /* ES_STMT_ROLLBACK */        "ROLLBACK",
  /* ES_STMT_SAVEPOINT */       "SAVEPOINT es_append",
  /* ES_STMT_RELEASE */         "RELEASE es_append",
  /* ES_STMT_ROLLBACK_TO */     "ROLLBACK TO es_append",
  /* ES_STMT_STREAM_LOOKUP */
    "SELECT s.stream_key,"
    " (SELECT max(e.stream_position) FROM main.es_events e"
    "   WHERE e.stream_key=s.stream_key)"
    " FROM main.es_streams s WHERE s.aggregate_id=?1 AND s.aggregate_type=?2",
  /* ES_STMT_APPEND_LOOKUP: what es_append needs before it writes, in one
  ** statement: the stream's key and version, the newest stored_at, and the
  ** kind of the first event's type.  Always one row (key NULL if the
  ** stream does not exist, kind NULL if the kind does not). */
    "SELECT s.stream_key,"
    " (SELECT max(e.stream_position) FROM main.es_events e"
    "   WHERE e.stream_key=s.stream_key),"
    " (SELECT stored_at FROM main.es_events ORDER BY global_position DESC"
    "   LIMIT 1),"
    " (SELECT kind FROM main.es_kinds WHERE event_type=?3"
    "   AND aggregate_type=?2)"
    " FROM (SELECT 1) LEFT JOIN main.es_streams s"
    " ON s.aggregate_id=?1 AND s.aggregate_type=?2",
  /* ES_STMT_NEXT_STREAM_KEY */
    "SELECT coalesce(max(stream_key),0)+1 FROM main.es_streams",
  /* ES_STMT_INSERT_STREAM */
    "INSERT INTO main.es_streams(stream_key,aggregate_id,aggregate_type)"
    " VALUES(?1,?2,?3)",
  /* ES_STMT_INSERT_EVENT: a stored event_id makes this a no-op (changes()
  ** is 0), which is how duplicates are found without a lookup per event.
  ** NULL event_version, occurred_at and metadata stand for their defaults
  ** (schema.c, THE FORMAT). */
    "INSERT INTO main.es_events(stream_key,stream_position,kind,event_id,"
    "event_version,tenant_id,actor_id,correlation_id,causation_id,"
    "occurred_at,stored_at,data,metadata)"
    " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
    " ON CONFLICT(event_id) DO NOTHING",
  /* ES_STMT_EVENT_BY_ID */
    "SELECT e.global_position,e.stream_key,e.stream_position,k.event_type,"
    "e.data FROM main.es_events e, main.es_kinds k"
    " WHERE e.event_id=?1 AND k.kind=e.kind",
  /* ES_STMT_EVENT_AT */
    "SELECT e.event_id,k.event_type,e.data,e.global_position"
    " FROM main.es_events e, main.es_kinds k"
    " WHERE e.stream_key=?1 AND e.stream_position=?2 AND k.kind=e.kind",
  /* ES_STMT_KIND_LOOKUP */
    "SELECT kind FROM main.es_kinds WHERE event_type=?1 AND aggregate_type=?2",
  /* ES_STMT_INSERT_KIND */
    "INSERT INTO main.es_kinds(aggregate_type,event_type) VALUES(?1,?2)",
  /* ES_STMT_LAST_EVENT */
    "SELECT global_position,stored_at FROM main.es_events"
    " ORDER BY global_position DESC LIMIT 1",
  /* ES_STMT_EVENT_EXISTS */
    "SELECT 1 FROM main.es_events WHERE event_id=?1",
  /* ES_STMT_COUNT_TABLES: how many of the store's tables exist (schema.c) */
    "SELECT count(*) FROM main.sqlite_schema WHERE type='table'"
    " AND name IN (" ES_STORE_TABLES ")",
  /* ES_STMT_SCHEMA_OBJECTS: the store's tables and everything on them (an
  ** application's table that is merely named like them is its own) */
    "SELECT type, name, tbl_name, sql FROM main.sqlite_schema"
    " WHERE tbl_name IN (" ES_STORE_TABLES ")"
    "    OR name IN (" ES_STORE_TABLES ")",
  /* ES_STMT_SCHEMA_VERSION: prepared only once es_meta exists */
    "SELECT value FROM main.es_meta WHERE key='schema_version'",
  /* ES_STMT_PROBE_STORED_AT: the first event at or after a position */
    "SELECT stored_at FROM main.es_events WHERE global_position>=?1"
    " ORDER BY global_position LIMIT 1",
  /* ES_STMT_STREAMS_OF: the streams of an aggregate id (the unique index
  ** on (aggregate_id, aggregate_type) serves it) */
    "SELECT stream_key FROM main.es_streams WHERE aggregate_id=?1"
    " ORDER BY stream_key LIMIT ?2",
  /* ES_STMT_INDEX_REFUSES: can the application's index ?1 on table ?2
  ** refuse a row (UNIQUE, partial, or on an expression, which can fail)? */
    "SELECT l.\"unique\" OR l.partial OR EXISTS (SELECT 1 FROM"
    " pragma_index_xinfo(?1,'main') WHERE cid=-2)"
    " FROM pragma_index_list(?2,'main') l WHERE l.name=?1",
  /* ES_STMT_TEMP_TRIGGERS: the application's TEMP triggers on the store */
    "SELECT count(*) FROM temp.sqlite_schema WHERE type='trigger'"
    " AND tbl_name IN (" ES_STORE_TABLES ")",
  /* ES_STMT_JOURNAL_MODE */
    "PRAGMA main.journal_mode",
  /* ES_STMT_SCHEMA_COOKIE */
    "PRAGMA main.schema_version",
  /* ES_STMT_WRITE_LOCK: writes nothing, but takes the write lock as every
  ** write statement does before it runs (scope.c, takeWriteLock) */
    "UPDATE main.es_meta SET value=value WHERE 0",
  /* ES_STMT_KINDS_OF: the kinds of a JSON array of event types (NULL: any)
  ** and an aggregate type (NULL: any), for the virtual tables' arms */
    "SELECT kind FROM main.es_kinds WHERE (?1 IS NULL OR event_type IN"
    " (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR aggregate_type=?2)"
    " ORDER BY kind LIMIT ?3",
  /* ES_STMT_STREAM_NAMES, ES_STMT_KIND_NAMES (names.c) */
    "SELECT aggregate_id, aggregate_type FROM main.es_streams"
    " WHERE stream_key=?1",
    "SELECT aggregate_type, event_type FROM main.es_kinds WHERE kind=?1",
  /* ES_STMT_CHECKPOINT_GET, ES_STMT_CHECKPOINT_PUT (checkpoint.c) */
    "SELECT position FROM main.es_consumers WHERE name=?1",
    "INSERT INTO main.es_consumers(name,position,updated_at) VALUES(?1,?2,?3)"
    " ON CONFLICT(name) DO UPDATE SET position=excluded.position,"
    " updated_at=excluded.updated_at",
  /* ES_STMT_SNAPSHOT_GET, _PUT, _DELETE (snapshot.c) */
    "SELECT version, state, stored_at FROM main.es_snapshots"
    " WHERE stream_key=?1 AND schema_version=?2",
    "INSERT INTO main.es_snapshots(stream_key,schema_version,version,state,"
    "stored_at) VALUES(?1,?2,?3,?4,?5) ON CONFLICT(stream_key,schema_version)"
    " DO UPDATE SET version=excluded.version, state=excluded.state,"
    " stored_at=excluded.stored_at",
    "DELETE FROM main.es_snapshots WHERE stream_key=?1",
};

#undef ES_STORE_TABLES

/*
** Read the one row of a bound reading statement (esConnReadRow).  A
** database without the schema is an empty store: the "no such table" of a
** statement that cannot be (re)prepared is no row.
*/
static int readOneRow(EsConn *p, sqlite3_stmt *pStmt, int *pbRow, i64 *a,
                      int n){
  int rc = esConnReadRow(pStmt, a, n, pbRow);
  return rc==SQLITE_OK ? rc : esStorageReadFailed(p, rc);
}

/*
** A statement that reads the store failed with rc.  A database without the
** store is an empty store (SQLITE_OK).  Otherwise the reason is kept in
** p->zReadErr for the error message (esResultDbError): SQLite's message,
** saved before the probes below overwrite it, or, where part of the store
** is missing or it is of an older format, what the shape check says.
*/
int esStorageReadFailed(EsConn *p, int rc){
  char *zMsg, *zShape = 0;
  int iFormat = ES_SCHEMA_VERSION;
  if( rc==SQLITE_NOMEM ) return rc;
  zMsg = sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
  if( esSchemaIsMissingError(p, rc) ){
    sqlite3_free(zMsg);
    return SQLITE_OK;
  }
  if( (rc & 0xff)==SQLITE_ERROR ){
    if( esSchemaCheck(p, &iFormat, &zShape)!=SQLITE_OK && zShape ){
      sqlite3_free(zMsg);
      zMsg = zShape;
      zShape = 0;
    }else if( iFormat<ES_SCHEMA_VERSION ){
      sqlite3_free(zMsg);
      zMsg = sqlite3_mprintf("the store is in storage format %d, written by an"
          " older eventstore: es_init() upgrades it in place", iFormat);
    }
    sqlite3_free(zShape);
  }
  sqlite3_free(p->zReadErr);
  p->zReadErr = zMsg;
  return rc;
}

/* The cached statement of a reader; *pp is 0 if the store has no schema. */
int esStorageReader(EsConn *p, int eStmt, sqlite3_stmt **pp){
  int rc;
  sqlite3_free(p->zReadErr);
  p->zReadErr = 0;
  rc = esConnStmt(p, eStmt, pp);
  if( rc!=SQLITE_OK ){
    *pp = 0;
    rc = esStorageReadFailed(p, rc);
  }
  return rc;
}

/*
** Find a stream.  *piKey is its key (0 if it does not exist) and
** *piVersion its version (0 if it does not exist).
*/
int esStorageStreamLookup(EsConn *p, const char *zId, int nId, const char *zType,
                   int nType, i64 *piKey, i64 *piVersion){
  sqlite3_stmt *pStmt;
  i64 a[2] = {0, 0};
  int bRow, rc = esStorageReader(p, ES_STMT_STREAM_LOOKUP, &pStmt);
  if( rc==SQLITE_OK && pStmt ){
    sqlite3_bind_text(pStmt, 1, zId, nId, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, zType, nType, SQLITE_STATIC);
    rc = readOneRow(p, pStmt, &bRow, a, 2);
  }
  *piKey = a[0];
  *piVersion = a[1];
  return rc;
}

/* The highest global position; 0 for an empty store. */
int esStorageGlobalPosition(EsConn *p, i64 *piPos){
  sqlite3_stmt *pStmt;
  i64 a[1] = {0};
  int bRow, rc = esStorageReader(p, ES_STMT_LAST_EVENT, &pStmt);
  if( rc==SQLITE_OK && pStmt ){
    rc = readOneRow(p, pStmt, &bRow, a, 1);
  }
  *piPos = a[0];
  return rc;
}

int esStorageEventExists(EsConn *p, const u8 *aId16, int *pbExists){
  sqlite3_stmt *pStmt;
  int rc = esStorageReader(p, ES_STMT_EVENT_EXISTS, &pStmt);
  *pbExists = 0;
  if( rc==SQLITE_OK && pStmt ){
    sqlite3_bind_blob(pStmt, 1, aId16, 16, SQLITE_STATIC);
    rc = readOneRow(p, pStmt, pbExists, 0, 0);
  }
  return rc;
}

/*
** The smallest global position whose stored_at is > t (bAfter) or >= t,
** among positions up to iMax; iMax+1 if there is none.  stored_at never
** decreases along global_position (es_append makes it so, es_verify
** checks it), so this is a binary search on the rowid: O(log n) probes of
** O(log n) each, and no index on stored_at to keep up on every append.
*/
int esStorageStoredAtBound(EsConn *p, i64 t, int bAfter, i64 iMax, i64 *piPos){
  sqlite3_stmt *pStmt;
  i64 lo = 1, hi = iMax + 1;        /* the answer is in [lo, hi] */
  int rc = esConnStmt(p, ES_STMT_PROBE_STORED_AT, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  while( lo<hi ){
    i64 mid = lo + (hi - lo)/2;
    int bPast = 1;                  /* no row at or after mid: past the end */
    sqlite3_bind_int64(pStmt, 1, mid);
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      i64 s = sqlite3_column_int64(pStmt, 0);
      bPast = bAfter ? s>t : s>=t;
      rc = SQLITE_OK;
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }
    sqlite3_reset(pStmt);
    if( rc!=SQLITE_OK ) return rc;
    if( bPast ) hi = mid; else lo = mid + 1;
  }
  *piPos = lo;
  return SQLITE_OK;
}

/*
** Step pStmt, whose rows are one integer each, to its end: up to nMax
** values in aKey, and in *pn their count, or nMax+1 if there are more
** (the statement is bound to stop there).  Resets pStmt.
*/
static int readKeys(EsConn *p, sqlite3_stmt *pStmt, i64 *aKey, int nMax,
                    int *pn){
  int rc, n = 0;
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    if( n<nMax ) aKey[n] = sqlite3_column_int64(pStmt, 0);
    n++;
  }
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  if( rc!=SQLITE_DONE ) return esStorageReadFailed(p, rc);
  *pn = n;
  return SQLITE_OK;
}

/*
** The keys of the streams of aggregate id zId (one per aggregate type), up
** to nMax of them in aKey; *pn is their count, or nMax+1 if there are
** more.  A database without the schema has none.
*/
int esStorageStreamsOf(EsConn *p, const char *zId, int nId, i64 *aKey,
                       int nMax, int *pn){
  sqlite3_stmt *pStmt;
  int rc = esStorageReader(p, ES_STMT_STREAMS_OF, &pStmt);
  *pn = 0;
  if( rc!=SQLITE_OK || pStmt==0 ) return rc;
  sqlite3_bind_text(pStmt, 1, zId, nId, SQLITE_STATIC);
  sqlite3_bind_int(pStmt, 2, nMax+1);
  return readKeys(p, pStmt, aKey, nMax, pn);
}

/*
** The kinds (es_kinds) of the event types in the JSON array zTypesJson (NULL:
** any) and of the aggregate type pAggType (NULL: any), up to nMax in
** aKind; *pn is their count, or nMax+1 if there are more.
*/
int esStorageKindsOf(EsConn *p, const char *zTypesJson, sqlite3_value *pAggType,
                     i64 *aKind, int nMax, int *pn){
  sqlite3_stmt *pStmt;
  int rc = esStorageReader(p, ES_STMT_KINDS_OF, &pStmt);
  *pn = 0;
  if( rc!=SQLITE_OK || pStmt==0 ) return rc;
  if( zTypesJson ) sqlite3_bind_text(pStmt, 1, zTypesJson, -1, SQLITE_STATIC);
  if( pAggType ) sqlite3_bind_value(pStmt, 2, pAggType);
  sqlite3_bind_int(pStmt, 3, nMax+1);
  return readKeys(p, pStmt, aKind, nMax, pn);
}
