/*
** append.c -- es_append(): the write path of the event store.
**
**   es_append(aggregate_id, aggregate_type, expected_version, events)
**   es_append(aggregate_id, aggregate_type, expected_version, event_type,
**             data [, options])
**
** Order of work: validate every argument and parse every event (no lock,
** no write yet); open the write scope; find the stream and its version;
** check the expected version (or recognise a replay of a stored batch);
** insert the events, skipping stored event ids; close the scope.
**
** ATOMICITY IN EACH CALLING CONTEXT
**
** An append stores all of its events or none, and a rejected append leaves
** no trace.  How that is achieved depends on how es_append is called; the
** write scope (esWriteBegin/esWriteCommit/esWriteRollback) picks one of:
**
**  1. Autocommit, no other writing statement running
**     (SELECT es_append(...); SELECT es_append(...) FROM commands):
**     BEGIN IMMEDIATE ... COMMIT around the call, or ROLLBACK on error.
**     Without it every nested INSERT would commit on its own.  IMMEDIATE
**     takes the write lock before the version is read, so two processes
**     racing on one stream queue up on the lock (honouring busy_timeout)
**     and the second one sees the first one's events: one success and one
**     conflict, never SQLITE_BUSY_SNAPSHOT from a read-then-upgrade.
**     (One exception the caller controls: when the outer SELECT itself
**     reads the same WAL database, it holds a snapshot, and a commit by
**     another connection meanwhile makes SQLite refuse the write lock
**     with SQLITE_BUSY_SNAPSHOT.  Such loops belong in BEGIN IMMEDIATE.)
**
**  2. Inside the caller's transaction (BEGIN ... COMMIT, or a SAVEPOINT),
**     the outer statement a SELECT.  BEGIN/COMMIT are never run here: a
**     COMMIT would commit the caller's transaction, which is the caller's
**     to COMMIT or ROLLBACK.  A refused append (version conflict, an event
**     id stored with other content) writes nothing: every refusal is
**     found before the first write, and the stream row is written after
**     the events (needsUndo).  The caller's earlier work is untouched.
**     An error that stops a write (I/O, disk full, out of memory, an
**     interrupt) makes SQLite roll back the caller's whole transaction,
**     or esWriteRollback does where SQLite does not.  A savepoint of its
**     own (SAVEPOINT es_append ... RELEASE, or ROLLBACK TO + RELEASE) only
**     where a row may be too long to store, the one refusal that can come
**     after a write; elsewhere it is not worth its cost (needsUndo).
**
**  3. Under a writing statement (INSERT INTO log SELECT es_append(...),
**     or a TEMP trigger): SQLite refuses to open a savepoint while a
**     writing statement runs.  None is needed: the outer statement already
**     holds the write lock, and when es_append raises an error the outer
**     statement fails and its own rollback (the statement journal inside a
**     transaction, the whole implicit transaction in autocommit) removes
**     every row es_append wrote.  SQL has no way to catch a function's
**     error and go on, so the partial rows can never be committed.
**
** Persistent triggers and views cannot call es_append at all: it is
** registered SQLITE_DIRECTONLY, because it writes.
*/
#include "es_internal.h"

/* ------------------------------------------------------------ write scope */

enum {
  SCOPE_NONE,          /* in the caller's transaction, no savepoint (yet) */
  SCOPE_TRANSACTION,   /* we ran BEGIN IMMEDIATE: COMMIT or ROLLBACK */
  SCOPE_SAVEPOINT,     /* we ran SAVEPOINT: RELEASE or ROLLBACK TO */
  SCOPE_STATEMENT      /* under a writing statement: it rolls back */
};

/* True if a statement that writes is running on this connection. */
int esWritingStatementRunning(sqlite3 *db){
  sqlite3_stmt *pStmt = 0;
  while( (pStmt = sqlite3_next_stmt(db, pStmt))!=0 ){
    if( sqlite3_stmt_busy(pStmt) && !sqlite3_stmt_readonly(pStmt) ) return 1;
  }
  return 0;
}

/*
** The statements that undo a scope are prepared before the scope opens:
** if preparing them failed later (out of memory), a transaction could be
** left open.
*/
static int prepareUndo(EsConn *p, int eUndo1, int eUndo2){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(p, eUndo1, &pStmt);
  if( rc==SQLITE_OK && eUndo2>=0 ) rc = esConnStmt(p, eUndo2, &pStmt);
  return rc;
}

/*
** Prepare (if not cached) every statement an append may run, before the
** scope opens.  Out of memory while preparing inside a nested statement
** interrupts every statement of the connection until the outer one ends,
** ROLLBACK included; failing here, before BEGIN, leaves nothing to undo.
** After this connection creates or drops the store's tables the cache is
** emptied (esConnForgetStatements), so that the next call prepares afresh
** here.  Left inside the scope: statements on tables that do not exist yet
** (the first append), and re-preparation that SQLite does itself after a
** schema change by other DDL.  Those can, if memory runs out just then,
** leave the transaction open (esWriteRollback).
*/
static int preparePath(EsConn *p){
  static const int aStmt[] = {
    ES_STMT_COUNT_TABLES, ES_STMT_SCHEMA_OBJECTS,
    ES_STMT_APPEND_LOOKUP, ES_STMT_INSERT_EVENT, ES_STMT_INSERT_STREAM,
    ES_STMT_NEXT_STREAM_KEY, ES_STMT_EVENT_BY_ID, ES_STMT_EVENT_AT,
    ES_STMT_SCHEMA_VERSION
  };
  int i, rc;
  sqlite3_stmt *pStmt;
  rc = prepareUndo(p, ES_STMT_SAVEPOINT, ES_STMT_ROLLBACK_TO);
  if( rc==SQLITE_OK ) rc = prepareUndo(p, ES_STMT_ROLLBACK, -1);
  if( rc!=SQLITE_OK ) return rc;
  for(i=0; i<(int)(sizeof(aStmt)/sizeof(aStmt[0])); i++){
    rc = esConnStmt(p, aStmt[i], &pStmt);
    if( rc==SQLITE_NOMEM ) return rc;
    if( rc!=SQLITE_OK ) return SQLITE_OK;    /* no schema yet */
  }
  return SQLITE_OK;
}

