/*
** es_internal.h -- the one internal header of the eventstore extension.
**
** Every source file of the extension (ext/ and vtab/) includes this header
** and nothing else of the project's.  It has one section per source file,
** in the order a call passes through them, and each section declares only
** that file's functions, which are named after it (esScopeBegin is in
** scope.c, esStorageStreamLookup in storage.c):
**
**   values      arena.c uuid.c timestamp.c json.c
**   arguments   args.c batch.c
**   results     result.c
**   state       conn.c schema.c storage.c scope.c
**   functions   append.c idempotency.c functions.c verify.c testing.c
**               checkpoint.c wait.c member.c snapshot.c
**   tables      vtab/columns.c vtab/plan.c vtab/sql.c vtab/event_vtab.c
**               vtab/checkpoints.c
**   entry       eventstore.c
**
** Only eventstore.c uses SQLITE_EXTENSION_INIT1; the other files use
** SQLITE_EXTENSION_INIT3 through this header, so the same sources build as
** a loadable extension and, with -DSQLITE_CORE, into a static binary.
*/
#ifndef ES_INTERNAL_H
#define ES_INTERNAL_H

#include <sqlite3ext.h>
#ifndef ES_ENTRY_FILE
SQLITE_EXTENSION_INIT3
#endif

#include <assert.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* The storage format this build writes; it upgrades older ones. */
#define ES_SCHEMA_VERSION 2

/* Limits on the text inputs of es_append, in bytes.  They keep ids usable
** as index keys and catch values that are almost certainly mistakes. */
#define ES_MAX_AGGREGATE_ID   512
#define ES_MAX_TYPE_NAME      255   /* aggregate_type and event_type */
#define ES_MAX_TENANT_ID      255   /* tenant_id and actor_id */
#define ES_MAX_CONSUMER_NAME  255   /* a checkpoint's name */

/* Expected-version sentinels (API.md, es_append). */
#define ES_EXPECT_ANY            (-1)
#define ES_EXPECT_STREAM_EXISTS  (-2)

/* Unix microseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z:
** the range of timestamps the store accepts. */
#define ES_MIN_MICROS  (-62135596800000000LL)
#define ES_MAX_MICROS  (253402300799999999LL)

typedef sqlite3_int64 i64;
typedef unsigned char u8;

#define ES_ARRAYSIZE(a) ((int)(sizeof(a)/sizeof((a)[0])))

/*
** A piece of text that is not NUL-terminated: a pointer into an argument
** or into an EsArena, and its length in bytes.  z==0 means "absent".
*/
typedef struct EsText EsText;
struct EsText {
  const char *z;
  int n;
};

/* --------------------------------------------------------------- arena.c */
/*
** A bump allocator for the strings that parsing must rewrite (unescaped
** JSON strings, minified objects).  One allocation per es_append call,
** sized from the input, so the hot path does no per-field malloc.
*/
typedef struct EsArena EsArena;
struct EsArena {
  char *a;        /* the buffer (sqlite3_malloc64) */
  i64 nAlloc;     /* its size */
  i64 nUsed;      /* bytes handed out */
};
int  esArenaInit(EsArena*, i64 nByte);
char *esArenaAlloc(EsArena*, i64 nByte);
void esArenaFree(EsArena*);

/* ---------------------------------------------------------------- uuid.c */
#define ES_UUID_TEXT_LEN 36
void esUuidGenerate(u8 *aOut16);
int  esUuidParse(const char *z, int n, u8 *aOut16);  /* 0 ok, 1 malformed */
void esUuidFormat(const u8 *a16, char *zOut36);      /* no terminator */
int  esUuidFromValue(sqlite3_value*, u8 *aOut16);    /* 0 ok, 1 bad, 2 NULL */
#ifdef ES_TESTING
void esUuidForceNext(const u8 *a16);
#endif

