/*
** schema.c -- the storage schema: creating it, recognising it, clearing it.
**
** The schema is created by es_init() or by the first es_append(), never
** at load time (loading must not write).  It carries its own version in
** es_meta, not in PRAGMA user_version, which belongs to the application.
**
** THE FORMAT (storage format 2; format 1 is recognised so that it can be
** upgraded, upgrade.c):
**   es_meta(key, value)               the format version ('schema_version')
**   es_streams(stream_key, aggregate_id, aggregate_type)
**       one row per stream; events refer to it by the small integer key
**   es_kinds(kind, aggregate_type, event_type)
**       one row per pair of an aggregate type and an event type: a
**       dictionary, so that events carry neither text
**   es_events(global_position, stream_key, stream_position, kind,
**             event_id, event_version, tenant_id, actor_id,
**             correlation_id, causation_id, occurred_at, stored_at, data,
**             metadata)
**       global_position is the rowid.  NULL stands for a default:
**       event_version 1, occurred_at = stored_at (the time of the append,
**       when the caller gave none), metadata {}.
**   es_consumers(name, position, updated_at)
**       consumers' checkpoints (checkpoint.c; listed, with their lag, by
**       the es_checkpoints table, vtab/checkpoints.c)
**   es_snapshots(stream_key, schema_version, version, state, stored_at)
**       aggregate snapshots (snapshot.c)
**
** Indexes, and the query of API.md that each one serves:
**   es_events_stream (stream_key, stream_position) UNIQUE
**       event_stream reads, the version check, no two events at one place
**   es_events_event_id (event_id) UNIQUE
**       idempotency of es_append, es_event_exists(), WHERE event_id = ?
**   es_events_kind (kind)
**       WHERE event_type = ? / IN (...) and WHERE aggregate_type = ?: the
**       kinds of that type, each a range of this index, merged
**   es_events_tenant (tenant_id) WHERE tenant_id IS NOT NULL
**       read_all with a tenant filter; partial, so events without a tenant
**       cost nothing to index
**   es_events_occurred_at (occurred_at) WHERE occurred_at IS NOT NULL
**       occurred_at ranges of the events whose occurred_at was given; the
**       others (occurred_at = stored_at) are found as a stored_at range
** Every secondary index ends with the rowid, so rows that share a key
** come out in global order: "kind = ? ORDER BY global_position" needs no
** sort.  Two indexes (stream, event id) and the kind index are written for
** every event; the other two only for events that have a tenant or an
** occurred_at of their own.
**
** stored_at has no index: es_append makes it never decrease along
** global_position, so a stored_at range is a global_position range, found
** by a binary search on the rowid (storage.c, esStorageStoredAtBound).
** Measured, the index cost every append an index insert and every commit
** one more page.
**
** Immutability: BEFORE UPDATE / BEFORE DELETE triggers on every es_*
** table raise an error.  Checkpoints and snapshots change, but only
** through eventstore's own functions: their triggers let a change through
** while es_store_writing() is true, which it is only inside those
** functions' own statements (functions.c).  es_clear() (test databases
** only) drops the tables and creates them again.
**
** A database can be hostile: a trigger added to es_events would run with
** every append.  esSchemaCheck() compares the schema with what this file
** creates and refuses to write to anything else.
**
** The queries on sqlite_schema are cached statements (storage.c), prepared
** before a write scope opens (scope.c): running out of memory while preparing
** inside es_append would interrupt the ROLLBACK that undoes the scope.
** Only creating the schema prepares statements inside the scope.
*/
#include "es_internal.h"

typedef struct EsSchemaObject EsSchemaObject;
struct EsSchemaObject {
  const char *zType;     /* sqlite_schema.type */
  const char *zName;     /* object name */
  const char *zTable;    /* sqlite_schema.tbl_name */
  const char *zCreate;   /* "TABLE", "INDEX", "UNIQUE INDEX", "TRIGGER" */
  const char *zBody;     /* what follows the name in the CREATE statement */
};

