/*
** es_internal.h -- the one internal header of the eventstore extension.
**
** Every source file of the extension includes this header and nothing
** else of the project's.  It declares:
**
**   - the per-connection state (EsConn): cached prepared statements and
**     the flags that say what is known about the storage schema;
**   - the storage layer (schema.c, storage.c): the es_* tables and the
**     statements that read and write them;
**   - the value codecs: UUIDs (uuid.c), timestamps (timestamp.c), JSON
**     scanning (json.c) and event objects (event_parse.c);
**   - the registration functions of the SQL functions and virtual tables.
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

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

/* The storage schema version this build writes and understands. */
#define ES_SCHEMA_VERSION 1

/* Limits on the text inputs of es_append, in bytes.  They keep ids usable
** as index keys and catch values that are almost certainly mistakes. */
#define ES_MAX_AGGREGATE_ID   512
#define ES_MAX_TYPE_NAME      255   /* aggregate_type and event_type */
#define ES_MAX_TENANT_ID      255   /* tenant_id and actor_id */

/* Expected-version sentinels (API.md, es_append). */
#define ES_EXPECT_ANY            (-1)
#define ES_EXPECT_STREAM_EXISTS  (-2)

/* Unix microseconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z:
** the range of timestamps the store accepts. */
#define ES_MIN_MICROS  (-62135596800000000LL)
#define ES_MAX_MICROS  (253402300799999999LL)

typedef sqlite3_int64 i64;
typedef unsigned char u8;

/*
** A piece of text that is not NUL-terminated: a pointer into an argument
** or into an EsArena, and its length in bytes.  z==0 means "absent".
*/
typedef struct EsText EsText;
struct EsText {
  const char *z;
  int n;
};

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
#ifdef ES_TESTING
void esUuidForceNext(const u8 *a16);
#endif
void esUuidFormat(const u8 *a16, char *zOut36);      /* no terminator */
int  esUuidFromValue(sqlite3_value*, u8 *aOut16);    /* 0 ok, 1 bad, 2 NULL */

/* ----------------------------------------------------------- timestamp.c */
#define ES_TIMESTAMP_TEXT_LEN 27   /* YYYY-MM-DDTHH:MM:SS.ffffffZ */
int  esTimestampParseText(const char *z, int n, i64 *pMicros);
int  esTimestampFromSeconds(double r, i64 *pMicros);
int  esTimestampFromValue(sqlite3_value*, i64 *pMicros); /* 0 ok,1 bad,2 NULL */
void esTimestampFormat(i64 micros, char *zOut27);      /* no terminator */
i64  esTimestampNow(void);
int  esRegisterTimestampCollation(sqlite3*);

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

/* --------------------------------------------------------- event_parse.c */
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
  i64 eventVersion;
  i64 occurredAt;         /* Unix microseconds, UTC */
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
int  esCheckTypeName(const char *z, int n);  /* 0 ok, else 1 */

/* ---------------------------------------------------------------- conn.c */
/*
** Internal statements, prepared once per connection and kept in EsConn.
** The SQL text of each is in storage.c (aStmtSql[]), in this order.
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
  ES_STMT_LAST_EVENT,
  ES_STMT_EVENT_EXISTS,
  ES_STMT_COUNT_TABLES,
  ES_STMT_SCHEMA_OBJECTS,
  ES_STMT_SCHEMA_VERSION,
  ES_STMT_PROBE_STORED_AT,
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
  i64 iCheckedReprepare;            /* re-prepare count of the lookup at the
                                    ** last schema check; -1: never checked */
  i64 nRowsVisited;                 /* rows read by cursors (tests) */
#ifdef ES_TESTING
  char *zLastQuery;                 /* SQL of the last cursor (tests) */
#endif
};

EsConn *esConnNew(sqlite3*);
void esConnRef(EsConn*);
void esConnUnref(void*);
void esConnFinalizeAll(EsConn*);
int  esConnStmt(EsConn*, int eStmt, sqlite3_stmt **pp);
void esConnForgetStatements(EsConn*);
int  esConnQuery(EsConn*, int iKey1, int iKey2, const char *zKey,
                 int (*xBuild)(void*, char**), void *pBuildArg, EsQuery **pp);
void esConnQueryRelease(EsConn*, EsQuery*);
int  esConnPin(EsConn*);

/* -------------------------------------------------------------- schema.c */
int  esSchemaExists(EsConn*, int *pbExists);
int  esSchemaCreate(EsConn*, char **pzErr);
int  esSchemaCheck(EsConn*, char **pzErr);
int  esSchemaIsMissingError(EsConn*, int rc);
int  esSchemaClear(EsConn*, char **pzErr);

/* ------------------------------------------------------------- storage.c */
extern const char *const esStmtSql[ES_STMT_COUNT];
int esStreamLookup(EsConn*, const char *zId, int nId, const char *zType,
                   int nType, i64 *piKey, i64 *piVersion);
int esStreamVersion(EsConn*, const char *zId, int nId, const char *zType,
                    int nType, i64 *piVersion);
int esGlobalPosition(EsConn*, i64 *piPos);
int esEventExists(EsConn*, const u8 *aId16, int *pbExists);
int esStoredAtBound(EsConn*, i64 t, int bAfter, i64 iMax, i64 *piPos);
int esRunSimple(EsConn*, int eStmt);
int esSplitStreamId(const char *z, int n, int *pnId);

/* -------------------------------------------------------------- append.c */
typedef struct EsWriteScope EsWriteScope;
struct EsWriteScope {
  int eKind;
  int bWrote;             /* the append has written a row in this scope */
};
int  esWritingStatementRunning(sqlite3*);
int  esWriteBegin(EsConn*, EsWriteScope*);
int  esWriteNeedAtomic(EsConn*, EsWriteScope*);
int  esWriteCommit(EsConn*, EsWriteScope*);
int  esWriteRollback(EsConn*, EsWriteScope*);
int  esReadStreamArgs(sqlite3_context*, sqlite3_value *pId,
                      sqlite3_value *pType, const char *zFunc,
                      EsText *pIdOut, EsText *pTypeOut);

/* ------------------------------------------------------ registration */
int esRegisterAppend(sqlite3*, EsConn*);
int esRegisterFunctions(sqlite3*, EsConn*);
int esRegisterVerify(sqlite3*, EsConn*);
int esRegisterVtabs(sqlite3*, EsConn*);

/* Set an error with printf-style message on a function context. */
void esResultError(sqlite3_context*, int rc, const char *zFmt, ...);

#endif /* ES_INTERNAL_H */