/* ----------------------------------------------------------- timestamp.c */
#define ES_TIMESTAMP_TEXT_LEN 27   /* YYYY-MM-DDTHH:MM:SS.ffffffZ */
int  esTimestampParseText(const char *z, int n, i64 *pMicros);
int  esTimestampFromSeconds(double r, i64 *pMicros);
int  esTimestampFromValue(sqlite3_value*, i64 *pMicros); /* 0 ok,1 bad,2 NULL */
void esTimestampFormat(i64 micros, char *zOut27);      /* no terminator */
i64  esTimestampNow(void);
int  esTimestampRegister(sqlite3*);
#ifdef ES_TESTING
void esTimestampShiftClock(i64 micros);
#endif

/* ---------------------------------------------------------------- json.c */
/*
** A strict RFC 8259 scanner.  esJsonSkipValue() validates the value that
** starts at z[*pi] and moves *pi past it.  It reports whether the value
** contained any whitespace between tokens, so callers can store a value
** as-is when it is already minimal.
*/
#define ES_JSON_MAX_DEPTH 500
typedef struct EsJson EsJson;
struct EsJson {
  const char *z;   /* the whole text */
  int n;           /* its length */
  int i;           /* the cursor */
  int bSpace;      /* set when whitespace was skipped inside a value */
  const char *zErr;/* static text naming the first syntax error */
};
extern const char esJsonOutOfMemory[];
void esJsonInit(EsJson*, const char *z, int n);
void esJsonSkipSpace(EsJson*);
int  esJsonSkipValue(EsJson*, int depth);               /* 0 ok */
int  esJsonString(EsJson*, EsArena*, EsText *pOut);      /* 0 ok; unescapes */
int  esJsonMinify(const char *z, int n, EsArena*, EsText *pOut);
int  esJsonIsObject(const char *z, int n, EsArena*, EsText *pOut,
                    const char **pzErr);
void esJsonAppendString(sqlite3_str*, const char *z, int n);

/* ---------------------------------------------------------------- utf8.c */
#define ES_QUOTE_MAX 64           /* bytes of an input quoted in a message */
typedef struct EsQuote EsQuote;
struct EsQuote {
  char z[ES_QUOTE_MAX+4];
};
int esUtf8SequenceLength(const u8 *z, int n);   /* 0: invalid */
int esUtf8Check(const char *z, int n);          /* 0: valid */
const char *esUtf8Quote(EsQuote*, const char *z, int n);

/* ---------------------------------------------------------------- args.c */
#define ES_STR_(x) #x
#define ES_STR(x) ES_STR_(x)
#define ES_TYPE_NAME_RULE \
  "1-" ES_STR(ES_MAX_TYPE_NAME) " letters, digits, '_', '.' or '-'"
int esArgsTypeName(const char *z, int n);        /* 0 if a valid type name */
int esArgsParseInteger(const char *z, int n, i64 *pv); /* 0, 1 bad, 2 range */
const char *esArgsAggregateIdProblem(const char *z, int n);
const char *esArgsStreamIdProblem(const char *z, int n, int *pnId);
int esArgsExpectedVersion(sqlite3_context*, sqlite3_value*, const char *zFunc,
                          i64 *piExpected);
int esArgsStreamParts(sqlite3_context*, sqlite3_value *pId,
                      sqlite3_value *pType, const char *zFunc,
                      EsText *pIdOut, EsText *pTypeOut);
int esArgsInteger(sqlite3_context*, sqlite3_value*, const char *zFunc,
                  const char *zArg, i64 iMin, i64 *pv);
int esArgsName(sqlite3_context*, sqlite3_value*, const char *zFunc,
               const char *zArg, int nMax, EsText *pOut);
int esArgsStreamId(sqlite3_context*, sqlite3_value*, const char *zFunc,
                   EsText *pIdOut, EsText *pTypeOut);

/* --------------------------------------------------------------- batch.c */
/*
** One event of an es_append call, after validation.  Text fields point
** into the caller's argument or into the call's arena; nothing here owns
** memory.
*/
typedef struct EsEvent EsEvent;
struct EsEvent {
  EsText eventType;
  EsText data;            /* minimal JSON object text */
  EsText metadata;        /* minimal JSON object text */
  EsText tenantId;        /* z==0: NULL */
  EsText actorId;         /* z==0: NULL */
  u8 eventId[16];
  u8 correlationId[16];
  u8 causationId[16];
  int hasCausation;
  int hasEventId;         /* the caller gave event_id (else generated) */
  int hasOccurredAt;      /* the caller gave occurred_at (else: stored_at) */
  i64 eventVersion;
  i64 occurredAt;         /* Unix microseconds, UTC */
  i64 iKind;              /* its kind (es_kinds); 0: a new kind (append.c) */
};