#define ES_IMMUTABLE(T, WHAT) \
  { "trigger", T "_no_update", T, "TRIGGER", \
    " BEFORE UPDATE ON " T " BEGIN SELECT RAISE(ABORT, 'eventstore: " T \
    " is append-only: stored " WHAT " cannot be updated'); END" }, \
  { "trigger", T "_no_delete", T, "TRIGGER", \
    " BEFORE DELETE ON " T " BEGIN SELECT RAISE(ABORT, 'eventstore: " T \
    " is append-only: stored " WHAT " cannot be deleted'); END" }

/* A table that only eventstore's functions change. */
#define ES_GUARDED(T, FUNCS) \
  { "trigger", T "_no_update", T, "TRIGGER", \
    " BEFORE UPDATE ON " T " WHEN NOT es_store_writing() BEGIN SELECT" \
    " RAISE(ABORT, 'eventstore: " T " is changed only by " FUNCS "'); END" }, \
  { "trigger", T "_no_delete", T, "TRIGGER", \
    " BEFORE DELETE ON " T " WHEN NOT es_store_writing() BEGIN SELECT" \
    " RAISE(ABORT, 'eventstore: " T " is changed only by " FUNCS "'); END" }

#define ES_INDEX(NAME, KIND, COLUMNS) \
  { "index", NAME, "es_events", KIND, " ON es_events" COLUMNS }

#define ES_META_TABLE \
  { "table", "es_meta", "es_meta", "TABLE", \
    "(key TEXT PRIMARY KEY NOT NULL, value NOT NULL) WITHOUT ROWID" }
#define ES_STREAMS_TABLE \
  { "table", "es_streams", "es_streams", "TABLE", \
    "(stream_key INTEGER PRIMARY KEY, aggregate_id TEXT NOT NULL," \
    " aggregate_type TEXT NOT NULL, UNIQUE(aggregate_id, aggregate_type))" }

/* The columns of es_events that both formats have, the same way. */
#define ES_EVENTS_POSITIONS \
  "(global_position INTEGER PRIMARY KEY, stream_key INTEGER NOT NULL," \
  " stream_position INTEGER NOT NULL,"
#define ES_EVENTS_CONTEXT \
  " tenant_id TEXT, actor_id TEXT, correlation_id BLOB, causation_id BLOB,"

/* Format 2, the one this build writes (THE FORMAT above). */
static const EsSchemaObject aFormat2[] = {
  ES_META_TABLE,
  ES_STREAMS_TABLE,
  { "table", "es_kinds", "es_kinds", "TABLE",
    "(kind INTEGER PRIMARY KEY, aggregate_type TEXT NOT NULL,"
    " event_type TEXT NOT NULL, UNIQUE(event_type, aggregate_type))" },
  { "index", "es_kinds_aggregate_type", "es_kinds", "INDEX",
    " ON es_kinds(aggregate_type)" },
  { "table", "es_events", "es_events", "TABLE",
    ES_EVENTS_POSITIONS " kind INTEGER NOT NULL, event_id BLOB NOT NULL,"
    " event_version INTEGER," ES_EVENTS_CONTEXT " occurred_at INTEGER,"
    " stored_at INTEGER NOT NULL, data TEXT NOT NULL, metadata TEXT)" },
  ES_INDEX("es_events_stream", "UNIQUE INDEX", "(stream_key, stream_position)"),
  ES_INDEX("es_events_event_id", "UNIQUE INDEX", "(event_id)"),
  ES_INDEX("es_events_kind", "INDEX", "(kind)"),
  ES_INDEX("es_events_tenant", "INDEX",
           "(tenant_id) WHERE tenant_id IS NOT NULL"),
  ES_INDEX("es_events_occurred_at", "INDEX",
           "(occurred_at) WHERE occurred_at IS NOT NULL"),
  { "table", "es_consumers", "es_consumers", "TABLE",
    "(name TEXT PRIMARY KEY NOT NULL, position INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL) WITHOUT ROWID" },
  { "table", "es_snapshots", "es_snapshots", "TABLE",
    "(stream_key INTEGER NOT NULL, schema_version INTEGER NOT NULL,"
    " version INTEGER NOT NULL, state TEXT NOT NULL, stored_at INTEGER NOT"
    " NULL, PRIMARY KEY(stream_key, schema_version)) WITHOUT ROWID" },
  ES_IMMUTABLE("es_events", "events"),
  ES_IMMUTABLE("es_streams", "streams"),
  ES_IMMUTABLE("es_kinds", "kinds"),
  ES_IMMUTABLE("es_meta", "metadata"),
  ES_GUARDED("es_consumers", "es_checkpoint_set() and es_clear()"),
  ES_GUARDED("es_snapshots",
             "es_snapshot_save(), es_snapshot_delete() and es_clear()"),
};

