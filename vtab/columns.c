/*
** columns.c -- the columns of event_all and event_stream, described once.
**
** Each row says everything the tables need to know about one column: its
** name and declaration (xConnect), the code that names it in a plan's
** idxStr (plan.c), the storage column it is read from, how its values are
** stored and shown (event_vtab.c), and which filters the table applies
** itself: '=' on every column with a code, ranges where bRange is set,
** through an index where bIndexed is set.  A new filter column is one row
** here and, if it needs one, an index in schema.c.
*/
#include "../ext/es_internal.h"

#define PLAIN  ES_KIND_PLAIN
#define UUID   ES_KIND_UUID
#define TIME   ES_KIND_TIME
#define STREAM ES_KIND_STREAM
#define JSON   ES_KIND_JSON
#define SID    ES_KIND_STREAM_ID
#define KTYPE  ES_KIND_KIND_TYPE
#define KEVENT ES_KIND_KIND_EVENT

const EsColumn esColumns[ES_VCOL_COUNT] = {
  /* zName, zDecl, cCode, iScol, eKind, bRange, bIndexed */
  { "global_position", "INTEGER", ES_CODE_GLOBAL_POSITION,
    ES_SCOL_GLOBAL_POSITION, PLAIN, 1, 1 },
  { "stream_id", "TEXT", ES_CODE_STREAM_ID,
    ES_SCOL_STREAM_KEY, STREAM, 0, 1 },
  { "stream_position", "INTEGER", ES_CODE_STREAM_POSITION,
    ES_SCOL_STREAM_POSITION, PLAIN, 1, 1 },
  { "aggregate_id", "TEXT", ES_CODE_AGGREGATE_ID,
    ES_SCOL_STREAM_KEY, SID, 0, 1 },
  { "aggregate_type", "TEXT", ES_CODE_AGGREGATE_TYPE,
    ES_SCOL_KIND, KTYPE, 0, 1 },
  { "aggregate_version", "INTEGER", ES_CODE_STREAM_POSITION,
    ES_SCOL_STREAM_POSITION, PLAIN, 1, 1 },
  { "event_id", "TEXT COLLATE NOCASE", ES_CODE_EVENT_ID,
    ES_SCOL_EVENT_ID, UUID, 0, 1 },
  { "event_type", "TEXT", ES_CODE_EVENT_TYPE,
    ES_SCOL_KIND, KEVENT, 0, 1 },
  { "event_version", "INTEGER", ES_CODE_EVENT_VERSION,
    ES_SCOL_EVENT_VERSION, PLAIN, 1, 0 },
  { "tenant_id", "TEXT", ES_CODE_TENANT_ID,
    ES_SCOL_TENANT_ID, PLAIN, 0, 1 },
  { "actor_id", "TEXT", ES_CODE_ACTOR_ID,
    ES_SCOL_ACTOR_ID, PLAIN, 0, 0 },
  { "correlation_id", "TEXT COLLATE NOCASE", ES_CODE_CORRELATION_ID,
    ES_SCOL_CORRELATION_ID, UUID, 0, 0 },
  { "causation_id", "TEXT COLLATE NOCASE", ES_CODE_CAUSATION_ID,
    ES_SCOL_CAUSATION_ID, UUID, 0, 0 },
  { "occurred_at", "TEXT COLLATE es_timestamp", ES_CODE_OCCURRED_AT,
    ES_SCOL_OCCURRED_AT, TIME, 1, 1 },
  { "stored_at", "TEXT COLLATE es_timestamp", ES_CODE_STORED_AT,
    ES_SCOL_STORED_AT, TIME, 1, 1 },
  { "data", "TEXT", 0,
    ES_SCOL_DATA, JSON, 0, 0 },
  { "metadata", "TEXT", 0,
    ES_SCOL_METADATA, JSON, 0, 0 },
  /* event_stream only: the argument of event_stream('<id>:<type>') */
  { "stream", "HIDDEN", ES_CODE_STREAM_ID,
    ES_SCOL_STREAM_KEY, STREAM, 0, 1 },
};

/*
** What the inner query selects for each storage column, in ES_SCOL_*
** order, from es_events e.  NULL columns of format 2 stand for their
** defaults (schema.c, THE FORMAT), filled in here; the names behind the
** stream and kind keys are decoded per row from the connection's caches
** (names.c), which keeps joins off the read path.
*/
const char *const esColumnsStorage[ES_SCOL_COUNT] = {
  "e.global_position", "e.stream_position", "e.stream_key", "e.kind",
  "e.event_id", "coalesce(e.event_version,1)", "e.tenant_id", "e.actor_id",
  "e.correlation_id", "e.causation_id",
  "coalesce(e.occurred_at,e.stored_at)", "e.stored_at", "e.data",
  "coalesce(e.metadata,'{}')"
};

/* The first column with idxStr code cCode, or 0 for LIMIT, OFFSET. */
const EsColumn *esColumnsByCode(char cCode){
  int i;
  for(i=0; i<ES_VCOL_COUNT; i++){
    if( esColumns[i].cCode==cCode ) return &esColumns[i];
  }
  return 0;
}

#undef PLAIN
#undef UUID
#undef TIME
#undef STREAM
#undef JSON
#undef SID
#undef KTYPE
#undef KEVENT