/*
** The parsed events of one call.  zErr is an sqlite3_malloc'ed message
** (without the "es_append: " prefix) when parsing failed.
*/
typedef struct EsBatch EsBatch;
struct EsBatch {
  EsEvent *aEvent;
  int nEvent;
  EsArena arena;
  char *zErr;
  int rcErr;              /* SQLITE_ERROR or SQLITE_NOMEM */
};
int  esBatchParseJson(EsBatch*, const char *z, int n);
int  esBatchParseSingle(EsBatch*, sqlite3_value *pType, sqlite3_value *pData,
                        sqlite3_value *pOptions);
void esBatchFree(EsBatch*);

/* -------------------------------------------------------------- result.c */
void esResultErrorMsg(sqlite3_context*, int rc, char *zMsg); /* frees zMsg */
void esResultError(sqlite3_context*, int rc, const char *zFmt, ...);
void esResultDbError(sqlite3_context*, const char *zFunc, int rc);
#define ES_JSON_SUBTYPE 74        /* 'J', the subtype of SQLite's JSON */
void esResultJson(sqlite3_context*, const char *z, int n,
                  void (*xDel)(void*));
int  esResultJsonFlags(void);     /* for functions that return JSON */

/* ---------------------------------------------------------------- conn.c */
/*
** Internal statements, prepared once per connection and kept in EsConn.
** The SQL text of each is in storage.c (esStorageSql[]), in this order.
*/
enum EsStmtId {
  ES_STMT_BEGIN,
  ES_STMT_BEGIN_IMMEDIATE,
  ES_STMT_COMMIT,
  ES_STMT_ROLLBACK,
  ES_STMT_SAVEPOINT,
  ES_STMT_RELEASE,
  ES_STMT_ROLLBACK_TO,
  ES_STMT_STREAM_LOOKUP,
  ES_STMT_APPEND_LOOKUP,
  ES_STMT_NEXT_STREAM_KEY,
  ES_STMT_INSERT_STREAM,
  ES_STMT_INSERT_EVENT,
  ES_STMT_EVENT_BY_ID,
  ES_STMT_EVENT_AT,
  ES_STMT_KIND_LOOKUP,
  ES_STMT_INSERT_KIND,
  ES_STMT_LAST_EVENT,
  ES_STMT_EVENT_EXISTS,
  ES_STMT_COUNT_TABLES,
  ES_STMT_SCHEMA_OBJECTS,
  ES_STMT_SCHEMA_VERSION,
  ES_STMT_PROBE_STORED_AT,
  ES_STMT_STREAMS_OF,
  ES_STMT_INDEX_REFUSES,
  ES_STMT_TEMP_TRIGGERS,
  ES_STMT_JOURNAL_MODE,
  ES_STMT_SCHEMA_COOKIE,
  ES_STMT_WRITE_LOCK,
  ES_STMT_KINDS_OF,
  ES_STMT_STREAM_NAMES,
  ES_STMT_KIND_NAMES,
  ES_STMT_CHECKPOINT_GET,
  ES_STMT_CHECKPOINT_PUT,
  ES_STMT_SNAPSHOT_GET,
  ES_STMT_SNAPSHOT_PUT,
  ES_STMT_SNAPSHOT_DELETE,
  ES_STMT_COUNT
};

/* A statement built by the virtual tables, cached by the plan it runs
** (idxNum, the number of IN values merged, idxStr). */
typedef struct EsQuery EsQuery;
struct EsQuery {
  int iKey1, iKey2;
  char *zKey;
  char *zSql;
  sqlite3_stmt *pStmt;
  int inUse;              /* handed to an open cursor */
  EsQuery *pNext;
};

/* A cached pair of names (names.c): z holds both, NUL-separated. */
typedef struct EsName EsName;
struct EsName {
  i64 iKey;
  char *z;
  int nA, nB;
};
#define ES_NAMES_STREAMS 16384   /* slots of the stream-name cache */
#define ES_NAMES_KINDS   1024    /* slots of the kind-name cache */