/* Format 1 (eventstore 0.9 before format 2): recognised, to be upgraded. */
static const EsSchemaObject aFormat1[] = {
  ES_META_TABLE,
  ES_STREAMS_TABLE,
  { "table", "es_events", "es_events", "TABLE",
    ES_EVENTS_POSITIONS " aggregate_id TEXT NOT NULL,"
    " aggregate_type TEXT NOT NULL, event_id BLOB NOT NULL,"
    " event_type TEXT NOT NULL, event_version INTEGER NOT NULL,"
    ES_EVENTS_CONTEXT " occurred_at INTEGER NOT NULL,"
    " stored_at INTEGER NOT NULL, data TEXT NOT NULL,"
    " metadata TEXT NOT NULL)" },
  ES_INDEX("es_events_stream", "UNIQUE INDEX", "(stream_key, stream_position)"),
  ES_INDEX("es_events_event_id", "UNIQUE INDEX", "(event_id)"),
  ES_INDEX("es_events_event_type", "INDEX", "(event_type)"),
  ES_INDEX("es_events_aggregate_type", "INDEX", "(aggregate_type)"),
  ES_INDEX("es_events_tenant", "INDEX",
           "(tenant_id) WHERE tenant_id IS NOT NULL"),
  ES_INDEX("es_events_occurred_at", "INDEX", "(occurred_at)"),
  ES_IMMUTABLE("es_events", "events"),
  ES_IMMUTABLE("es_streams", "streams"),
  ES_IMMUTABLE("es_meta", "metadata"),
};

typedef struct EsFormat EsFormat;
struct EsFormat {
  const EsSchemaObject *aObj;
  int nObj;
};
static const EsFormat aFormat[ES_SCHEMA_VERSION+1] = {
  { 0, 0 },
  { aFormat1, ES_ARRAYSIZE(aFormat1) },
  { aFormat2, ES_ARRAYSIZE(aFormat2) },
};
#define MAX_OBJECT ES_ARRAYSIZE(aFormat2)
#undef ES_INDEX
#undef ES_IMMUTABLE
#undef ES_GUARDED
#undef ES_META_TABLE
#undef ES_STREAMS_TABLE
#undef ES_EVENTS_POSITIONS
#undef ES_EVENTS_CONTEXT

/* How many of the store's tables (of any format) exist in main. */
static int countTables(EsConn *p, int *pn){
  sqlite3_stmt *pStmt;
  i64 n = 0;
  int bRow, rc = esConnStmt(p, ES_STMT_COUNT_TABLES, &pStmt);
  if( rc==SQLITE_OK ) rc = esConnReadRow(pStmt, &n, 1, &bRow);
  *pn = (int)n;
  return rc;
}

int esSchemaExists(EsConn *p, int *pbExists){
  int n, rc = countTables(p, &n);
  *pbExists = n>0;
  return rc;
}

/*
** True if rc, from preparing or running an internal statement, means only
** that the store has no schema yet: readers then see an empty store.
*/
int esSchemaIsMissingError(EsConn *p, int rc){
  int n = 0;
  if( rc!=SQLITE_ERROR ) return 0;
  if( countTables(p, &n)!=SQLITE_OK ) return 0;
  return n==0;
}

static char *objectSql(const EsSchemaObject *pObj, int bQualified){
  return sqlite3_mprintf("CREATE %s %s%s%s", pObj->zCreate,
                         bQualified ? "main." : "", pObj->zName, pObj->zBody);
}

