/*
** upgrade.c -- upgrading a store written in an older storage format, in
** place (es_init, or the first append of a connection: esSchemaCreate).
**
** Formats chain: esUpgrade runs the step from each format to the next
** until this build's.  Every step runs inside the caller's write scope
** (scope.c), so a store is upgraded whole or not at all: a crash, an
** interrupt or an error in the middle leaves the older format, intact.
** Every event keeps its global position, stream position, id, times,
** data and metadata; event_all shows the same rows before and after.
**
** Format 1 -> 2 (schema.c, THE FORMAT): the event types and aggregate
** types move into the es_kinds dictionary, aggregate_id and
** aggregate_type leave es_events (es_streams has them), defaults become
** NULL, occurred_at is kept only where it differs from stored_at, and
** the consumer and snapshot tables are added.  es_events is rebuilt: the
** old table is renamed, the new one created under the store's name and
** filled in global order, the old one dropped, and the indexes built
** after the rows are in (faster than growing them row by row).
**
** The application's own indexes on es_events would not survive the
** rebuild (some name columns that format 2 no longer has): the upgrade
** refuses, and says which, rather than drop them.
*/
#include "es_internal.h"

/* The application's indexes on es_events, as an owned list, or 0. */
static int ownIndexes(EsConn *p, char **pzList){
  sqlite3_stmt *pStmt = 0;
  sqlite3_str *pStr = sqlite3_str_new(p->db);
  int rc = sqlite3_prepare_v2(p->db, "SELECT group_concat(name, ', ') FROM"
      " main.sqlite_schema WHERE type='index' AND tbl_name='es_events'"
      " AND sql IS NOT NULL AND name NOT IN ('es_events_stream',"
      " 'es_events_event_id', 'es_events_event_type',"
      " 'es_events_aggregate_type', 'es_events_tenant',"
      " 'es_events_occurred_at')", -1, &pStmt, 0);
  if( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW
   && sqlite3_column_type(pStmt, 0)!=SQLITE_NULL ){
    sqlite3_str_appendall(pStr, (const char*)sqlite3_column_text(pStmt, 0));
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(pStmt); else sqlite3_finalize(pStmt);
  /* The error code is read before sqlite3_str_finish() frees pStr
  ** (valgrind found it read after). */
  if( rc==SQLITE_OK && sqlite3_str_errcode(pStr)==SQLITE_NOMEM ) rc = SQLITE_NOMEM;
  *pzList = sqlite3_str_finish(pStr);
  return rc;
}

/* The statements of the step from format 1 to format 2. */
static const char *const azFrom1[] = {
  "ALTER TABLE main.es_events RENAME TO es_events_format1",
  "CREATE TABLE main.es_kinds(kind INTEGER PRIMARY KEY, aggregate_type TEXT"
  " NOT NULL, event_type TEXT NOT NULL, UNIQUE(event_type, aggregate_type))",
  "INSERT INTO main.es_kinds(aggregate_type, event_type)"
  " SELECT aggregate_type, event_type FROM main.es_events_format1"
  " GROUP BY aggregate_type, event_type ORDER BY min(global_position)",
  "CREATE TABLE main.es_events(global_position INTEGER PRIMARY KEY,"
  " stream_key INTEGER NOT NULL, stream_position INTEGER NOT NULL,"
  " kind INTEGER NOT NULL, event_id BLOB NOT NULL, event_version INTEGER,"
  " tenant_id TEXT, actor_id TEXT, correlation_id BLOB, causation_id BLOB,"
  " occurred_at INTEGER, stored_at INTEGER NOT NULL, data TEXT NOT NULL,"
  " metadata TEXT)",
  "INSERT INTO main.es_events SELECT e.global_position, e.stream_key,"
  " e.stream_position, k.kind, e.event_id, nullif(e.event_version, 1),"
  " e.tenant_id, e.actor_id, e.correlation_id, e.causation_id,"
  " nullif(e.occurred_at, e.stored_at), e.stored_at, e.data,"
  " nullif(e.metadata, '{}')"
  " FROM main.es_events_format1 e JOIN main.es_kinds k"
  " ON k.aggregate_type=e.aggregate_type AND k.event_type=e.event_type"
  " ORDER BY e.global_position",
  "DROP TABLE main.es_events_format1",
  "DROP TRIGGER main.es_meta_no_update",
  "UPDATE main.es_meta SET value=2 WHERE key='schema_version'",
  "DROP TRIGGER main.es_meta_no_delete",
};

static int runAll(EsConn *p, const char *const *az, int n, char **pzErr){
  int i, rc = SQLITE_OK;
  for(i=0; i<n && rc==SQLITE_OK; i++){
    rc = sqlite3_exec(p->db, az[i], 0, 0, 0);
  }
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ) *pzErr = esSchemaDbError(p);
  return rc;
}

static int from1(EsConn *p, char **pzErr){
  char *zOwn = 0;
  int rc = ownIndexes(p, &zOwn);
  if( rc==SQLITE_OK && zOwn && zOwn[0] ){
    *pzErr = sqlite3_mprintf("the store is in storage format 1 and its upgrade"
        " to format 2 rebuilds es_events, which would drop this database's"
        " own indexes on it (%s): drop them, upgrade (SELECT es_init()), and"
        " create them again", zOwn);
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  sqlite3_free(zOwn);
  if( rc==SQLITE_OK ) rc = runAll(p, azFrom1, ES_ARRAYSIZE(azFrom1), pzErr);
  /* Everything format 2 has that is not there yet: the indexes and
  ** triggers of the new es_events, the kinds' triggers, the consumer and
  ** snapshot tables, and es_meta's triggers (dropped above to change the
  ** version). */
  if( rc==SQLITE_OK ) rc = esSchemaCreateObjects(p, 1, pzErr);
  return rc;
}

/* The steps, by the format they start from. */
static int (*const axStep[ES_SCHEMA_VERSION])(EsConn*, char**) = {
  0, from1
};

int esUpgrade(EsConn *p, int iFrom, char **pzErr){
  int rc = SQLITE_OK, v;
  assert( iFrom>=1 && iFrom<ES_SCHEMA_VERSION );
  for(v=iFrom; v<ES_SCHEMA_VERSION && rc==SQLITE_OK; v++){
    rc = axStep[v](p, pzErr);
  }
  return rc;
}