typedef struct EsConn EsConn;
struct EsConn {
  sqlite3 *db;
  int nRef;                         /* registrations that point here */
  sqlite3_stmt *aStmt[ES_STMT_COUNT];
  EsQuery *pQuery;                  /* virtual-table statement cache */
  int nQuery;
  int bPinned;                      /* an eponymous table owns cleanup */
  int bInAppend;                    /* es_append is running */
  int bOrphanTxn;                   /* our BEGIN could not be rolled back */
  int bSchemaChanged;               /* we created or dropped es_* tables */
  int bOwnWrite;                    /* eventstore writes its mutable tables
                                    ** (es_store_writing(), functions.c) */
  i64 iStoreCookie;                 /* schema cookie when this connection
                                    ** last found the store; 0: never */
  int bForeignRefuser;              /* the application's own objects on the
                                    ** store can refuse a write (a TEMP
                                    ** trigger, a UNIQUE index; schema.c) */
  i64 iCheckedReprepare;            /* re-prepare count of the lookup at the
                                    ** last schema check; -1: never checked */
  i64 nRowsVisited;                 /* rows read by cursors (tests) */
  char *zReadErr;                   /* why the last read failed (storage.c) */
  EsName *aStreamName;              /* names.c: ES_NAMES_STREAMS slots */
  EsName *aKindName;                /* ES_NAMES_KINDS slots */
  EsName aScratchName[2];           /* held by the current cursor only */
  i64 iNamesSchema;                 /* schema cookie the names are of */
#ifdef ES_TESTING
  char *zLastQuery;                 /* SQL of the last cursor (tests) */
#endif
};

EsConn *esConnNew(sqlite3*);
void esConnRef(EsConn*);
void esConnUnref(void*);
void esConnFinalizeAll(EsConn*);
int  esConnStmt(EsConn*, int eStmt, sqlite3_stmt **pp);
int  esConnRun(EsConn*, int eStmt);
int  esConnReadRow(sqlite3_stmt*, i64 *a, int n, int *pbRow);
void esConnForgetStatements(EsConn*);
int  esConnQuery(EsConn*, int iKey1, int iKey2, const char *zKey,
                 int (*xBuild)(void*, char**), void *pBuildArg, EsQuery **pp);
void esConnQueryRelease(EsConn*, EsQuery*);
int  esConnPin(EsConn*);

/* -------------------------------------------------------------- schema.c */
int  esSchemaExists(EsConn*, int *pbExists);
int  esSchemaCreate(EsConn*, char **pzErr);
int  esSchemaCreateObjects(EsConn*, int bOnlyMissing, char **pzErr);
int  esSchemaCheck(EsConn*, int *piFormat, char **pzErr);
char *esSchemaDbError(EsConn*);
int  esSchemaIsMissingError(EsConn*, int rc);
int  esSchemaClear(EsConn*, char **pzErr);
int  esSchemaWasDropped(EsConn*, int *pbDropped);
#define ES_DROPPED_PROBLEM "the store's tables were dropped while this" \
  " connection was using them (global positions once given are never given" \
  " again): run es_init() to start a new store"

/* --------------------------------------------------------------- names.c */
void esNamesClear(EsConn*);
void esNamesScratchClear(EsConn*);
int  esNamesStream(EsConn*, i64 iKey, EsText *pId, EsText *pType,
                   int *pbFound);
int  esNamesKind(EsConn*, i64 iKind, EsText *pAggType, EsText *pEventType,
                 int *pbFound);

/* ------------------------------------------------------------- upgrade.c */
int esUpgrade(EsConn*, int iFrom, char **pzErr);

/* ------------------------------------------------------------- storage.c */
extern const char *const esStorageSql[ES_STMT_COUNT];
int esStorageStreamLookup(EsConn*, const char *zId, int nId,
                          const char *zType, int nType, i64 *piKey,
                          i64 *piVersion);