/* The first error of a failed statement, as an owned message. */
char *esSchemaDbError(EsConn *p){
  return sqlite3_mprintf("%s", sqlite3_errmsg(p->db));
}

/*
** The store's format version, from es_meta.  A store whose es_meta is
** missing is taken to be of this build's format, so that the shape check
** names the missing table.
*/
static int readSchemaVersion(EsConn *p, i64 *piVersion, char **pzErr){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(p, ES_STMT_SCHEMA_VERSION, &pStmt);
  *piVersion = ES_SCHEMA_VERSION;
  if( rc==SQLITE_ERROR ) return SQLITE_OK;          /* no es_meta */
  if( rc!=SQLITE_OK ){
    *pzErr = esSchemaDbError(p);
    return rc;
  }
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW && sqlite3_column_type(pStmt, 0)==SQLITE_INTEGER ){
    *piVersion = sqlite3_column_int64(pStmt, 0);
    rc = SQLITE_OK;
  }else if( rc==SQLITE_ERROR ){
    rc = sqlite3_reset(pStmt);        /* es_meta was dropped since */
    return SQLITE_OK;
  }else if( rc==SQLITE_ROW || rc==SQLITE_DONE ){
    *pzErr = sqlite3_mprintf("es_meta has no valid schema_version row:"
                             " this is not an eventstore database");
    rc = SQLITE_ERROR;
  }else{
    *pzErr = esSchemaDbError(p);
  }
  sqlite3_reset(pStmt);
  if( rc==SQLITE_OK && *piVersion>ES_SCHEMA_VERSION ){
    *pzErr = sqlite3_mprintf("the store's schema version is %lld, newer than"
        " this build of eventstore understands (%d): upgrade eventstore",
        *piVersion, ES_SCHEMA_VERSION);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK && *piVersion<1 ){
    *pzErr = sqlite3_mprintf("the store's schema version %lld is not valid",
                             *piVersion);
    rc = SQLITE_ERROR;
  }
  return rc;
}

/* The schema cookie of main (PRAGMA schema_version). */
static int schemaCookie(EsConn *p, i64 *piCookie){
  sqlite3_stmt *pStmt;
  int bRow, rc = esConnStmt(p, ES_STMT_SCHEMA_COOKIE, &pStmt);
  if( rc==SQLITE_OK ) rc = esConnReadRow(pStmt, piCookie, 1, &bRow);
  return rc;
}

/*
** Can the application's index zName on zTable refuse a row?  A UNIQUE
** index can, and so can a partial index or one on an expression (its
** expression can fail).  Then, and for TEMP triggers on the store's
** tables, an append of several rows needs a savepoint (scope.c).
*/
static int indexCanRefuse(EsConn *p, const char *zName, const char *zTable,
                          int *pbRefuses){
  sqlite3_stmt *pStmt;
  i64 v = 0;
  int bRow, rc = esConnStmt(p, ES_STMT_INDEX_REFUSES, &pStmt);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pStmt, 1, zName, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(pStmt, 2, zTable, -1, SQLITE_TRANSIENT);
  rc = esConnReadRow(pStmt, &v, 1, &bRow);
  if( v ) *pbRefuses = 1;
  return rc;
}

static int tempTriggers(EsConn *p, int *pbRefuses){
  sqlite3_stmt *pStmt;
  i64 n = 0;
  int bRow, rc = esConnStmt(p, ES_STMT_TEMP_TRIGGERS, &pStmt);
  if( rc==SQLITE_OK ) rc = esConnReadRow(pStmt, &n, 1, &bRow);
  if( n>0 ) *pbRefuses = 1;
  return rc;
}

/* Is object zName of type zType on zTbl, with CREATE statement zSql, the
** object pObj describes? */
static int sameObject(const EsSchemaObject *pObj, const char *zType,
                      const char *zTbl, const char *zSql, int *pbSame){
  char *zWant = objectSql(pObj, 0);
  if( zWant==0 ) return SQLITE_NOMEM;
  *pbSame = strcmp(pObj->zType, zType)==0 && strcmp(pObj->zTable, zTbl)==0
         && zSql && strcmp(zWant, zSql)==0;
  sqlite3_free(zWant);
  return SQLITE_OK;
}

