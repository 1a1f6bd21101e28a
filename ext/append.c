/*
** append.c -- es_append(): the write path of the event store.
**
**   es_append(aggregate_id, aggregate_type, expected_version, events)
**   es_append(aggregate_id, aggregate_type, expected_version, event_type,
**             data [, options])
**
** Order of work: validate every argument and parse every event (args.c,
** batch.c: no lock, no write yet); open the write scope (scope.c, which
** says how each calling context is made all-or-nothing); find the stream
** and its version; check the expected version (or recognise a replay of a
** stored batch); find every reason to refuse the batch; insert the
** events, skipping stored event ids, and the stream row after them; close
** the scope.
**
** Persistent triggers and views cannot call es_append at all: it is
** registered SQLITE_DIRECTONLY, because it writes.
*/
#include "es_internal.h"

int esAppendError(EsAppend *pA, int rc, const char *zFmt, ...){
  va_list ap;
  if( pA->zErr==0 ){
    va_start(ap, zFmt);
    pA->zErr = sqlite3_vmprintf(zFmt, ap);
    va_end(ap);
    /* es_import shares the append's checks, whose messages name
    ** es_append: every message names the function that was called. */
    if( pA->pImport && pA->zErr && strncmp(pA->zErr, "es_append:", 10)==0 ){
      char *z = sqlite3_mprintf("es_import:%s", pA->zErr+10);
      sqlite3_free(pA->zErr);
      pA->zErr = z;
    }
    pA->rcErr = pA->zErr ? rc : SQLITE_NOMEM;
  }
  return pA->rcErr;
}

/* An error from the database: keep SQLite's code (the extended one) and
** message, and say which function met it; a write lock that could not be
** waited for says so (esScopeLockError). */
int esAppendDbError(EsAppend *pA, int rc){
  int rcExtended = sqlite3_extended_errcode(pA->p->db);
  char *zLock;
  if( rc==SQLITE_NOMEM ){
    pA->rcErr = SQLITE_NOMEM;
    return rc;
  }
  if( (rcExtended & 0xff)==(rc & 0xff) ) rc = rcExtended;
  if( (rc & 0xff)==SQLITE_BUSY
   && (zLock = esScopeLockError(pA->p, esAppendName(pA), rc))!=0 ){
    esAppendError(pA, rc, "%s", zLock);
    sqlite3_free(zLock);
    return pA->rcErr;
  }
  return esAppendError(pA, rc, "es_append: %s", sqlite3_errmsg(pA->p->db));
}