/*
** Open the scope: in autocommit mode this takes the write lock.
**
** If a transaction this code began could not be rolled back (out of
** memory, see esWriteRollback), the connection is still inside it: refuse
** to add to it until the application has run ROLLBACK.
*/
int esWriteBegin(EsConn *p, EsWriteScope *pScope){
  int rc;
  pScope->eKind = SCOPE_NONE;
  pScope->bWrote = 0;
  if( p->bOrphanTxn ){
    if( !sqlite3_get_autocommit(p->db) ) return SQLITE_MISUSE;
    p->bOrphanTxn = 0;
  }
  rc = preparePath(p);
  if( rc!=SQLITE_OK ) return rc;
  rc = prepareUndo(p, ES_STMT_RELEASE, -1);
  if( rc!=SQLITE_OK ) return rc;
  if( !sqlite3_get_autocommit(p->db) ) return SQLITE_OK;
  if( esWritingStatementRunning(p->db) ){
    pScope->eKind = SCOPE_STATEMENT;
    return SQLITE_OK;
  }
  rc = prepareUndo(p, ES_STMT_ROLLBACK, ES_STMT_COMMIT);
  if( rc==SQLITE_OK ) rc = prepareUndo(p, ES_STMT_BEGIN_IMMEDIATE, -1);
  if( rc!=SQLITE_OK ) return rc;
  pScope->eKind = SCOPE_TRANSACTION;
  return esRunSimple(p, ES_STMT_BEGIN_IMMEDIATE);
}

/*
** The append is about to make more than one write: make sure they can be
** undone together.  Only scope 2 needs to do anything.
*/
int esWriteNeedAtomic(EsConn *p, EsWriteScope *pScope){
  int rc;
  if( pScope->eKind!=SCOPE_NONE ) return SQLITE_OK;
  rc = prepareUndo(p, ES_STMT_ROLLBACK_TO, ES_STMT_RELEASE);
  if( rc!=SQLITE_OK ) return rc;
  rc = esRunSimple(p, ES_STMT_SAVEPOINT);
  if( rc==SQLITE_OK ){
    pScope->eKind = SCOPE_SAVEPOINT;
  }else if( rc==SQLITE_BUSY ){
    /* "cannot open savepoint - SQL statements in progress": a writing
    ** statement is running (a trigger, INSERT ... SELECT): scope 3. */
    pScope->eKind = SCOPE_STATEMENT;
    rc = SQLITE_OK;
  }
  return rc;
}

int esWriteCommit(EsConn *p, EsWriteScope *pScope){
  /* (esWriteRollback below undoes a scope whose COMMIT failed.) */
  int rc = SQLITE_OK;
  switch( pScope->eKind ){
    case SCOPE_TRANSACTION:
      rc = esRunSimple(p, ES_STMT_COMMIT);
      if( rc!=SQLITE_OK ){
        esWriteRollback(p, pScope);
        return rc;
      }
      break;
    case SCOPE_SAVEPOINT:
      rc = esRunSimple(p, ES_STMT_RELEASE);
      break;
  }
  pScope->eKind = SCOPE_NONE;
  return rc;
}

/*
** Run an undo statement (ROLLBACK, ROLLBACK TO, RELEASE).  A progress
** handler that interrupts the append keeps interrupting every statement
** after it; SQLite calls it every N virtual-machine steps, counted from
** the statement's total over all its runs.  With that count reset, these
** three-step programs finish before the handler is called (for any N > 3),
** so the undo still happens.
*/
static int runUndo(EsConn *p, int eStmt){
  sqlite3_stmt *pStmt;
  if( esConnStmt(p, eStmt, &pStmt)==SQLITE_OK ){
    sqlite3_stmt_status(pStmt, SQLITE_STMTSTATUS_VM_STEP, 1);
  }
  return esRunSimple(p, eStmt);
}

/*
** ROLLBACK the connection's transaction, trying twice, since a transient
** out-of-memory can make the first attempt fail.  SQLite may have rolled
** back already (it does on some I/O and out-of-memory errors).  Returns 1
** if the connection is out of the transaction.
*/
static int rollbackTransaction(EsConn *p){
  if( !sqlite3_get_autocommit(p->db) && runUndo(p, ES_STMT_ROLLBACK) ){
    if( !sqlite3_get_autocommit(p->db) ) runUndo(p, ES_STMT_ROLLBACK);
  }
  return sqlite3_get_autocommit(p->db);
}