/*
** Compare the schema in main with the one of the store's format (es_meta;
** *piFormat is set to it).  Extra indexes on the es_* tables are allowed
** (they cannot write; those that can refuse a row set p->bForeignRefuser,
** as TEMP triggers on them do); anything else that differs is an error
** that names the object.
*/
int esSchemaCheck(EsConn *p, int *piFormat, char **pzErr){
  sqlite3_stmt *pStmt = 0;
  int aSeen[MAX_OBJECT];
  int rc, i;
  i64 iVersion;
  const EsFormat *pF;

  memset(aSeen, 0, sizeof(aSeen));
  p->bForeignRefuser = 0;
  rc = readSchemaVersion(p, &iVersion, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  *piFormat = (int)iVersion;
  pF = &aFormat[iVersion];
  rc = esConnStmt(p, ES_STMT_SCHEMA_OBJECTS, &pStmt);
  if( rc!=SQLITE_OK ){
    *pzErr = esSchemaDbError(p);
    return rc;
  }
  while( (rc = sqlite3_step(pStmt))==SQLITE_ROW ){
    const char *zType = (const char*)sqlite3_column_text(pStmt, 0);
    const char *zName = (const char*)sqlite3_column_text(pStmt, 1);
    const char *zTbl = (const char*)sqlite3_column_text(pStmt, 2);
    const char *zSql = (const char*)sqlite3_column_text(pStmt, 3);
    int bSame = 0;
    if( zType==0 || zName==0 || zTbl==0 ) continue;
    for(i=0; i<pF->nObj && strcmp(pF->aObj[i].zName, zName)!=0; i++){}
    if( i<pF->nObj ){
      rc = sameObject(&pF->aObj[i], zType, zTbl, zSql, &bSame);
      if( rc!=SQLITE_OK ) break;
      if( !bSame ){
        *pzErr = sqlite3_mprintf("the %s %s does not have the shape eventstore"
            " %lld creates: this database was changed by something else, so"
            " eventstore will not write to it", zType, zName, iVersion);
        rc = SQLITE_ERROR;
        break;
      }
      aSeen[i] = 1;
      continue;
    }
    if( strncmp(zName, "sqlite_autoindex_", 17)==0 ) continue;
    if( strcmp(zType, "index")==0 && zSql ){         /* a user's index */
      rc = indexCanRefuse(p, zName, zTbl, &p->bForeignRefuser);
      if( rc!=SQLITE_OK ) break;
      continue;
    }
    *pzErr = sqlite3_mprintf("the %s %s on %s was not created by eventstore;"
        " eventstore will not write to a store with a foreign %s (drop it"
        " first)", zType, zName, zTbl, zType);
    rc = SQLITE_ERROR;
    break;
  }
  sqlite3_reset(pStmt);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc!=SQLITE_DONE ){
    if( *pzErr==0 ) *pzErr = esSchemaDbError(p);
    return rc==SQLITE_ROW ? SQLITE_ERROR : rc;
  }
  for(i=0; i<pF->nObj; i++){
    if( !aSeen[i] ){
      *pzErr = sqlite3_mprintf("the store's %s %s is missing: this database"
          " was changed by something else, so eventstore will not write to"
          " it", pF->aObj[i].zType, pF->aObj[i].zName);
      return SQLITE_ERROR;
    }
  }
  rc = tempTriggers(p, &p->bForeignRefuser);
  if( rc!=SQLITE_OK ){
    *pzErr = esSchemaDbError(p);
    return rc;
  }
  return schemaCookie(p, &p->iStoreCookie);
}

/*
** Has the store that this connection found been dropped since?  DROP
** TABLE raises the schema cookie; a rolled-back transaction that created
** the store puts it back where it was, so a store that only ever existed
** in such a transaction does not count.  (A store dropped before this
** connection found it cannot be told from one that never existed.)
*/
int esSchemaWasDropped(EsConn *p, int *pbDropped){
  i64 iNow = 0;
  int rc = SQLITE_OK;
  *pbDropped = 0;
  if( p->iStoreCookie>0 ){
    rc = schemaCookie(p, &iNow);
    *pbDropped = iNow>p->iStoreCookie;
  }
  return rc;
}