/* Run a bound insert and note in the scope whether it wrote a row. */
static int runInsert(EsAppend *pA, sqlite3_stmt *pStmt){
  sqlite3 *db = pA->p->db;
  int nTotal = sqlite3_total_changes(db);
  int rc = sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
  /* (Before rc: a statement can report an error with its row written,
  ** see esScopeRollback.  The total, not sqlite3_changes(): a statement
  ** that never ran leaves that at an earlier statement's count.) */
  esScopeWrote(&pA->scope, sqlite3_total_changes(db)!=nTotal);
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

/* Find the stream, its version, the store's newest stored_at and the kind
** of the first event's type. */
static int lookupStream(EsAppend *pA){
  sqlite3_stmt *pStmt;
  const EsText *pType = &pA->batch.aEvent[0].eventType;
  i64 a[4] = { 0, 0, ES_MIN_MICROS, 0 };
  int bRow, rc = esConnStmt(pA->p, ES_STMT_APPEND_LOOKUP, &pStmt);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  sqlite3_bind_text(pStmt, 1, pA->aggId.z, pA->aggId.n, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 2, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 3, pType->z, pType->n, SQLITE_STATIC);
  rc = esConnReadRow(pStmt, a, 4, &bRow);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  pA->iStreamKey = a[0];
  pA->iVersion = a[1];
  pA->iLastStoredAt = a[2];
  pA->iFirstKind = a[3];
  return SQLITE_OK;
}

static int sameText(const EsText *a, const EsText *b){
  return a->n==b->n && memcmp(a->z, b->z, a->n)==0;
}

/*
** The kind (es_kinds) of every event of the batch: an event of the type
** of an earlier one has its kind; the first event's came with the stream
** lookup; the others are looked up.  A type that has no kind yet gets 0
** here, and its kind is written (newKinds) before the events, after every
** check that can refuse the batch (THE RULE, scope.c).
*/
static int findKinds(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  int i, j, rc = SQLITE_OK;
  pA->nNewKind = 0;
  for(i=0; i<pB->nEvent && rc==SQLITE_OK; i++){
    EsEvent *pEv = &pB->aEvent[i];
    for(j=i-1; j>=0 && !sameText(&pB->aEvent[j].eventType, &pEv->eventType); j--){}
    if( j>=0 ){
      pEv->iKind = pB->aEvent[j].iKind;
      if( pEv->iKind<=0 ) pEv->iKind = -1 - j;    /* new, as event j's */
      continue;
    }
    if( i==0 ){
      pEv->iKind = pA->iFirstKind;
    }else{
      sqlite3_stmt *pStmt;
      i64 iKind = 0;
      int bRow;
      rc = esConnStmt(pA->p, ES_STMT_KIND_LOOKUP, &pStmt);
      if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
      sqlite3_bind_text(pStmt, 1, pEv->eventType.z, pEv->eventType.n,
                        SQLITE_STATIC);
      sqlite3_bind_text(pStmt, 2, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
      rc = esConnReadRow(pStmt, &iKind, 1, &bRow);
      if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
      pEv->iKind = iKind;
    }
    if( pEv->iKind==0 ) pA->nNewKind++;
  }
  return rc;
}

/* Is event i written (not the repeat of an earlier one, not stored)? */
static int isWritten(const EsAppend *pA, int i){
  return !(pA->aDupOf && pA->aDupOf[i]>=0)
      && !(pA->aStoredPos && pA->aStoredPos[i]>0);
}

/*
** Write the kinds that the batch's written events need and do not have:
** each new type once (an event whose type came earlier in the batch takes
** that event's kind), so that no kind is stored without an event.
*/
static int newKinds(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  sqlite3_stmt *pStmt;
  int i, rc;
  if( pA->nNewKind==0 ) return SQLITE_OK;
  rc = esConnStmt(pA->p, ES_STMT_INSERT_KIND, &pStmt);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  for(i=0; i<pB->nEvent; i++){
    EsEvent *pEv = &pB->aEvent[i];
    if( !isWritten(pA, i) || pEv->iKind>0 ) continue;
    if( pEv->iKind<0 && pB->aEvent[-1 - pEv->iKind].iKind>0 ){
      pEv->iKind = pB->aEvent[-1 - pEv->iKind].iKind;
      continue;
    }
    sqlite3_bind_text(pStmt, 1, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
    sqlite3_bind_text(pStmt, 2, pEv->eventType.z, pEv->eventType.n,
                      SQLITE_STATIC);
    rc = runInsert(pA, pStmt);
    sqlite3_clear_bindings(pStmt);
    if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
    pEv->iKind = sqlite3_last_insert_rowid(pA->p->db);
  }
  return SQLITE_OK;
}

static int versionMatches(i64 iExpected, i64 iVersion){
  if( iExpected==ES_EXPECT_ANY ) return 1;
  if( iExpected==ES_EXPECT_STREAM_EXISTS ) return iVersion>0;
  return iVersion==iExpected;
}

/* Bytes in the SQLite varint of v. */
static int varintLength(sqlite3_uint64 v){
  int n = 1;
  while( v>0x7f && n<9 ){ v >>= 7; n++; }
  return n;
}

/* A text column of n bytes in a record: its serial type and its bytes. */
static i64 textInRecord(i64 n){
  return n + varintLength((sqlite3_uint64)(2*n + 13));
}

/*
** An upper bound on the length of event pEv's record as SQLite checks it
** against SQLITE_LIMIT_LENGTH (ES_STMT_INSERT_EVENT's 14 columns): exact
** for text, blobs and NULLs, and 8 bytes for each of the 6 integers, so it
** is at most 48 bytes above the real length.  (The stream's and the kind's
** rows hold only the types and the id, which args.c keeps short.)
*/
static i64 rowLengthBound(const EsAppend *pA, const EsEvent *pEv){
  i64 nHdrBody = 1                                  /* global_position */
      + (pEv->tenantId.z ? textInRecord(pEv->tenantId.n) : 1)
      + (pEv->actorId.z ? textInRecord(pEv->actorId.n) : 1)
      + 2*(1 + 16) + (pEv->hasCausation ? 1 + 16 : 1)   /* uuid blobs */
      + textInRecord(pEv->data.n) + textInRecord(pEv->metadata.n)
      + 6*(1 + 8);                                  /* the integers */
  (void)pA;
  return nHdrBody + varintLength((sqlite3_uint64)nHdrBody);
}

/* Is main's journal mode OFF, where no write can be rolled back? */
static int journalIsOff(EsAppend *pA, int *pbOff){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_JOURNAL_MODE, &pStmt);
  *pbOff = 0;
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    *pbOff = z && sqlite3_stricmp(z, "off")==0;
  }
  rc = sqlite3_reset(pStmt);
  return rc==SQLITE_OK ? SQLITE_OK : esAppendDbError(pA, rc);
}

/*
** Find, before the first write, every reason the batch could be refused
** after it (THE RULE, scope.c), and say in *pbUndo whether its writes
** still need a savepoint:
**
**   - an event_id, given by the caller, already stored with different
**     content: such an append fails now, and any other stored id is the
**     same event, noted in aStoredPos and skipped without another read (a
**     read that fails after a write, say interrupted, would not roll the
**     write back).  (A generated id that happens to be stored is replaced,
**     insertEvent.)
**   - a row longer than SQLITE_LIMIT_LENGTH (SQLITE_TOOBIG): refused now,
**     by a bound on its length (rowLengthBound).
**   - the application's own objects on the store's tables that can refuse
**     a row (p->bForeignRefuser: a TEMP trigger, a UNIQUE, partial or
**     expression index).  They can refuse any write, so an append of two
**     rows or more (its events, and the row of a new stream) takes a
**     savepoint, which keeps the caller's transaction when they do.  With
**     journal_mode=OFF nothing can be rolled back: such an append is
**     refused before it writes.
*/
static int findRefusals(EsAppend *pA, int *pbUndo){
  EsBatch *pB = &pA->batch;
  i64 nLimit = sqlite3_limit(pA->p->db, SQLITE_LIMIT_LENGTH, -1);
  int i, rc, nWrite = 0;
  i64 iPos;
  *pbUndo = 0;
  for(i=0; i<pB->nEvent; i++){
    const EsEvent *pEv = &pB->aEvent[i];
    if( pA->aDupOf && pA->aDupOf[i]>=0 ) continue;
    nWrite++;
    if( rowLengthBound(pA, pEv)>nLimit ){
      char zWhich[32];
      sqlite3_snprintf(sizeof(zWhich), zWhich, pB->nEvent>1 ? "event %d"
                       : "the event", i+1);
      return esAppendRefusal(pA, SQLITE_TOOBIG, "es_append: %s is too big to"
          " store: its row would take up to %lld bytes, more than"
          " SQLITE_LIMIT_LENGTH (%lld)", zWhich, rowLengthBound(pA, pEv),
          nLimit);
    }
    if( pEv->hasEventId && pB->nEvent>1 ){
      iPos = 0;
      rc = esIdempotencyStored(pA, pEv, &iPos, 0);
      if( rc ) return rc;
      if( iPos>0 ){
        if( pA->aStoredPos==0 ){
          pA->aStoredPos = sqlite3_malloc64(sizeof(i64)*(sqlite3_uint64)pB->nEvent);
          if( pA->aStoredPos==0 ) return esAppendDbError(pA, SQLITE_NOMEM);
          memset(pA->aStoredPos, 0, sizeof(i64)*(size_t)pB->nEvent);
        }
        pA->aStoredPos[i] = iPos;
        nWrite--;
      }
    }
  }
  if( pA->iStreamKey==0 ) nWrite++;             /* the new stream's row */
  nWrite += pA->nNewKind;                       /* and new kinds' rows */
  if( pA->p->bForeignRefuser && nWrite>=2 ){
    int bOff;
    rc = journalIsOff(pA, &bOff);
    if( rc ) return rc;
    if( bOff ){
      return esAppendRefusal(pA, SQLITE_ERROR, "es_append: journal_mode=OFF"
          " cannot roll back a write, and this database has objects of its"
          " own on the store's tables (a TEMP trigger, a UNIQUE, partial or"
          " expression index) that could refuse part of this append after"
          " its first row: use another journal mode, or drop them");
    }
    *pbUndo = 1;
  }
  return SQLITE_OK;
}

static int nextStreamKey(EsAppend *pA, i64 *piKey){
  sqlite3_stmt *pStmt;
  int bRow, rc = esConnStmt(pA->p, ES_STMT_NEXT_STREAM_KEY, &pStmt);
  if( rc==SQLITE_OK ) rc = esConnReadRow(pStmt, piKey, 1, &bRow);
  return rc==SQLITE_OK ? SQLITE_OK : esAppendDbError(pA, rc);
}

static int insertStream(EsAppend *pA, i64 iKey){
  sqlite3_stmt *pStmt;
  int rc = esConnStmt(pA->p, ES_STMT_INSERT_STREAM, &pStmt);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  sqlite3_bind_int64(pStmt, 1, iKey);
  sqlite3_bind_text(pStmt, 2, pA->aggId.z, pA->aggId.n, SQLITE_STATIC);
  sqlite3_bind_text(pStmt, 3, pA->aggType.z, pA->aggType.n, SQLITE_STATIC);
  rc = runInsert(pA, pStmt);
  sqlite3_clear_bindings(pStmt);
  return rc==SQLITE_OK ? SQLITE_OK : esAppendDbError(pA, rc);
}

static void bindOptionalText(sqlite3_stmt *pStmt, int i, const EsText *pT){
  if( pT->z ){
    sqlite3_bind_text(pStmt, i, pT->z, pT->n, SQLITE_STATIC);
  }else{
    sqlite3_bind_null(pStmt, i);
  }
}

/*
** Insert one event at stream position iPosition with the prepared insert,
** whose shared values insertEvents has bound.  *pbStored: it was stored;
** else its id was found stored already.  A generated id that is already
** stored (two random UUIDs alike) is replaced and the insert tried again:
** the event has no identity yet, the caller never saw the first id, and a
** refusal here could come after earlier writes (THE RULE, scope.c).
*/
static int insertEvent(EsAppend *pA, sqlite3_stmt *pStmt, EsEvent *pEv,
                       i64 iPosition, i64 iStoredAt, int *pbStored){
  int nTry, rc = SQLITE_OK;
  *pbStored = 0;
  assert( pEv->iKind>0 );
  for(nTry=0; nTry<8; nTry++){
    if( nTry ) esUuidGenerate(pEv->eventId);
    sqlite3_bind_int64(pStmt, 2, iPosition);
    sqlite3_bind_int64(pStmt, 3, pEv->iKind);
    sqlite3_bind_blob(pStmt, 4, pEv->eventId, 16, SQLITE_STATIC);
    if( pEv->eventVersion!=1 ){
      sqlite3_bind_int64(pStmt, 5, pEv->eventVersion);
    }else{
      sqlite3_bind_null(pStmt, 5);
    }
    bindOptionalText(pStmt, 6, &pEv->tenantId);
    bindOptionalText(pStmt, 7, &pEv->actorId);
    sqlite3_bind_blob(pStmt, 8, pEv->correlationId, 16, SQLITE_STATIC);
    if( pEv->hasCausation ){
      sqlite3_bind_blob(pStmt, 9, pEv->causationId, 16, SQLITE_STATIC);
    }else{
      sqlite3_bind_null(pStmt, 9);
    }
    if( pEv->hasOccurredAt && pEv->occurredAt!=iStoredAt ){
      sqlite3_bind_int64(pStmt, 10, pEv->occurredAt);
    }else{
      sqlite3_bind_null(pStmt, 10);     /* the same as stored_at */
    }
    sqlite3_bind_text(pStmt, 12, pEv->data.z, pEv->data.n, SQLITE_STATIC);
    if( pEv->metadata.n==2 && memcmp(pEv->metadata.z, "{}", 2)==0 ){
      sqlite3_bind_null(pStmt, 13);
    }else{
      sqlite3_bind_text(pStmt, 13, pEv->metadata.z, pEv->metadata.n,
                        SQLITE_STATIC);
    }
    rc = runInsert(pA, pStmt);
    if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
    if( sqlite3_changes(pA->p->db)>0 ){
      *pbStored = 1;
      return SQLITE_OK;
    }
    if( pEv->hasEventId ) break;
  }
  return SQLITE_OK;
}

/*
** Insert the events after the version check.  Stored ids are skipped;
** the stream row is written only if at least one event was.  The result's
** global position is that of the last event this call stored or, if it
** stored none (a replay), the stored position of the batch's last event.
*/
static int insertEvents(EsAppend *pA){
  EsBatch *pB = &pA->batch;
  sqlite3_stmt *pStmt;
  i64 iKey = pA->iStreamKey, iVersion = pA->iVersion, iStoredAt;
  i64 iLastInserted = 0, iStoredPos = 0;
  int i, rc;

  if( iKey==0 ){
    rc = nextStreamKey(pA, &iKey);
    if( rc ) return rc;
  }
  rc = newKinds(pA);
  if( rc ) return rc;
  /* stored_at never goes backwards along global_position, even if the
  ** clock does: a stored_at range is then a global_position range.  An
  ** import brings its own (esImportCheck has compared it). */
  if( pA->pImport ){
    iStoredAt = pA->pImport->iStoredAt;
  }else{
    iStoredAt = esTimestampNow();
    if( iStoredAt<pA->iLastStoredAt ) iStoredAt = pA->iLastStoredAt;
  }

  rc = esConnStmt(pA->p, ES_STMT_INSERT_EVENT, &pStmt);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  /* What every event of the batch shares is bound once: bindings outlive
  ** sqlite3_reset(), and each bind takes the connection's mutex. */
  sqlite3_bind_int64(pStmt, 1, iKey);
  sqlite3_bind_int64(pStmt, 11, iStoredAt);
  for(i=0; i<pB->nEvent && rc==SQLITE_OK; i++){
    EsEvent *pEv = &pB->aEvent[i];
    int bStored;
    if( !isWritten(pA, i) ){
      /* The repeat of an earlier event of the batch, or stored already
      ** (found before writing): skipped. */
      if( pA->aStoredPos && pA->aStoredPos[i]>0 ) iStoredPos = pA->aStoredPos[i];
      continue;
    }
    rc = insertEvent(pA, pStmt, pEv, iVersion+1, iStoredAt, &bStored);
    if( rc==SQLITE_OK && bStored ){
      iVersion++;
      iLastInserted = sqlite3_last_insert_rowid(pA->p->db);
    }else if( rc==SQLITE_OK ){
      rc = esIdempotencyStored(pA, pEv, &iStoredPos, 1);
    }
  }
  sqlite3_clear_bindings(pStmt);
  if( rc ) return rc;
  if( iLastInserted>0 && pA->iStreamKey==0 ){
    rc = insertStream(pA, iKey);
    if( rc ) return rc;
  }
  if( iLastInserted==0 ){
    /* Every event was already stored: report where the last one is. */
    rc = esIdempotencyStored(pA, &pB->aEvent[pB->nEvent-1], &iStoredPos, 1);
    if( rc ) return rc;
  }
  pA->iNewVersion = iVersion;
  pA->iGlobalPosition = iLastInserted>0 ? iLastInserted : iStoredPos;
  return SQLITE_OK;
}

/*
** Create the schema if the database has none, or check the one it has.
*/
static int ensureSchema(EsAppend *pA){
  EsConn *p = pA->p;
  int rc, bExists = 0, bDropped = 0;
  char *zErr = 0;
  rc = esSchemaExists(p, &bExists);
  if( rc==SQLITE_OK && !bExists ) rc = esSchemaWasDropped(p, &bDropped);
  if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  if( bDropped ){
    return esAppendRefusal(pA, SQLITE_ERROR, "es_append: " ES_DROPPED_PROBLEM);
  }
  if( !bExists ){
    rc = esScopeNeedAtomic(p, &pA->scope);
    if( rc!=SQLITE_OK ) return esAppendDbError(pA, rc);
  }
  rc = esSchemaCreate(p, &zErr);
  if( rc!=SQLITE_OK ){
    esAppendError(pA, rc, "es_append: %s", zErr ? zErr : sqlite3_errstr(rc));
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
  int rc, iFormat = 0;
  if( p->iCheckedReprepare==n ) return SQLITE_OK;
  rc = esSchemaCheck(p, &iFormat, &zErr);
  if( rc==SQLITE_OK && iFormat<ES_SCHEMA_VERSION ){
    /* Another connection, of an older build, made the store anew. */
    rc = esSchemaCreate(p, &zErr);
  }
  if( rc!=SQLITE_OK ){
    esAppendError(pA, rc, "es_append: %s", zErr ? zErr : sqlite3_errstr(rc));
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
static int appendInScope(EsAppend *pA){
  EsConn *p = pA->p;
  int rc, bReplay = 0, bUndo = 0;

  if( p->iCheckedReprepare<0 ){
    rc = ensureSchema(pA);
    if( rc ) return rc;
  }
  rc = lookupStream(pA);
  if( rc==SQLITE_ERROR && esSchemaIsMissingError(p, rc) ){
    /* The store was dropped since this connection last used it. */
    sqlite3_free(pA->zErr);
    pA->zErr = 0;
    rc = ensureSchema(pA);
    if( rc==SQLITE_OK ) rc = lookupStream(pA);
  }
  if( rc ) return rc;
  rc = checkSchemaIfChanged(pA);
  if( rc ) return rc;

  if( pA->pImport ){
    rc = esImportCheck(pA);
    if( rc ) return rc;
  }else if( !versionMatches(pA->iExpected, pA->iVersion) ){
    rc = esIdempotencyReplay(pA, &bReplay);
    if( rc ) return rc;
    if( bReplay ) return SQLITE_OK;
    return esAppendRefusal(pA, SQLITE_CONSTRAINT_FUNCTION, "es_append: version"
        " conflict on stream '%.*s:%.*s': expected version %lld, actual"
        " version %lld", pA->aggId.n, pA->aggId.z, pA->aggType.n,
        pA->aggType.z, pA->iExpected, pA->iVersion);
  }

  rc = findKinds(pA);
  if( rc ) return rc;
  rc = findRefusals(pA, &bUndo);
  if( rc ) return rc;
  if( bUndo ){
    rc = esScopeNeedAtomic(p, &pA->scope);
    if( rc ) return esAppendDbError(pA, rc);
  }
  return insertEvents(pA);
}

/* Parse the events argument(s) of either form into pA->batch. */
static int parseEvents(EsAppend *pA, int argc, sqlite3_value **argv){
  int rc;
  if( argc==4 ){
    int eType = sqlite3_value_type(argv[3]);
    if( eType==SQLITE_NULL ){
      return esAppendError(pA, SQLITE_ERROR, "es_append: events is NULL");
    }
    if( eType!=SQLITE_TEXT ){
      return esAppendError(pA, SQLITE_ERROR, "es_append: events must be JSON"
                         " text");
    }
    rc = esBatchParseJson(&pA->batch, (const char*)sqlite3_value_text(argv[3]),
                          sqlite3_value_bytes(argv[3]));
  }else{
    rc = esBatchParseSingle(&pA->batch, argv[3], argv[4],
                            argc>5 ? argv[5] : 0);
  }
  if( rc==0 ) return SQLITE_OK;
  if( pA->batch.rcErr==SQLITE_NOMEM || pA->batch.zErr==0 ){
    return esAppendDbError(pA, SQLITE_NOMEM);
  }
  return esAppendError(pA, SQLITE_ERROR, "es_append: %s", pA->batch.zErr);
}

/* Open the scope, append, close the scope. */
static int appendWithScope(EsAppend *pA){
  EsConn *p = pA->p;
  int rc = esScopeBegin(p, &pA->scope);
  if( rc==SQLITE_MISUSE ){
    char *z = esScopeOrphanError(esAppendName(pA));
    esAppendError(pA, SQLITE_ERROR, "%s", z ? z : "out of memory");
    sqlite3_free(z);
    return pA->rcErr;
  }
  if( rc!=SQLITE_OK ){
    char *zLock = esScopeLockError(p, esAppendName(pA),
                                   sqlite3_extended_errcode(p->db));
    if( zLock ){
      esAppendError(pA, sqlite3_extended_errcode(p->db), "%s", zLock);
      sqlite3_free(zLock);
    }else{
      esAppendError(pA, rc, "es_append: cannot take the write lock: %s",
                  sqlite3_errmsg(p->db));
    }
    esScopeRollback(p, &pA->scope);
    return pA->rcErr;
  }
  rc = appendInScope(pA);
  if( rc==SQLITE_OK ){
    rc = esScopeCommit(p, &pA->scope);
    if( rc ) esAppendError(pA, rc, "es_append: commit failed: %s",
                         sqlite3_errmsg(p->db));
  }else if( esScopeRollback(p, &pA->scope) && pA->zErr ){
    char *z = sqlite3_mprintf("%s (the transaction was rolled back)", pA->zErr);
    if( z ){
      sqlite3_free(pA->zErr);
      pA->zErr = z;
    }
  }
  return rc;
}

static void appendResult(sqlite3_context *ctx, EsAppend *pA){
  char zOut[160];
  sqlite3_snprintf(sizeof(zOut), zOut, "{\"success\":true,\"new_version\":%lld,"
      "\"global_position\":%lld,\"conflict\":false}", pA->iNewVersion,
      pA->iGlobalPosition);
  esResultJson(ctx, zOut, -1, SQLITE_TRANSIENT);
}

void esAppendFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsAppend a;

  memset(&a, 0, sizeof(a));
  a.p = (EsConn*)sqlite3_user_data(ctx);
  if( esArgsStreamParts(ctx, argv[0], argv[1], "es_append", &a.aggId,
                        &a.aggType)
   || esArgsExpectedVersion(ctx, argv[2], "es_append", &a.iExpected) ){
    return;
  }
  parseEvents(&a, argc, argv);
  esAppendRun(ctx, &a);
}

/*
** The rest of es_append (and of es_import, import.c) once the arguments
** are parsed into pA, or pA->zErr says why they could not be: the batch's
** own duplicates, the append in its scope, the result.  Frees what pA
** holds.
*/
void esAppendRun(sqlite3_context *ctx, EsAppend *pA){
  EsConn *p = pA->p;
  int rc = pA->rcErr;
  if( rc==SQLITE_OK && p->bInAppend ){
    rc = esAppendError(pA, SQLITE_ERROR, "es_append: called recursively (from"
                     " a trigger on the store?)");
  }
  if( rc==SQLITE_OK ) rc = esIdempotencyBatch(pA);
  if( rc==SQLITE_OK ){
    i64 iSavedRowid = sqlite3_last_insert_rowid(p->db);
    p->bInAppend = 1;
    rc = appendWithScope(pA);
    p->bInAppend = 0;
    sqlite3_set_last_insert_rowid(p->db, iSavedRowid);
    if( p->bSchemaChanged ) esConnForgetStatements(p);
  }

  if( rc==SQLITE_OK ){
    appendResult(ctx, pA);
  }else{
    esResultErrorMsg(ctx, pA->rcErr, pA->rcErr==SQLITE_NOMEM ? 0 : pA->zErr);
    if( pA->rcErr!=SQLITE_NOMEM ) pA->zErr = 0;   /* freed by esResultErrorMsg */
  }
  sqlite3_free(pA->zErr);
  sqlite3_free(pA->aDupOf);
  sqlite3_free(pA->aStoredPos);
  esBatchFree(&pA->batch);
}