/*
** Undo a failed append.  Returns 1 if that took rolling back the caller's
** whole transaction (scope 2 without a savepoint, see below).
*/
int esWriteRollback(EsConn *p, EsWriteScope *pScope){
  int bRolledBackAll = 0;
  switch( pScope->eKind ){
    case SCOPE_NONE:
      /* Scope 2 without a savepoint (needsUndo): only an error that is
      ** not a refusal can stop such an append after a write, and on those
      ** (I/O, full disk, out of memory, interrupt) SQLite rolls back the
      ** whole transaction itself.  With one exception: a progress handler
      ** that interrupts a statement just after it finished reports
      ** SQLITE_INTERRUPT with the row written.  Then do what SQLite does
      ** for an interrupted write: roll back the transaction. */
      if( pScope->bWrote && !sqlite3_get_autocommit(p->db) ){
        bRolledBackAll = rollbackTransaction(p);
      }
      break;
    case SCOPE_TRANSACTION:
      /* Out of memory inside a nested statement interrupts every
      ** statement until the outer one ends, so ROLLBACK can fail here.
      ** Then the connection stays in the transaction (uncommitted, so
      ** the store is unchanged); esWriteBegin refuses to go on in it. */
      if( !rollbackTransaction(p) ) p->bOrphanTxn = 1;
      break;
    case SCOPE_SAVEPOINT:
      runUndo(p, ES_STMT_ROLLBACK_TO);
      runUndo(p, ES_STMT_RELEASE);
      break;
  }
  pScope->eKind = SCOPE_NONE;
  pScope->bWrote = 0;
  return bRolledBackAll;
}

/* ------------------------------------------------------------- arguments */

/*
** Parse expected_version: an integer n >= 0, -1, -2, or the text forms
** 'no_stream', 'any', 'stream_exists' (any case) or integer text.
*/
static int parseExpectedVersion(sqlite3_context *ctx, sqlite3_value *pVal,
                                i64 *piExpected){
  i64 v;
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
      v = sqlite3_value_int64(pVal);
      break;
    case SQLITE_FLOAT: {
      double r = sqlite3_value_double(pVal);
      /* The range test comes first: casting an out-of-range double to an
      ** integer is undefined behaviour (found by fuzz_append). */
      if( !(r>-9.0e18 && r<9.0e18) || r!=(double)(i64)r ){
        esResultError(ctx, SQLITE_ERROR, "es_append: expected_version %g is"
                      " not an integer", r);
        return 1;
      }
      v = (i64)r;
      break;
    }
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(pVal);
      int n = sqlite3_value_bytes(pVal), i = 0, neg = 0;
      if( z==0 ){
        sqlite3_result_error_nomem(ctx);
        return 1;
      }
      if( sqlite3_stricmp(z, "no_stream")==0 ){ *piExpected = 0; return 0; }
      if( sqlite3_stricmp(z, "any")==0 ){ *piExpected = ES_EXPECT_ANY; return 0; }
      if( sqlite3_stricmp(z, "stream_exists")==0 ){
        *piExpected = ES_EXPECT_STREAM_EXISTS;
        return 0;
      }
      if( n>0 && z[0]=='-' ){ neg = 1; i = 1; }
      if( i>=n || n-i>18 ) goto bad_text;
      for(v=0; i<n; i++){
        if( z[i]<'0' || z[i]>'9' ) goto bad_text;
        v = v*10 + (z[i]-'0');
      }
      if( neg ) v = -v;
      break;
    bad_text:
      esResultError(ctx, SQLITE_ERROR, "es_append: expected_version '%.40s'"
          " is not a version (use an integer >= 0, 'no_stream', 'any' or"
          " 'stream_exists')", z);
      return 1;
    }
    case SQLITE_NULL:
      esResultError(ctx, SQLITE_ERROR, "es_append: expected_version is NULL"
          " (use an integer >= 0, 'no_stream', 'any' or 'stream_exists')");
      return 1;
    default:
      esResultError(ctx, SQLITE_ERROR, "es_append: expected_version must be"
          " an integer or text, not a blob");
      return 1;
  }
  if( v<ES_EXPECT_STREAM_EXISTS ){
    esResultError(ctx, SQLITE_ERROR, "es_append: expected_version %lld is out"
        " of range (use n >= 0, -1 for any, -2 for stream_exists)", v);
    return 1;
  }
  *piExpected = v;
  return 0;
}

/*
** A text argument naming a stream's part.  aggregate_id (bType==0): any
** non-empty text (an integer is taken as its text) of at most
** ES_MAX_AGGREGATE_ID bytes, without NUL characters.  aggregate_type
** (bType==1): a type name (esCheckTypeName).
*/
static int readStreamPart(sqlite3_context *ctx, sqlite3_value *pVal,
                          const char *zFunc, int bType, EsText *pOut){
  const char *zArg = bType ? "aggregate_type" : "aggregate_id";
  int eType = sqlite3_value_type(pVal);
  const char *z;
  int n;
  if( eType==SQLITE_NULL ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s is NULL", zFunc, zArg);
    return 1;
  }
  if( eType!=SQLITE_TEXT && (bType || eType!=SQLITE_INTEGER) ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s must be text", zFunc, zArg);
    return 1;
  }
  z = (const char*)sqlite3_value_text(pVal);
  n = sqlite3_value_bytes(pVal);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return 1;
  }
  if( n==0 ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s is empty", zFunc, zArg);
    return 1;
  }
  if( bType && esCheckTypeName(z, n) ){
    esResultError(ctx, SQLITE_ERROR, "%s: aggregate_type '%.64s' is not a"
        " valid type name (1-%d letters, digits, '_', '.' or '-')", zFunc, z,
        ES_MAX_TYPE_NAME);
    return 1;
  }
  if( !bType && n>ES_MAX_AGGREGATE_ID ){
    esResultError(ctx, SQLITE_ERROR, "%s: aggregate_id is longer than %d"
                  " bytes", zFunc, ES_MAX_AGGREGATE_ID);
    return 1;
  }
  if( !bType && (int)strlen(z)!=n ){
    esResultError(ctx, SQLITE_ERROR, "%s: aggregate_id contains a NUL"
                  " character", zFunc);
    return 1;
  }
  pOut->z = z;
  pOut->n = n;
  return 0;
}

