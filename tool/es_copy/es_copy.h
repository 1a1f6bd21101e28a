/*
** es_copy.h -- what the parts of tool/es-copy share.
**
** es-copy copies an event store between a SQLite file and PostgreSQL, in
** either direction (main.c).  Each end is a "side" (sqlite_side.c,
** pg_side.c) with the same operations: its head, the event at a
** position, rows of event_all in global order, loading a chunk of rows in
** one transaction, es_verify, checkpoints and snapshots.  A row is what
** a reader of event_all sees, as text in one form for both sides (times
** as YYYY-MM-DDTHH:MM:SS.ffffffZ, ids as canonical UUIDs); digest.c
** hashes rows so that both sides can be compared.
*/
#ifndef ES_COPY_H
#define ES_COPY_H
#include <stddef.h>
#include <stdint.h>

typedef long long i64;

/* One event, as event_all shows it.  Text fields are NUL-terminated; NULL
** is a null pointer.  Every pointer points into the chunk's arena. */
typedef struct EcRow EcRow;
struct EcRow {
  i64 iGlobal;
  const char *zAggId;
  const char *zAggType;
  i64 iStream;
  const char *zEventId;
  const char *zEventType;
  i64 iEventVersion;
  const char *zTenant;
  const char *zActor;
  const char *zCorrelation;
  const char *zCausation;
  const char *zOccurred;
  const char *zStored;
  const char *zData;
  const char *zMetadata;
};

/* Rows read in one go, and the memory their text lives in. */
typedef struct EcChunk EcChunk;
struct EcChunk {
  EcRow *aRow;
  int nRow, nAlloc;
  char **azBlock;           /* the arena: blocks of text */
  int nBlock;
  char *zNext;              /* the next free byte of the last block */
  size_t nFree;             /* bytes left in it */
};
const char *ecChunkText(EcChunk*, const char *z, size_t n); /* a copy, NUL added */
EcRow *ecChunkAdd(EcChunk*);
void ecChunkReset(EcChunk*);
void ecChunkFree(EcChunk*);

/* A checkpoint or a snapshot, copied after the events. */
typedef struct EcExtra EcExtra;
struct EcExtra {
  char *zName;              /* checkpoint: name; snapshot: aggregate_id */
  char *zType;              /* snapshot: aggregate_type */
  i64 iPosition;            /* checkpoint: position; snapshot: version */
  i64 iSchema;              /* snapshot: schema_version */
  char *zState;             /* snapshot: state (JSON) */
};

typedef struct EcSide EcSide;
struct EcSide {
  const char *zName;        /* "SQLite file x.db" / "PostgreSQL ..." */
  const struct EcSideMethods *pM;
  void *pImpl;
  char zErr[1024];          /* the last error */
};

/* Every operation returns 0, or 1 with pSide->zErr set. */
typedef struct EcSideMethods EcSideMethods;
struct EcSideMethods {
  int (*xHead)(EcSide*, i64 *piHead);
  /* Event id at iPos into zOut (37 bytes); "" if there is none. */
  int (*xEventIdAt)(EcSide*, i64 iPos, char *zOut);
  /* Rows with global position in (iAfter, iLast], in order, at most nMax. */
  int (*xRead)(EcSide*, i64 iAfter, i64 iLast, int nMax, EcChunk*);
  /* Store the chunk's rows in one transaction: all or none. */
  int (*xLoad)(EcSide*, const EcChunk*);
  /* es_verify(): *pbOk, and its report into zReport (n bytes). */
  int (*xVerify)(EcSide*, int *pbOk, char *zReport, int n);
  int (*xCheckpoints)(EcSide*, EcExtra **paOut, int *pnOut);
  int (*xSnapshots)(EcSide*, EcExtra **paOut, int *pnOut);
  /* Move a checkpoint forward / save a snapshot (if newer). */
  int (*xPutCheckpoint)(EcSide*, const EcExtra*);
  int (*xPutSnapshot)(EcSide*, const EcExtra*);
  void (*xClose)(EcSide*);
};

int  ecSqliteOpen(EcSide*, const char *zPath, int bTarget);
int  ecPgOpen(EcSide*, const char *zConninfo, const char *zSchema, int bTarget);
int  ecPgBaseline(EcSide*, const EcChunk*);   /* --baseline: plain COPY */
void ecExtraFree(EcExtra*, int n);
void ecSideError(EcSide*, const char *zFmt, ...);

/* digest.c: a SHA-256 of rows, each in a canonical form: equal when the
** rows read the same (JSON compared as values: PostgreSQL's jsonb keeps
** neither key order nor number spelling). */
typedef struct EcDigest EcDigest;
struct EcDigest {
  uint32_t h[8];
  uint64_t nBytes;
  unsigned char buf[64];
  int nBuf;
  char *zCanon;             /* scratch for canonical JSON */
  size_t nCanon;
};
void ecDigestInit(EcDigest*);
int  ecDigestRow(EcDigest*, const EcRow*);    /* 1: JSON that does not parse */
void ecDigestFinish(EcDigest*, char *zHex65);
int  ecJsonCanonical(const char *z, char **pzOut, size_t *pnAlloc);

#endif