int esStorageGlobalPosition(EsConn*, i64 *piPos);
int esStorageReadFailed(EsConn*, int rc);
int esStorageReader(EsConn*, int eStmt, sqlite3_stmt **pp); /* 0: no store */
int esStorageEventExists(EsConn*, const u8 *aId16, int *pbExists);
int esStorageStoredAtBound(EsConn*, i64 t, int bAfter, i64 iMax, i64 *piPos);
int esStorageStreamsOf(EsConn*, const char *zId, int nId, i64 *aKey, int nMax,
                       int *pn);
int esStorageKindsOf(EsConn*, const char *zTypesJson, sqlite3_value *pAggType,
                     i64 *aKind, int nMax, int *pn);

/* --------------------------------------------------------------- scope.c */
enum EsScopeKind {
  ES_SCOPE_NONE,          /* in the caller's transaction, no savepoint */
  ES_SCOPE_TRANSACTION,   /* we ran BEGIN IMMEDIATE: COMMIT or ROLLBACK */
  ES_SCOPE_SAVEPOINT,     /* we ran SAVEPOINT: RELEASE or ROLLBACK TO */
  ES_SCOPE_STATEMENT      /* under a writing statement: it rolls back */
};
typedef struct EsScope EsScope;
struct EsScope {
  int eKind;              /* an EsScopeKind */
  int bWrote;             /* a row has been written in this scope */
};
int  esScopeWritingStatementRunning(sqlite3*);
int  esScopeBegin(EsConn*, EsScope*);
int  esScopeNeedAtomic(EsConn*, EsScope*);
void esScopeWrote(EsScope*, int bWrote);
int  esScopeRefuse(const EsScope*, int rc);
int  esScopeCommit(EsConn*, EsScope*);
int  esScopeRollback(EsConn*, EsScope*);
char *esScopeOrphanError(const char *zFunc);
char *esScopeLockError(EsConn*, const char *zFunc, int rcExtended);
/* One write of a function other than es_append, whole (esScopeRunWrite). */
typedef int (*EsWriteWork)(EsConn*, void *pArg, char **pzErr);
#define ES_WRITE_STORE  1  /* the store must exist: create, check, upgrade */
#define ES_WRITE_ATOMIC 2  /* xWork writes many statements: undo together */
int  esScopeRunWrite(sqlite3_context*, const char *zFunc, int eFlags,
                     EsWriteWork, void *pArg);

/* ------------------------------------------------ append.c, idempotency.c */
/* The state of one es_append call. */
/* es_import's positions and time (import.c); es_append has none. */
typedef struct EsImport EsImport;
struct EsImport {
  i64 iGlobalPosition;  /* the first event's global position */
  i64 iStoredAt;        /* every event's stored_at, Unix microseconds */
};

typedef struct EsAppend EsAppend;
struct EsAppend {
  EsConn *p;
  const EsImport *pImport;  /* es_import's, or 0 for es_append */
  EsScope scope;
  EsText aggId;
  EsText aggType;
  i64 iExpected;
  EsBatch batch;
  int *aDupOf;          /* aDupOf[i]: earlier event with the same id, or -1 */
  i64 *aStoredPos;      /* aStoredPos[i]: where event i is already stored
                        ** (found before writing, findRefusals), or 0 */
  i64 iStreamKey;       /* 0: the stream does not exist yet */
  i64 iVersion;         /* the stream's version before the append */
  i64 iLastStoredAt;    /* stored_at of the newest event in the store */
  i64 iFirstKind;       /* the kind of the first event's type, or 0 */
  int nNewKind;         /* kinds the append adds to es_kinds */
  i64 iNewVersion;
  i64 iGlobalPosition;
  char *zErr;           /* error message, sqlite3_malloc'ed */
  int rcErr;            /* its code */
};
int esAppendError(EsAppend*, int rc, const char *zFmt, ...);
int esAppendDbError(EsAppend*, int rc);
/* A refusal of the batch (see THE RULE in scope.c). */
#define esAppendRefusal(pA, rc, ...) \
  esAppendError(pA, esScopeRefuse(&(pA)->scope, rc), __VA_ARGS__)

/* The function's name for messages: es_append or es_import. */
#define esAppendName(pA) ((pA)->pImport ? "es_import" : "es_append")
void esAppendRun(sqlite3_context*, EsAppend*);
int  esImportCheck(EsAppend*);
void esImportFunc(sqlite3_context*, int, sqlite3_value**);