/* Exported for es_version(): the same validation, the same messages. */
int esReadStreamArgs(sqlite3_context *ctx, sqlite3_value *pId,
                     sqlite3_value *pType, const char *zFunc, EsText *pId2,
                     EsText *pType2){
  if( readStreamPart(ctx, pId, zFunc, 0, pId2) ) return 1;
  return readStreamPart(ctx, pType, zFunc, 1, pType2);
}

/* ------------------------------------------------------------ the append */

/* The state of one es_append call. */
typedef struct EsAppend EsAppend;
struct EsAppend {
  EsConn *p;
  sqlite3_context *ctx;
  EsText aggId;
  EsText aggType;
  i64 iExpected;
  EsBatch batch;
  int *aDupOf;          /* aDupOf[i]: earlier event with the same id, or -1 */
  i64 *aStoredPos;      /* aStoredPos[i]: where event i is already stored
                        ** (found before writing, needsUndo), or 0 */
  i64 iStreamKey;       /* 0: the stream does not exist yet */
  i64 iVersion;         /* the stream's version before the append */
  i64 iLastStoredAt;    /* stored_at of the newest event in the store */
  i64 iNewVersion;
  i64 iGlobalPosition;
  char *zErr;           /* error message, sqlite3_malloc'ed */
  int rcErr;            /* its code */
};

static int appendError(EsAppend *pA, int rc, const char *zFmt, ...){
  va_list ap;
  if( pA->zErr==0 ){
    va_start(ap, zFmt);
    pA->zErr = sqlite3_vmprintf(zFmt, ap);
    va_end(ap);
    pA->rcErr = pA->zErr ? rc : SQLITE_NOMEM;
  }
  return pA->rcErr;
}

/* An error from the database: keep SQLite's code and message, and say
** which function met it. */
static int appendDbError(EsAppend *pA, int rc){
  if( rc==SQLITE_NOMEM ){
    pA->rcErr = SQLITE_NOMEM;
    return rc;
  }
  return appendError(pA, rc, "es_append: %s", sqlite3_errmsg(pA->p->db));
}

/* Same event content: type and data (data is stored in minimal form). */
static int sameContent(const EsEvent *pEv, const char *zType, int nType,
                       const char *zData, int nData){
  return pEv->eventType.n==nType && memcmp(pEv->eventType.z, zType, nType)==0
      && pEv->data.n==nData && memcmp(pEv->data.z, zData, nData)==0;
}

static void formatUuid(const u8 *a, char *zOut){
  esUuidFormat(a, zOut);
  zOut[ES_UUID_TEXT_LEN] = 0;
}

/*
** Mark events whose id appeared earlier in the same batch, and check that
** such a repeat is the same event.  One pass over the batch with an
** open-addressing hash of the ids (the last bytes of a v4 UUID are
** random), so a batch of n events costs O(n).
*/
static int findBatchDuplicates(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  int i, j, nHash;
  int *aHash;
  if( pB->nEvent<2 ) return SQLITE_OK;
  pA->aDupOf = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)pB->nEvent);
  if( pA->aDupOf==0 ) return SQLITE_NOMEM;
  for(nHash=16; nHash<pB->nEvent*2; nHash*=2){}
  aHash = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)nHash);
  if( aHash==0 ) return SQLITE_NOMEM;
  for(i=0; i<nHash; i++) aHash[i] = -1;
  for(i=0; i<pB->nEvent; i++){
    const u8 *aId = pB->aEvent[i].eventId;
    unsigned h;
    memcpy(&h, aId+12, sizeof(h));   /* random bits of a v4 UUID */
    pA->aDupOf[i] = -1;
    for(j=(int)(h & (nHash-1)); aHash[j]>=0; j=(j+1)&(nHash-1)){
      const EsEvent *pPrev = &pB->aEvent[aHash[j]];
      if( memcmp(pPrev->eventId, aId, 16)==0 ){
        pA->aDupOf[i] = aHash[j];
        break;
      }
    }
    if( pA->aDupOf[i]<0 ){
      aHash[j] = i;
    }else{
      const EsEvent *pPrev = &pB->aEvent[pA->aDupOf[i]];
      if( !sameContent(&pB->aEvent[i], pPrev->eventType.z, pPrev->eventType.n,
                       pPrev->data.z, pPrev->data.n) ){
        char zId[ES_UUID_TEXT_LEN+1];
        formatUuid(aId, zId);
        sqlite3_free(aHash);
        return appendError(pA, SQLITE_CONSTRAINT_UNIQUE, "es_append: event"
            " id %s appears twice in the batch with different content", zId);
      }
    }
  }
  sqlite3_free(aHash);
  return SQLITE_OK;
}

