/*
** plan.h -- the contract between xBestIndex and xFilter of the event
** virtual tables (event_all, event_stream).
**
** THE idxNum / idxStr CONTRACT
**
** xBestIndex chooses which constraints the table applies itself and gives
** each one an argv slot.  It describes the plan in two values that xFilter
** reads back (and that identify a cached inner statement):
**
**   idxStr  two characters per argv slot, in argv order:
**             [0] the column:  g global_position   p stream_position
**                              s stream_id (or the hidden `stream`)
**                              a aggregate_id      t aggregate_type
**                              e event_id          y event_type
**                              v event_version     n tenant_id
**                              c actor_id          r correlation_id
**                              u causation_id      o occurred_at
**                              d stored_at         L limit   O offset
**             [1] the operator: = < { (<=) > } (>=)  i (IN, whole list)
**                              and '.' for L and O
**   idxNum  bit 0            rows in descending order
**           bits 1..15       storage columns the query reads
**                            (1 << (ES_SCOL_x + 1)); others are NULL
**           bit 16           the rows must come in position order (the
**                            table consumed an ORDER BY); without it a
**                            time-range plan returns rows in time order
**
** xFilter turns the plan into one SQL query over main.es_events, binds
** argv to it and steps it: ORDER BY, LIMIT and OFFSET are part of that
** query, and the cursor streams its rows.  Which index serves it:
**   event_id =, global_position =     the unique indexes
**   a stream (s, or a with t)         es_events_stream, in stream order
**   event_type, tenant_id,            their indexes, chosen by SQLite's
**   aggregate_type, aggregate_id      planner (each ends in the rowid,
**                                     so equal keys are in global order)
**   stored_at                         the rowid: stored_at never decreases
**                                     along global_position, so a range
**                                     of it is a range of the rowid, found
**                                     by binary search in xFilter
**   otherwise occurred_at             es_events_occurred_at
**   otherwise                         the rowid (global_position)
*/
#ifndef ES_PLAN_H
#define ES_PLAN_H

#include "../ext/es_internal.h"

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
  ES_SCOL_GLOBAL_POSITION, ES_SCOL_STREAM_POSITION, ES_SCOL_AGGREGATE_ID,
  ES_SCOL_AGGREGATE_TYPE, ES_SCOL_EVENT_ID, ES_SCOL_EVENT_TYPE,
  ES_SCOL_EVENT_VERSION, ES_SCOL_TENANT_ID, ES_SCOL_ACTOR_ID,
  ES_SCOL_CORRELATION_ID, ES_SCOL_CAUSATION_ID, ES_SCOL_OCCURRED_AT,
  ES_SCOL_STORED_AT, ES_SCOL_DATA, ES_SCOL_METADATA,
  ES_SCOL_COUNT
};

#define ES_PLAN_DESC     0x00001
#define ES_PLAN_ORDERED  0x10000

/* The virtual table object shared by both tables. */
typedef struct EsVtab EsVtab;
struct EsVtab {
  sqlite3_vtab base;
  EsConn *p;
  int bStream;            /* 1 for event_stream: a stream must be named */
  const char *zName;      /* "event_all" or "event_stream" */
};

/* IN lists of up to this many values are merged (see esPlanBuildSql);
** their values are parameters ?ES_PLAN_IN_PARAM and up. */
#define ES_PLAN_MERGE_MAX  16
#define ES_PLAN_IN_PARAM   200

int esPlanBestIndex(EsVtab*, sqlite3_index_info*);
int esPlanInValues(const char *idxStr, int argc, sqlite3_value **argv,
                   sqlite3_value **apVal, int *pn);
void esPlanInFree(sqlite3_value **apVal, int n);
int esPlanBuildSql(EsVtab*, int idxNum, const char *idxStr, int nIn,
                   char **pzSql);
int esPlanBind(EsVtab*, sqlite3_stmt*, int idxNum, const char *idxStr,
               int argc, sqlite3_value **argv, sqlite3_value **apIn, int nIn,
               i64 iSnapshot, int *pbEmpty);

#endif /* ES_PLAN_H */