int esIdempotencyBatch(EsAppend*);
int esIdempotencyReplay(EsAppend*, int *pbReplay);
int esIdempotencyStored(EsAppend*, const EsEvent*, i64 *piStoredPos,
                        int bMustExist);

/* ----------------------------- the SQL functions (their table is in
** eventstore.c), by file: append.c above, then */
void esAppendFunc(sqlite3_context*, int, sqlite3_value**);
/* functions.c */
void esVersionFunc(sqlite3_context*, int, sqlite3_value**);
void esGlobalPositionFunc(sqlite3_context*, int, sqlite3_value**);
void esEventExistsFunc(sqlite3_context*, int, sqlite3_value**);
void esUuidFunc(sqlite3_context*, int, sqlite3_value**);
void esInfoFunc(sqlite3_context*, int, sqlite3_value**);
void esStoreWritingFunc(sqlite3_context*, int, sqlite3_value**);
void esInitFunc(sqlite3_context*, int, sqlite3_value**);
void esClearFunc(sqlite3_context*, int, sqlite3_value**);
/* verify.c */
void esVerifyFunc(sqlite3_context*, int, sqlite3_value**);
/* checkpoint.c */
void esCheckpointFunc(sqlite3_context*, int, sqlite3_value**);
void esCheckpointSetFunc(sqlite3_context*, int, sqlite3_value**);
/* wait.c */
void esWaitFunc(sqlite3_context*, int, sqlite3_value**);
/* member.c */
void esMemberFunc(sqlite3_context*, int, sqlite3_value**);
sqlite3_uint64 esMemberHash(const char *z, int n);
/* snapshot.c */
void esSnapshotSaveFunc(sqlite3_context*, int, sqlite3_value**);
void esSnapshotFunc(sqlite3_context*, int, sqlite3_value**);
void esSnapshotDeleteFunc(sqlite3_context*, int, sqlite3_value**);
#ifdef ES_TESTING
/* testing.c */
void esTestRowsVisitedFunc(sqlite3_context*, int, sqlite3_value**);
void esTestLastQueryFunc(sqlite3_context*, int, sqlite3_value**);
void esTestNextUuidFunc(sqlite3_context*, int, sqlite3_value**);
void esTestLimitLengthFunc(sqlite3_context*, int, sqlite3_value**);
void esTestClockShiftFunc(sqlite3_context*, int, sqlite3_value**);
void esTestingNoteQuery(EsConn*, const char *zSql);
#endif
/* vtab/checkpoints.c */
int esCheckpointsVtabRegister(sqlite3*, EsConn*);

/* ------------------------------------------------------- vtab/columns.c */
/* Columns of the virtual tables, in API.md's order. */
enum {
  ES_VCOL_GLOBAL_POSITION, ES_VCOL_STREAM_ID, ES_VCOL_STREAM_POSITION,
  ES_VCOL_AGGREGATE_ID, ES_VCOL_AGGREGATE_TYPE, ES_VCOL_AGGREGATE_VERSION,
  ES_VCOL_EVENT_ID, ES_VCOL_EVENT_TYPE, ES_VCOL_EVENT_VERSION,
  ES_VCOL_TENANT_ID, ES_VCOL_ACTOR_ID, ES_VCOL_CORRELATION_ID,
  ES_VCOL_CAUSATION_ID, ES_VCOL_OCCURRED_AT, ES_VCOL_STORED_AT,
  ES_VCOL_DATA, ES_VCOL_METADATA,
  ES_VCOL_STREAM,           /* HIDDEN, event_stream only: the TVF argument */
  ES_VCOL_COUNT
};

/* Columns of the inner query (storage columns of es_events). */
enum {
  ES_SCOL_GLOBAL_POSITION, ES_SCOL_STREAM_POSITION, ES_SCOL_STREAM_KEY,
  ES_SCOL_KIND, ES_SCOL_EVENT_ID, ES_SCOL_EVENT_VERSION, ES_SCOL_TENANT_ID,
  ES_SCOL_ACTOR_ID, ES_SCOL_CORRELATION_ID, ES_SCOL_CAUSATION_ID,
  ES_SCOL_OCCURRED_AT, ES_SCOL_STORED_AT, ES_SCOL_DATA, ES_SCOL_METADATA,
  ES_SCOL_COUNT
};