/* Find the stream, its version and the store's newest stored_at. */
static int lookupStream(EsAppend *pA){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_APPEND_LOOKUP, &pStmt);
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  sqlite3_bind_text(pStmt, 1, pA->aggId.z, pA->aggId.n, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 2, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  pA->iStreamKey = 0;
  pA->iVersion = 0;
  pA->iLastStoredAt = ES_MIN_MICROS;
  if( rc==SQLITE_ROW ){
    pA->iStreamKey = sqlite3_column_int64(pStmt, 0);
    pA->iVersion = sqlite3_column_int64(pStmt, 1);
    if( sqlite3_column_type(pStmt, 2)==SQLITE_INTEGER ){
      pA->iLastStoredAt = sqlite3_column_int64(pStmt, 2);
    }
    rc = SQLITE_DONE;
  }
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  if( rc!=SQLITE_DONE ) return appendDbError(pA, rc);
  return SQLITE_OK;
}

static int versionMatches(i64 iExpected, i64 iVersion){
  if( iExpected==ES_EXPECT_ANY ) return 1;
  if( iExpected==ES_EXPECT_STREAM_EXISTS ) return iVersion>0;
  return iVersion==iExpected;
}

/*
** The version check failed.  Is this a retry of a batch that is already
** stored whole, right after the expected version?  Then *pbReplay is set
** and the original result is in pA.
*/
static int checkReplay(EsAppend *pA, int *pbReplay){
  EsBatch *pB = &pA->batch;
  sqlite3_stmt *pStmt;
  int i, rc;
  *pbReplay = 0;
  if( pA->iExpected<0 || pA->iStreamKey==0 ) return SQLITE_OK;
  /* (Written so that a huge expected version cannot overflow: found by
  ** fuzz_append.) */
  if( pA->iExpected > pA->iVersion - pB->nEvent ) return SQLITE_OK;
  rc = esConnStmt(pA->p, ES_STMT_EVENT_AT, &pStmt);
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  for(i=0; i<pB->nEvent; i++){
    const EsEvent *pEv = &pB->aEvent[i];
    int bSame = 0;
    sqlite3_bind_int64(pStmt, 1, pA->iStreamKey);
    sqlite3_bind_int64(pStmt, 2, pA->iExpected + 1 + i);
    rc = sqlite3_step(pStmt);
    if( rc==SQLITE_ROW ){
      const void *aId = sqlite3_column_blob(pStmt, 0);
      int nId = sqlite3_column_bytes(pStmt, 0);
      const char *zType = (const char*)sqlite3_column_text(pStmt, 1);
      int nType = sqlite3_column_bytes(pStmt, 1);
      const char *zData = (const char*)sqlite3_column_text(pStmt, 2);
      int nData = sqlite3_column_bytes(pStmt, 2);
      bSame = nId==16 && memcmp(aId, pEv->eventId, 16)==0 && zType && zData
           && sameContent(pEv, zType, nType, zData, nData);
      pA->iGlobalPosition = sqlite3_column_int64(pStmt, 3);
      rc = SQLITE_DONE;
    }
    sqlite3_reset(pStmt);
    if( rc!=SQLITE_DONE ) return appendDbError(pA, rc);
    if( !bSame ) return SQLITE_OK;
  }
  *pbReplay = 1;
  pA->iNewVersion = pA->iExpected + pB->nEvent;
  return SQLITE_OK;
}

/*
** An event id that is already stored: the same event is skipped (its
** global position noted), a different one is an error.  bMustExist: the
** insert found it stored (else this is the check before writing, and an
** id that is not stored is fine).
*/
static int checkStoredDuplicate(EsAppend *pA, const EsEvent *pEv,
                                i64 *piStoredPos, int bMustExist){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_EVENT_BY_ID, &pStmt);
  int bSame = 0;
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  sqlite3_bind_blob(pStmt, 1, pEv->eventId, 16, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    const char *zType = (const char*)sqlite3_column_text(pStmt, 3);
    int nType = sqlite3_column_bytes(pStmt, 3);
    const char *zData = (const char*)sqlite3_column_text(pStmt, 4);
    int nData = sqlite3_column_bytes(pStmt, 4);
    *piStoredPos = sqlite3_column_int64(pStmt, 0);
    bSame = zType && zData && sameContent(pEv, zType, nType, zData, nData);
    rc = SQLITE_DONE;
  }else if( rc==SQLITE_DONE ){
    /* Not stored.  After an insert that changed nothing, the conflict
    ** was not on event_id after all. */
    bSame = 1;
    if( bMustExist ) rc = SQLITE_CORRUPT;
  }
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  if( rc!=SQLITE_DONE ) return appendDbError(pA, rc);
  if( !bSame ){
    char zId[ES_UUID_TEXT_LEN+1];
    formatUuid(pEv->eventId, zId);
    return appendError(pA, SQLITE_CONSTRAINT_UNIQUE, "es_append: event id %s"
        " is already stored with different content", zId);
  }
  return SQLITE_OK;
}