/*
** Create the objects of this build's format that do not exist yet, from
** the first one (iFrom) on, in their order; used to create a store and by
** an upgrade (upgrade.c) for the tables a new format adds.
*/
int esSchemaCreateObjects(EsConn *p, int bOnlyMissing, char **pzErr){
  const EsFormat *pF = &aFormat[ES_SCHEMA_VERSION];
  int i, rc = SQLITE_OK;
  for(i=0; i<pF->nObj && rc==SQLITE_OK; i++){
    char *zSql = objectSql(&pF->aObj[i], 1);
    if( zSql==0 ) return SQLITE_NOMEM;
    if( bOnlyMissing ){
      char *z = sqlite3_mprintf("CREATE %s IF NOT EXISTS main.%s%s",
                                pF->aObj[i].zCreate, pF->aObj[i].zName,
                                pF->aObj[i].zBody);
      sqlite3_free(zSql);
      if( z==0 ) return SQLITE_NOMEM;
      zSql = z;
    }
    rc = sqlite3_exec(p->db, zSql, 0, 0, 0);
    sqlite3_free(zSql);
  }
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ) *pzErr = esSchemaDbError(p);
  return rc;
}

/*
** Create the schema if there is none; check it if there is one, and
** upgrade it in place if it is of an older format (upgrade.c).  Must be
** called inside a write scope (scope.c), whose transaction makes the
** objects appear, or the upgrade happen, all together or not at all.
*/
int esSchemaCreate(EsConn *p, char **pzErr){
  int n, rc, iFormat = 0;
  assert( !sqlite3_get_autocommit(p->db)
       || esScopeWritingStatementRunning(p->db) );
  rc = countTables(p, &n);
  if( rc!=SQLITE_OK ){
    *pzErr = esSchemaDbError(p);
    return rc;
  }
  if( n>0 ){
    rc = esSchemaCheck(p, &iFormat, pzErr);
    if( rc==SQLITE_OK && iFormat<ES_SCHEMA_VERSION ){
      p->bSchemaChanged = 1;
      rc = esUpgrade(p, iFormat, pzErr);
      if( rc==SQLITE_OK ) rc = esSchemaCheck(p, &iFormat, pzErr);
    }
    return rc;
  }
  p->bSchemaChanged = 1;
  rc = esSchemaCreateObjects(p, 0, pzErr);
  if( rc==SQLITE_OK ){
    char *zSql = sqlite3_mprintf("INSERT INTO main.es_meta(key,value)"
                                 " VALUES('schema_version',%d)",
                                 ES_SCHEMA_VERSION);
    if( zSql==0 ) return SQLITE_NOMEM;
    rc = sqlite3_exec(p->db, zSql, 0, 0, 0);
    sqlite3_free(zSql);
    if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM ) *pzErr = esSchemaDbError(p);
  }
  return rc;
}

/*
** es_clear(): drop the store and create it again, so global positions
** start over.  The caller has checked that main is an in-memory or
** temporary database.
*/
int esSchemaClear(EsConn *p, char **pzErr){
  int n, iFormat, rc = countTables(p, &n);
  if( rc==SQLITE_OK && n>0 ){
    rc = esSchemaCheck(p, &iFormat, pzErr);
    if( rc!=SQLITE_OK ) return rc;
    p->bSchemaChanged = 1;
    rc = sqlite3_exec(p->db, "DROP TABLE IF EXISTS main.es_events;"
                      "DROP TABLE IF EXISTS main.es_streams;"
                      "DROP TABLE IF EXISTS main.es_kinds;"
                      "DROP TABLE IF EXISTS main.es_consumers;"
                      "DROP TABLE IF EXISTS main.es_snapshots;"
                      "DROP TABLE IF EXISTS main.es_meta;", 0, 0, 0);
  }
  if( rc!=SQLITE_OK ){
    *pzErr = esSchemaDbError(p);
    return rc;
  }
  return esSchemaCreate(p, pzErr);
}