/* The idxStr code of each column the tables filter on (vtab/plan.c). */
enum {
  ES_CODE_GLOBAL_POSITION = 'g', ES_CODE_STREAM_POSITION = 'p',
  ES_CODE_STREAM_ID = 's',       ES_CODE_AGGREGATE_ID = 'a',
  ES_CODE_AGGREGATE_TYPE = 't',  ES_CODE_EVENT_ID = 'e',
  ES_CODE_EVENT_TYPE = 'y',      ES_CODE_EVENT_VERSION = 'v',
  ES_CODE_TENANT_ID = 'n',       ES_CODE_ACTOR_ID = 'c',
  ES_CODE_CORRELATION_ID = 'r',  ES_CODE_CAUSATION_ID = 'u',
  ES_CODE_OCCURRED_AT = 'o',     ES_CODE_STORED_AT = 'd',
  ES_CODE_LIMIT = 'L',           ES_CODE_OFFSET = 'O'
};

/* How a column's values are stored and shown. */
enum EsColumnKind {
  ES_KIND_PLAIN,          /* copied through */
  ES_KIND_UUID,           /* a 16-byte blob, shown as canonical text */
  ES_KIND_TIME,           /* Unix microseconds, shown as UTC text */
  ES_KIND_STREAM,         /* aggregate_id ':' aggregate_type, of the key */
  ES_KIND_STREAM_ID,      /* the stream key's aggregate id (names.c) */
  ES_KIND_KIND_TYPE,      /* the kind's aggregate type */
  ES_KIND_KIND_EVENT,     /* the kind's event type */
  ES_KIND_JSON            /* JSON text, handed over with the JSON subtype */
};

typedef struct EsColumn EsColumn;
struct EsColumn {
  const char *zName;      /* the virtual-table column */
  const char *zDecl;      /* its declared type and collation */
  char cCode;             /* idxStr code (ES_CODE_*), 0: not filtered */
  signed char iScol;      /* storage column (ES_SCOL_*) it comes from */
  u8 eKind;               /* an EsColumnKind */
  u8 bRange;              /* also filtered with <, <=, >, >= */
  u8 bIndexed;            /* an index (or the rowid) serves the filter */
};
extern const EsColumn esColumns[ES_VCOL_COUNT];
extern const char *const esColumnsStorage[ES_SCOL_COUNT];
const EsColumn *esColumnsByCode(char cCode);

/* --------------------------------------------------------- vtab/plan.c */
/*
** THE idxNum / idxStr CONTRACT between xBestIndex and xFilter of the
** event virtual tables (event_all, event_stream).
**
** xBestIndex chooses which constraints the table applies itself and gives
** each one an argv slot.  It describes the plan in two values that xFilter
** reads back (and that, with the arm kind, identify a cached statement):
**
**   idxStr  two characters per argv slot, in argv order:
**             [0] the column: its ES_CODE_* (esColumns), or
**                 ES_CODE_LIMIT / ES_CODE_OFFSET
**             [1] the operator: = < { (<=) > } (>=)  i (IN, whole list)
**                 and '.' for LIMIT and OFFSET
**   idxNum  bit 0            rows in descending order
**           bits 1..15       storage columns the query reads
**                            (1 << (ES_SCOL_x + 1)); others are NULL
**           bit 16           the rows must come in position order (the
**                            table consumed an ORDER BY); without it an
**                            occurred_at plan returns them in time order
**
** xFilter turns the plan into SQL over main.es_events (sql.c, esSqlBuild),
** binds argv to it and steps it; ORDER BY, LIMIT and OFFSET are part of
** that query, and the cursor streams its rows.  Where the rows come from
** several ranges of an index, one statement per range (an arm, ES_ARM_*)
** is merged by the cursor.  Which index drives the query (sql.c):
**   event_id =, global_position =     the unique index, the rowid
**   one stream (s=, or a= with t=)    es_events_stream, in stream order
**   the streams of a= or of s IN      es_events_stream, one arm each
**   event_type =, event_type IN       es_events_event_type (one arm per
**                                     value of an IN list)
**   tenant_id =, aggregate_type =     their indexes (each ends in the
**                                     rowid, so equal keys are in global
**                                     order)
**   global_position, stored_at        the rowid: stored_at never decreases
**                                     along global_position, so a range
**                                     of it is a range of the rowid, found
**                                     by binary search in xFilter
**   otherwise occurred_at             es_events_occurred_at
**   otherwise                         the rowid (global_position)
*/
#define ES_PLAN_DESC     0x00001
#define ES_PLAN_ORDERED  0x10000