/*
** Must the append's writes be undone together if it fails (a savepoint,
** in scope 2)?  Only if it can be refused after its first write.  Events
** are written first, in order, and the stream row last, so that needs a
** second event to be refused after the first one was written:
**
**   - its event_id, given by the caller, already stored with different
**     content.  Checked here, before anything is written: such an append
**     fails now, and any other stored id is the same event, noted in
**     aStoredPos and skipped without another read (a read that fails
**     after a write, say interrupted, would not roll the write back).  (A
**     generated id that happens to be stored is replaced, insertEvents.)
**   - a row longer than SQLITE_LIMIT_LENGTH (SQLITE_TOOBIG).  Then, and
**     only then, the savepoint is kept.
**
** Any write can also fail with an I/O error, a full disk, out of memory
** or an interrupt; on those SQLite itself rolls back the whole
** transaction (a statement that writes one row has no statement journal),
** so nothing of the append stays either.
**
** Why not a savepoint every time: a savepoint copies every page that the
** append changes into the sub-journal, and once one append's copies pass
** 64 KiB the sub-journal becomes a temporary file for the rest of the
** transaction, two write() calls per page per append.  In a transaction of
** 10,000 appends of 10 events that was 555,000 write() calls against
** 53,000 without savepoints, and half the time.
*/
static int needsUndo(EsAppend *pA, int *pbUndo){
  EsBatch *pB = &pA->batch;
  i64 nLimit = sqlite3_limit(pA->p->db, SQLITE_LIMIT_LENGTH, -1);
  i64 nShared = (i64)pA->aggId.n + pA->aggType.n + 200;
  int i, rc, nWrite = 0;
  i64 iPos;
  *pbUndo = 0;
  for(i=0; i<pB->nEvent; i++){
    if( pA->aDupOf==0 || pA->aDupOf[i]<0 ) nWrite++;
  }
  if( nWrite<2 ) return SQLITE_OK;
  for(i=0; i<pB->nEvent; i++){
    const EsEvent *pEv = &pB->aEvent[i];
    if( pA->aDupOf && pA->aDupOf[i]>=0 ) continue;
    /* A bound on the row's length: its values, plus a header of at most
    ** 9 bytes for each of 16 columns and the integers (in nShared). */
    if( nShared + pEv->eventType.n + pEv->data.n + pEv->metadata.n
        + pEv->tenantId.n + pEv->actorId.n + 3*16 > nLimit ){
      *pbUndo = 1;
    }
    if( pEv->hasEventId ){
      iPos = 0;
      rc = checkStoredDuplicate(pA, pEv, &iPos, 0);
      if( rc ) return rc;
      if( iPos>0 ){
        if( pA->aStoredPos==0 ){
          pA->aStoredPos = sqlite3_malloc64(sizeof(i64)*(sqlite3_uint64)pB->nEvent);
          if( pA->aStoredPos==0 ) return appendDbError(pA, SQLITE_NOMEM);
          memset(pA->aStoredPos, 0, sizeof(i64)*(size_t)pB->nEvent);
        }
        pA->aStoredPos[i] = iPos;
      }
    }
  }
  return SQLITE_OK;
}

static int nextStreamKey(EsAppend *pA, i64 *piKey){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_NEXT_STREAM_KEY, &pStmt);
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    *piKey = sqlite3_column_int64(pStmt, 0);
    rc = SQLITE_DONE;
  }
  sqlite3_reset(pStmt);
  if( rc!=SQLITE_DONE ) return appendDbError(pA, rc);
  return SQLITE_OK;
}

static int insertStream(EsAppend *pA, i64 iKey){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_INSERT_STREAM, &pStmt);
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  sqlite3_bind_int64(pStmt, 1, iKey);
  sqlite3_bind_text(pStmt, 2, pA->aggId.z, pA->aggId.n, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 3, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
  sqlite3_clear_bindings(pStmt);
  if( rc!=SQLITE_DONE ) return appendDbError(pA, rc);
  return SQLITE_OK;
}

static void bindOptionalText(sqlite3_stmt *pStmt, int i, const EsText *pT){
  if( pT->z ){
    sqlite3_bind_text(pStmt, i, pT->z, pT->n, SQLITE_STATIC);
  }else{
    sqlite3_bind_null(pStmt, i);
  }
}

