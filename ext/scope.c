/*
** scope.c -- the write scope: how a function that writes the store
** (es_append, es_init, es_clear, es_checkpoint_set, the snapshot
** functions) makes its writes all-or-nothing in each context it can be
** called from.
**
**   esScopeBegin(p, &scope)         before the first read of the append
**   esScopeNeedAtomic(p, &scope)    the writes must be undone together
**   esScopeCommit / esScopeRollback at the end
**   esScopeRunWrite(ctx, ...)       all of it, for every writer but
**                                   es_append (whose hot path does the
**                                   same steps itself)
**
** THE THREE SCOPES
**
**  1. Autocommit, no other writing statement running
**     (SELECT es_append(...); SELECT es_append(...) FROM commands):
**     BEGIN IMMEDIATE ... COMMIT around the call, or ROLLBACK on error.
**     Without it every nested INSERT would commit on its own.  IMMEDIATE
**     takes the write lock before the version is read, so two processes
**     racing on one stream queue up on the lock (honouring busy_timeout)
**     and the second one sees the first one's events: one success and one
**     conflict, never SQLITE_BUSY_SNAPSHOT from a read-then-upgrade.
**
**  2. Inside the caller's transaction (BEGIN ... COMMIT, or a SAVEPOINT),
**     the outer statement a SELECT.  BEGIN/COMMIT are never run here: a
**     COMMIT would commit the caller's transaction, which is the caller's
**     to COMMIT or ROLLBACK.  No savepoint either, unless the caller's own
**     objects can refuse a write (THE RULE below): a savepoint copies
**     every page the append changes into the sub-journal, and once one
**     append's copies pass 64 KiB the sub-journal becomes a temporary
**     file, two write() calls per page per append.  (In a transaction of
**     10,000 appends of 10 events: 555,000 write() calls against 53,000,
**     and half the time.)  An error that stops a write (I/O, disk full,
**     out of memory, an interrupt) makes SQLite roll back the caller's
**     whole transaction, or esScopeRollback does where SQLite does not.
**
**  3. Under a writing statement (INSERT INTO log SELECT es_append(...),
**     or a TEMP trigger): SQLite refuses to open a savepoint while a
**     writing statement runs.  None is needed: when es_append raises an
**     error the outer statement fails and its own rollback (the statement
**     journal inside a transaction, the whole implicit transaction in
**     autocommit) removes every row es_append wrote.  SQL has no way to
**     catch a function's error and go on, so the partial rows can never
**     be committed.
**
** THE RULE the savepoint-free scope 2 depends on: an append is never
** refused after its first write unless a savepoint is open.  Every check
** that can refuse (the version, an event id stored with other content, a
** row too long to store) runs before the first write; a generated event id
** that happens to be stored takes another one instead of failing; and
** where the application's own objects on the store's tables (a TEMP
** trigger, a UNIQUE or expression index) could refuse a second write, the
** append opens a savepoint (esScopeNeedAtomic).  esScopeRefuse() asserts
** the rule wherever a refusal is made.
**
** THE WRITE LOCK.  A connection that already reads the database cannot
** wait for the write lock: SQLite does not call the busy handler then,
** since two readers that both wait to write would wait for each other.
** So before the append reads anything, the scope takes the write lock if
** it can still wait for it (takeWriteLock); where it cannot (the caller's
** transaction, or the statement that calls es_append, already reads the
** database), a refused lock is reported as what it is, with the form to
** use instead (esScopeLockError), and not as "database is locked", which
** would send retry loops round for ever.
*/
#include "es_internal.h"