/* The virtual table object of all three tables (es_checkpoints too). */
typedef struct EsVtab EsVtab;
struct EsVtab {
  sqlite3_vtab base;
  EsConn *p;
  int bStream;            /* 1 for event_stream: a stream must be named */
  const char *zName;      /* "event_all", "event_stream", "es_checkpoints" */
};

/* How a plan's rows are read (esPlanArmKind). */
enum EsArmKind {
  ES_ARM_NONE,            /* one statement */
  ES_ARM_STREAM,          /* one per stream: ?ES_PLAN_ARM_PARAM a key */
  ES_ARM_KIND,            /* one per kind of the event and aggregate types */
  ES_ARM_OCCURRED         /* two: the events whose occurred_at is their
                          ** stored_at, as a rowid range [?ARM, ?ARM+1),
                          ** and the others, by occurred_at's index */
};
#define ES_PLAN_MERGE_MAX        16   /* more arms: one statement instead */
#define ES_PLAN_ARM_PARAM       200
#define ES_PLAN_ARM_LIMIT_PARAM 199

int  esPlanBestIndex(EsVtab*, sqlite3_index_info*);
int  esPlanFindSlot(const char *idxStr, char cCol, char cOp);
int  esPlanNamesOneStream(const char *idxStr);
int  esPlanArmKind(const char *idxStr);
int  esPlanArmSlot(const char *idxStr, int eArm);
void esPlanLimits(const char *idxStr, int argc, sqlite3_value **argv,
                  i64 *pnLimit, i64 *pnOffset);

/* ----------------------------------------------------------- vtab/sql.c */
int  esSqlBuild(EsVtab*, int idxNum, const char *idxStr, int eArm,
                int iVariant, char **pzSql);
int  esSqlStoredAtRange(EsVtab*, const char *idxStr, int argc,
                        sqlite3_value **argv, i64 iSnapshot, i64 *piLo,
                        i64 *piHi, int *pbEmpty);
int  esSqlBind(EsVtab*, sqlite3_stmt*, const char *idxStr, int eArm,
               int argc, sqlite3_value **argv, i64 iSnapshot, int *pbEmpty);
int  esSqlStreamId(EsVtab*, sqlite3_value*, const char **pz, int *pn,
                   int *pnId);
int  esSqlKinds(EsVtab*, const char *idxStr, int argc, sqlite3_value **argv,
                i64 *aKind, int *pn);

/* ---------------------------------------------------- vtab/event_vtab.c */
int esVtabRegister(sqlite3*, EsConn*);

/* The module of a read-only, eponymous-only table (event_all,
** event_stream, es_checkpoints) whose methods are P##Connect, P##BestIndex,
** ...: no xCreate, so it exists in every schema under its name and
** CREATE VIRTUAL TABLE is refused; no xUpdate, so it is read-only. */
#define ES_EPONYMOUS_MODULE(P) { .iVersion = 0, .xCreate = 0, \
  .xConnect = P##Connect, .xBestIndex = P##BestIndex, \
  .xDisconnect = P##Disconnect, .xDestroy = P##Disconnect, \
  .xOpen = P##Open, .xClose = P##Close, .xFilter = P##Filter, \
  .xNext = P##Next, .xEof = P##Eof, .xColumn = P##Column, \
  .xRowid = P##Rowid }
int esVtabConnect(sqlite3*, EsConn*, const char *zSql, const char *zName,
                  sqlite3_vtab **ppVtab, char **pzErr);
int esVtabModuleRegister(sqlite3*, EsConn*, const char *zName,
                         const sqlite3_module*);

#endif /* ES_INTERNAL_H */