/*
** Insert the events after the version check.  Stored ids are skipped;
** the stream row is written only if at least one event was.  The result's
** global position is that of the last event this call stored or, if it
** stored none (a replay), the stored position of the batch's last event.
*/
static int insertEvents(EsAppend *pA, EsWriteScope *pScope){
  EsBatch *pB = &pA->batch;
  sqlite3_stmt *pStmt;
  sqlite3 *db = pA->p->db;
  i64 iKey = pA->iStreamKey, iVersion = pA->iVersion, iStoredAt;
  i64 iLastInserted = 0, iStoredPos = 0;
  int i, rc;

  if( iKey==0 ){
    rc = nextStreamKey(pA, &iKey);
    if( rc ) return rc;
  }
  /* stored_at never goes backwards along global_position, even if the
  ** clock does: a stored_at range is then a global_position range. */
  iStoredAt = esTimestampNow();
  if( iStoredAt<pA->iLastStoredAt ) iStoredAt = pA->iLastStoredAt;

  rc = esConnStmt(pA->p, ES_STMT_INSERT_EVENT, &pStmt);
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  /* What every event of the batch shares is bound once: bindings outlive
  ** sqlite3_reset(), and each bind takes the connection's mutex. */
  sqlite3_bind_int64(pStmt, 1, iKey);
  sqlite3_bind_text(pStmt, 3, pA->aggId.z, pA->aggId.n, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 4, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
  sqlite3_bind_int64(pStmt, 13, iStoredAt);
  for(i=0; i<pB->nEvent; i++){
    EsEvent *pEv = &pB->aEvent[i];
    int nTry = 0, nTotal;
    if( pA->aDupOf && pA->aDupOf[i]>=0 ){
      continue;   /* same id and content as an earlier event of the batch */
    }
    if( pA->aStoredPos && pA->aStoredPos[i]>0 ){
      iStoredPos = pA->aStoredPos[i];   /* stored already: skipped */
      continue;
    }
  insert_event:
    sqlite3_bind_int64(pStmt, 2, iVersion+1);
    sqlite3_bind_blob(pStmt, 5, pEv->eventId, 16, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 6, pEv->eventType.z, pEv->eventType.n, SQLITE_STATIC);
    sqlite3_bind_int64(pStmt, 7, pEv->eventVersion);
    bindOptionalText(pStmt, 8, &pEv->tenantId);
    bindOptionalText(pStmt, 9, &pEv->actorId);
    sqlite3_bind_blob(pStmt, 10, pEv->correlationId, 16, SQLITE_STATIC);
    if( pEv->hasCausation ){
      sqlite3_bind_blob(pStmt, 11, pEv->causationId, 16, SQLITE_STATIC);
    }else{
      sqlite3_bind_null(pStmt, 11);
    }
    sqlite3_bind_int64(pStmt, 12, pEv->occurredAt);
    sqlite3_bind_text(pStmt, 14, pEv->data.z, pEv->data.n, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 15, pEv->metadata.z, pEv->metadata.n, SQLITE_STATIC);
    nTotal = sqlite3_total_changes(db);
    rc = sqlite3_step(pStmt);
    sqlite3_reset(pStmt);
    /* (Before rc: a statement can report an error with its row written,
    ** see esWriteRollback.  The total, not sqlite3_changes(): a statement
    ** that never ran leaves that at an earlier statement's count.) */
    if( sqlite3_total_changes(db)!=nTotal ) pScope->bWrote = 1;
    if( rc!=SQLITE_DONE ){
      sqlite3_clear_bindings(pStmt);
      return appendDbError(pA, rc);
    }
    if( sqlite3_changes(db)==0 && !pEv->hasEventId && ++nTry<8 ){
      /* A generated id that is already stored (two random UUIDs alike):
      ** the event has no identity yet, so it takes another one.  The
      ** caller never saw the first, and a refusal here could come after
      ** earlier events were written without a savepoint (needsUndo). */
      esUuidGenerate(pEv->eventId);
      goto insert_event;
    }
    if( sqlite3_changes(db)==0 ){
      rc = checkStoredDuplicate(pA, pEv, &iStoredPos, 1);
      if( rc ){
        sqlite3_clear_bindings(pStmt);
        return rc;
      }
    }else{
      iVersion++;
      iLastInserted = sqlite3_last_insert_rowid(db);
    }
  }
  sqlite3_clear_bindings(pStmt);
  if( iLastInserted>0 && pA->iStreamKey==0 ){
    rc = insertStream(pA, iKey);
    if( rc ) return rc;
  }
  if( iLastInserted==0 ){
    /* Every event was already stored: report where the last one is. */
    rc = checkStoredDuplicate(pA, &pB->aEvent[pB->nEvent-1], &iStoredPos, 1);
    if( rc ) return rc;
  }
  pA->iNewVersion = iVersion;
  pA->iGlobalPosition = iLastInserted>0 ? iLastInserted : iStoredPos;
  return SQLITE_OK;
}

/*
** Create the schema if the database has none, or check the one it has.
*/
static int ensureSchema(EsAppend *pA, EsWriteScope *pScope){
  EsConn *p = pA->p;
  int rc, bExists = 0;
  char *zErr = 0;
  rc = esSchemaExists(p, &bExists);
  if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  if( !bExists ){
    rc = esWriteNeedAtomic(p, pScope);
    if( rc!=SQLITE_OK ) return appendDbError(pA, rc);
  }
  rc = esSchemaCreate(p, &zErr);
  if( rc!=SQLITE_OK ){
    appendError(pA, rc, "es_append: %s", zErr ? zErr : sqlite3_errstr(rc));
  }
  sqlite3_free(zErr);
  return rc==SQLITE_OK ? SQLITE_OK : pA->rcErr;
}

/*
** Check the schema (esSchemaCheck) on first use and after any change to
** it.  SQLite re-prepares the lookup statement after every schema change,
** so its re-prepare counter says when to look again; the check itself is
** rare.  This runs under the write lock, before anything is written.
*/
static int checkSchemaIfChanged(EsAppend *pA){
  EsConn *p = pA->p;
  sqlite3_stmt *pLookup = p->aStmt[ES_STMT_APPEND_LOOKUP];
  i64 n = sqlite3_stmt_status(pLookup, SQLITE_STMTSTATUS_REPREPARE, 0);
  char *zErr = 0;
  int rc;
  if( p->iCheckedReprepare==n ) return SQLITE_OK;
  rc = esSchemaCheck(p, &zErr);
  if( rc!=SQLITE_OK ){
    appendError(pA, rc, "es_append: %s", zErr ? zErr : sqlite3_errstr(rc));
    sqlite3_free(zErr);
    return pA->rcErr;
  }
  p->iCheckedReprepare = n;
  return SQLITE_OK;
}

/*
** The part of the append that runs inside the write scope.  Returns
** SQLITE_OK, or an error code with pA->zErr set.
*/
static int appendInScope(EsAppend *pA, EsWriteScope *pScope){
  EsConn *p = pA->p;
  int rc, bReplay = 0, bUndo = 0;

  if( p->iCheckedReprepare<0 ){
    rc = ensureSchema(pA, pScope);
    if( rc ) return rc;
  }
  rc = lookupStream(pA);
  if( rc==SQLITE_ERROR && esSchemaIsMissingError(p, rc) ){
    /* The store was dropped since this connection last used it. */
    sqlite3_free(pA->zErr);
    pA->zErr = 0;
    rc = ensureSchema(pA, pScope);
    if( rc==SQLITE_OK ) rc = lookupStream(pA);
  }
  if( rc ) return rc;
  rc = checkSchemaIfChanged(pA);
  if( rc ) return rc;

  if( !versionMatches(pA->iExpected, pA->iVersion) ){
    rc = checkReplay(pA, &bReplay);
    if( rc ) return rc;
    if( bReplay ) return SQLITE_OK;
    return appendError(pA, SQLITE_CONSTRAINT_FUNCTION, "es_append: version"
        " conflict on stream '%.*s:%.*s': expected version %lld, actual"
        " version %lld", pA->aggId.n, pA->aggId.z, pA->aggType.n,
        pA->aggType.z, pA->iExpected, pA->iVersion);
  }

  rc = needsUndo(pA, &bUndo);
  if( rc ) return rc;
  if( bUndo ){
    rc = esWriteNeedAtomic(p, pScope);
    if( rc ) return appendDbError(pA, rc);
  }
  return insertEvents(pA, pScope);
}

static void appendResult(EsAppend *pA){
  char zOut[160];
  sqlite3_snprintf(sizeof(zOut), zOut, "{\"success\":true,\"new_version\":%lld,"
      "\"global_position\":%lld,\"conflict\":false}", pA->iNewVersion,
      pA->iGlobalPosition);
  sqlite3_result_text(pA->ctx, zOut, -1, SQLITE_TRANSIENT);
}

static void appendFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsAppend a;
  EsWriteScope scope;
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  i64 iSavedRowid;
  int rc;

  memset(&a, 0, sizeof(a));
  a.p = p;
  a.ctx = ctx;
  if( esReadStreamArgs(ctx, argv[0], argv[1], "es_append", &a.aggId,
                       &a.aggType) ){
    return;
  }
  if( parseExpectedVersion(ctx, argv[2], &a.iExpected) ) return;

  if( argc==4 ){
    int eType = sqlite3_value_type(argv[3]);
    if( eType==SQLITE_NULL ){
      esResultError(ctx, SQLITE_ERROR, "es_append: events is NULL");
      return;
    }
    if( eType!=SQLITE_TEXT ){
      esResultError(ctx, SQLITE_ERROR, "es_append: events must be JSON text");
      return;
    }
    rc = esBatchParseJson(&a.batch, (const char*)sqlite3_value_text(argv[3]),
                          sqlite3_value_bytes(argv[3]));
  }else{
    rc = esBatchParseSingle(&a.batch, argv[3], argv[4], argc>5 ? argv[5] : 0);
  }
  if( rc ){
    if( a.batch.rcErr==SQLITE_NOMEM || a.batch.zErr==0 ){
      sqlite3_result_error_nomem(ctx);
    }else{
      esResultError(ctx, SQLITE_ERROR, "es_append: %s", a.batch.zErr);
    }
    esBatchFree(&a.batch);
    return;
  }
  if( p->bInAppend ){
    esResultError(ctx, SQLITE_ERROR, "es_append: called recursively (from a"
                  " trigger on the store?)");
    esBatchFree(&a.batch);
    return;
  }
  rc = findBatchDuplicates(&a);
  if( rc ){
    if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else esResultError(ctx, a.rcErr, "%s", a.zErr);
    goto done;
  }

  p->bInAppend = 1;
  iSavedRowid = sqlite3_last_insert_rowid(p->db);
  rc = esWriteBegin(p, &scope);
  if( rc==SQLITE_MISUSE ){
    appendError(&a, SQLITE_ERROR, "es_append: the connection is still inside"
        " the transaction of an earlier es_append that ran out of memory and"
        " could not roll it back: run ROLLBACK first");
  }else if( rc!=SQLITE_OK ){
    appendError(&a, rc, "es_append: cannot take the write lock: %s",
                sqlite3_errmsg(p->db));
    esWriteRollback(p, &scope);
  }else{
    rc = appendInScope(&a, &scope);
    if( rc==SQLITE_OK ){
      rc = esWriteCommit(p, &scope);
      if( rc ) appendError(&a, rc, "es_append: commit failed: %s",
                           sqlite3_errmsg(p->db));
    }else if( esWriteRollback(p, &scope) && a.zErr ){
      char *z = sqlite3_mprintf("%s (the transaction was rolled back)", a.zErr);
      if( z ){
        sqlite3_free(a.zErr);
        a.zErr = z;
      }
    }
  }
  sqlite3_set_last_insert_rowid(p->db, iSavedRowid);
  p->bInAppend = 0;
  if( p->bSchemaChanged ) esConnForgetStatements(p);

  if( rc==SQLITE_OK ){
    appendResult(&a);
  }else if( a.rcErr==SQLITE_NOMEM || a.zErr==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    esResultError(ctx, a.rcErr, "%s", a.zErr);
  }
done:
  sqlite3_free(a.zErr);
  sqlite3_free(a.aDupOf);
  sqlite3_free(a.aStoredPos);
  esBatchFree(&a.batch);
}

int esRegisterAppend(sqlite3 *db, EsConn *p){
  static const int aArgc[] = { 4, 5, 6 };
  int i, rc = SQLITE_OK;
  for(i=0; i<3 && rc==SQLITE_OK; i++){
    esConnRef(p);
    rc = sqlite3_create_function_v2(db, "es_append", aArgc[i],
        SQLITE_UTF8 | SQLITE_DIRECTONLY, p, appendFunc, 0, 0, esConnUnref);
  }
  return rc;
}