/* True if a statement that writes is running on this connection. */
int esScopeWritingStatementRunning(sqlite3 *db){
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
** leave the transaction open (esScopeRollback).
*/
static int preparePath(EsConn *p){
  static const int aStmt[] = {
    ES_STMT_COUNT_TABLES, ES_STMT_SCHEMA_OBJECTS,
    ES_STMT_APPEND_LOOKUP, ES_STMT_INSERT_EVENT, ES_STMT_INSERT_STREAM,
    ES_STMT_NEXT_STREAM_KEY, ES_STMT_EVENT_BY_ID, ES_STMT_EVENT_AT,
    ES_STMT_SCHEMA_VERSION, ES_STMT_WRITE_LOCK, ES_STMT_INDEX_REFUSES,
    ES_STMT_TEMP_TRIGGERS, ES_STMT_JOURNAL_MODE, ES_STMT_SCHEMA_COOKIE,
    ES_STMT_LAST_EVENT                          /* es_import's head check */
  };
  int i, rc;
  sqlite3_stmt *pStmt;
  rc = prepareUndo(p, ES_STMT_SAVEPOINT, ES_STMT_ROLLBACK_TO);
  if( rc==SQLITE_OK ) rc = prepareUndo(p, ES_STMT_ROLLBACK, ES_STMT_RELEASE);
  if( rc!=SQLITE_OK ) return rc;
  for(i=0; i<(int)(sizeof(aStmt)/sizeof(aStmt[0])); i++){
    rc = esConnStmt(p, aStmt[i], &pStmt);
    if( rc==SQLITE_NOMEM ) return rc;
    if( rc!=SQLITE_OK ) return SQLITE_OK;    /* no schema yet */
  }
  return SQLITE_OK;
}

/*
** Take main's write lock now, while the connection does not read main yet
** and so can still wait for it (the busy handler is called).  Any write
** statement takes the lock before it runs; this one changes nothing.  On a
** database without the store it cannot be prepared: the first append then
** reads before it writes.
*/
static int takeWriteLock(EsConn *p){
  sqlite3_stmt *pStmt;
  if( sqlite3_txn_state(p->db, "main")!=SQLITE_TXN_NONE ) return SQLITE_OK;
  if( esConnStmt(p, ES_STMT_WRITE_LOCK, &pStmt)!=SQLITE_OK ) return SQLITE_OK;
  return esConnRun(p, ES_STMT_WRITE_LOCK);
}

/*
** Open the scope.  In autocommit mode this takes the write lock.
**
** If a transaction this code began could not be rolled back (out of
** memory, see esScopeRollback), the connection is still inside it: refuse
** to add to it (SQLITE_MISUSE, esScopeOrphanError) until the application
** has run ROLLBACK.
*/
int esScopeBegin(EsConn *p, EsScope *pScope){
  int rc;
  pScope->eKind = ES_SCOPE_NONE;
  pScope->bWrote = 0;
  if( p->bOrphanTxn ){
    if( !sqlite3_get_autocommit(p->db) ) return SQLITE_MISUSE;
    p->bOrphanTxn = 0;
  }
  rc = preparePath(p);
  if( rc!=SQLITE_OK ) return rc;
  if( !sqlite3_get_autocommit(p->db) ) return takeWriteLock(p);
  if( esScopeWritingStatementRunning(p->db) ){
    pScope->eKind = ES_SCOPE_STATEMENT;
    return takeWriteLock(p);
  }
  rc = prepareUndo(p, ES_STMT_COMMIT, ES_STMT_BEGIN_IMMEDIATE);
  if( rc!=SQLITE_OK ) return rc;
  pScope->eKind = ES_SCOPE_TRANSACTION;
  return esConnRun(p, ES_STMT_BEGIN_IMMEDIATE);
}

/*
** The writes that follow must be undone together if one of them is
** refused.  Only scope 2 needs to do anything: it opens a savepoint.
*/
int esScopeNeedAtomic(EsConn *p, EsScope *pScope){
  int rc;
  if( pScope->eKind!=ES_SCOPE_NONE ) return SQLITE_OK;
  assert( !pScope->bWrote );
  rc = esConnRun(p, ES_STMT_SAVEPOINT);
  if( rc==SQLITE_OK ){
    pScope->eKind = ES_SCOPE_SAVEPOINT;
  }else if( rc==SQLITE_BUSY ){
    /* "cannot open savepoint - SQL statements in progress": a writing
    ** statement is running (a trigger, INSERT ... SELECT): scope 3. */
    pScope->eKind = ES_SCOPE_STATEMENT;
    rc = SQLITE_OK;
  }
  return rc;
}

/* A write statement ran: note whether it wrote (see esScopeRollback). */
void esScopeWrote(EsScope *pScope, int bWrote){
  if( bWrote ) pScope->bWrote = 1;
}

/*
** A refusal (version conflict, an id stored with other content, ...) is
** about to be returned with code rc.  THE RULE (see the top of this file).
*/
int esScopeRefuse(const EsScope *pScope, int rc){
  assert( !pScope->bWrote || pScope->eKind!=ES_SCOPE_NONE );
  (void)pScope;
  return rc;
}

int esScopeCommit(EsConn *p, EsScope *pScope){
  int rc = SQLITE_OK;
  switch( pScope->eKind ){
    case ES_SCOPE_TRANSACTION:
      rc = esConnRun(p, ES_STMT_COMMIT);
      if( rc!=SQLITE_OK ){
        esScopeRollback(p, pScope);
        return rc;
      }
      break;
    case ES_SCOPE_SAVEPOINT:
      rc = esConnRun(p, ES_STMT_RELEASE);
      break;
  }
  pScope->eKind = ES_SCOPE_NONE;
  pScope->bWrote = 0;
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
  return esConnRun(p, eStmt);
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
** Undo a failed write.  Returns 1 if that took rolling back the caller's
** whole transaction (scope 2 without a savepoint, see below).
*/
int esScopeRollback(EsConn *p, EsScope *pScope){
  int bRolledBackAll = 0;
  switch( pScope->eKind ){
    case ES_SCOPE_NONE:
      /* Scope 2 without a savepoint (THE RULE): only an error that is not
      ** a refusal can stop such an append after a write, and on those
      ** (I/O, full disk, out of memory, interrupt) SQLite rolls back the
      ** whole transaction itself.  With one exception: a progress handler
      ** that interrupts a statement just after it finished reports
      ** SQLITE_INTERRUPT with the row written.  Then do what SQLite does
      ** for an interrupted write: roll back the transaction. */
      if( pScope->bWrote && !sqlite3_get_autocommit(p->db) ){
        bRolledBackAll = rollbackTransaction(p);
      }
      break;
    case ES_SCOPE_TRANSACTION:
      /* Out of memory inside a nested statement interrupts every
      ** statement until the outer one ends, so ROLLBACK can fail here.
      ** Then the connection stays in the transaction (uncommitted, so
      ** the store is unchanged); esScopeBegin refuses to go on in it. */
      if( !rollbackTransaction(p) ) p->bOrphanTxn = 1;
      break;
    case ES_SCOPE_SAVEPOINT:
      runUndo(p, ES_STMT_ROLLBACK_TO);
      runUndo(p, ES_STMT_RELEASE);
      break;
  }
  pScope->eKind = ES_SCOPE_NONE;
  pScope->bWrote = 0;
  return bRolledBackAll;
}

/* The message for esScopeBegin's SQLITE_MISUSE, owned by the caller. */
char *esScopeOrphanError(const char *zFunc){
  return sqlite3_mprintf("%s: the connection is still inside the transaction"
      " of an earlier eventstore call that ran out of memory and could not"
      " roll it back: run ROLLBACK first", zFunc);
}

/*
** The message for a write lock that was refused to a connection that
** already reads the database (see THE WRITE LOCK), or 0 if rcExtended is
** not that.  The caller keeps the extended code.
*/
char *esScopeLockError(EsConn *p, const char *zFunc, int rcExtended){
  if( rcExtended==SQLITE_BUSY_SNAPSHOT ){
    return sqlite3_mprintf("%s: another connection wrote to the database"
        " after this transaction (or the statement that calls %s) began"
        " reading it, so this one cannot write (SQLITE_BUSY_SNAPSHOT) and"
        " waiting cannot help: roll back, and begin the transaction with"
        " BEGIN IMMEDIATE so that it takes the write lock before it reads",
        zFunc, zFunc);
  }
  if( (rcExtended & 0xff)==SQLITE_BUSY
   && sqlite3_txn_state(p->db, "main")==SQLITE_TXN_READ ){
    return sqlite3_mprintf("%s: another connection is writing to the"
        " database, and this transaction (or the statement that calls %s)"
        " already reads it, so it cannot wait for the write lock: roll back,"
        " and begin the transaction with BEGIN IMMEDIATE so that it takes"
        " the write lock before it reads", zFunc, zFunc);
  }
  return 0;
}

/*
** Make sure the store exists in this build's format before a writer other
** than es_init and es_clear writes to it: create it (the writes then need
** undoing together), check it, or upgrade it (schema.c).  A store dropped
** under this connection is not made again behind the caller's back.
*/
static int ensureStore(EsConn *p, EsScope *pScope, char **pzErr){
  int rc, bExists = 0, bDropped = 0;
  rc = esSchemaExists(p, &bExists);
  if( rc==SQLITE_OK && !bExists ) rc = esSchemaWasDropped(p, &bDropped);
  if( rc!=SQLITE_OK ) return rc;
  if( bDropped ){
    *pzErr = sqlite3_mprintf("%s", ES_DROPPED_PROBLEM);
    return esScopeRefuse(pScope, SQLITE_ERROR);
  }
  if( !bExists ){
    rc = esScopeNeedAtomic(p, pScope);
    if( rc!=SQLITE_OK ) return rc;
  }
  return esSchemaCreate(p, pzErr);
}

/*
** Run the whole write of a function: open the scope, make its writes
** atomic (eFlags ES_WRITE_ATOMIC), make sure the store exists
** (ES_WRITE_STORE), run xWork, commit, or roll back on any error.  xWork
** must refuse (bad state, a failed compare-and-set) before it writes, and
** write with one statement unless ES_WRITE_ATOMIC is given (THE RULE).  Returns SQLITE_OK, for the caller to set its result, or an
** error code with the error set on ctx: "<zFunc>: <message>" and, for
** a refusal, the code xWork returned.
*/
int esScopeRunWrite(sqlite3_context *ctx, const char *zFunc, int eFlags,
                    EsWriteWork xWork, void *pArg){
  EsConn *p = (EsConn*)sqlite3_user_data(ctx);
  EsScope scope;
  char *zErr = 0, *zLock;
  int rc = esScopeBegin(p, &scope);
  if( rc==SQLITE_MISUSE ){
    esResultErrorMsg(ctx, SQLITE_ERROR, esScopeOrphanError(zFunc));
    return SQLITE_ERROR;
  }
  if( rc==SQLITE_OK && (eFlags & ES_WRITE_ATOMIC) ){
    rc = esScopeNeedAtomic(p, &scope);
  }
  if( rc==SQLITE_OK && (eFlags & ES_WRITE_STORE) ){
    rc = ensureStore(p, &scope, &zErr);
  }
  if( rc==SQLITE_OK ) rc = xWork(p, pArg, &zErr);
  if( rc==SQLITE_OK ){
    rc = esScopeCommit(p, &scope);
  }else{
    esScopeRollback(p, &scope);
  }
  if( p->bSchemaChanged ) esConnForgetStatements(p);
  if( rc==SQLITE_OK ){
    assert( zErr==0 );
    return SQLITE_OK;
  }
  if( (rc & 0xff)==SQLITE_BUSY
   && (zLock = esScopeLockError(p, zFunc, sqlite3_extended_errcode(p->db)))!=0 ){
    rc = sqlite3_extended_errcode(p->db);
    esResultErrorMsg(ctx, rc, zLock);
  }else if( zErr ){
    esResultError(ctx, rc, "%s: %s", zFunc, zErr);
  }else{
    esResultDbError(ctx, zFunc, rc);
  }
  sqlite3_free(zErr);
  return rc;
}
