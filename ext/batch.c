/*
** batch.c -- the events of one es_append call: its event arguments
** parsed and validated into an EsBatch of EsEvents.
**
** An event is a JSON object with the keys of API.md's table.  This file
** validates every key and value, fills in the defaults (a new event_id and
** correlation_id, occurred_at = now, event_version 1, empty data and
** metadata) and reports the first problem in words that name the key.
** JSON null for an optional key means "use the default"; any key that is
** not in the table is an error, because it is almost always a typo.
**
** Nothing here touches the database: every bad input is refused before
** es_append takes a lock or writes a byte.
*/
#include "es_internal.h"

/* The keys of an event object, in API.md's order. */
enum {
  KEY_EVENT_TYPE, KEY_DATA, KEY_EVENT_ID, KEY_EVENT_VERSION, KEY_OCCURRED_AT,
  KEY_TENANT_ID, KEY_ACTOR_ID, KEY_CORRELATION_ID, KEY_CAUSATION_ID,
  KEY_METADATA, KEY_COUNT
};
static const char *const azKey[KEY_COUNT] = {
  "event_type", "data", "event_id", "event_version", "occurred_at",
  "tenant_id", "actor_id", "correlation_id", "causation_id", "metadata"
};

static const EsText emptyObject = { "{}", 2 };

/* Record the first error of the batch; zPrefix names the event. */
static int batchError(EsBatch *pB, const char *zPrefix, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  if( pB->zErr ) return 1;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  pB->zErr = zMsg ? sqlite3_mprintf("%s%s", zPrefix, zMsg) : 0;
  pB->rcErr = (zMsg && pB->zErr) ? SQLITE_ERROR : SQLITE_NOMEM;
  sqlite3_free(zMsg);
  return 1;
}

static int batchJsonError(EsBatch *pB, const char *zPrefix, const char *zWhat,
                          const char *zJsonErr){
  if( zJsonErr==esJsonOutOfMemory ){
    pB->rcErr = SQLITE_NOMEM;
    return 1;
  }
  return batchError(pB, zPrefix, "%s is not valid JSON (%s)", zWhat,
                    zJsonErr ? zJsonErr : "syntax error");
}

static void eventDefaults(EsEvent *pEv){
  memset(pEv, 0, sizeof(*pEv));
  pEv->eventVersion = 0;       /* 0 means "not given": 1 is filled in later */
  pEv->occurredAt = ES_MIN_MICROS - 1;
}

/* Fill in what the caller left out. */
static void eventFinish(EsEvent *pEv, const u8 *aGiven, i64 now){
  if( !aGiven[KEY_EVENT_ID] ) esUuidGenerate(pEv->eventId);
  pEv->hasEventId = aGiven[KEY_EVENT_ID]!=0;
  pEv->hasOccurredAt = aGiven[KEY_OCCURRED_AT]!=0;
  if( !aGiven[KEY_CORRELATION_ID] ) esUuidGenerate(pEv->correlationId);
  if( !aGiven[KEY_EVENT_VERSION] ) pEv->eventVersion = 1;
  if( !aGiven[KEY_OCCURRED_AT] ) pEv->occurredAt = now;
  if( !aGiven[KEY_DATA] ) pEv->data = emptyObject;
  if( !aGiven[KEY_METADATA] ) pEv->metadata = emptyObject;
}

static int findKey(const EsText *pKey){
  int k;
  for(k=0; k<KEY_COUNT; k++){
    if( (int)strlen(azKey[k])==pKey->n && memcmp(azKey[k], pKey->z, pKey->n)==0 ){
      return k;
    }
  }
  return -1;
}

/* A text id (tenant_id, actor_id): non-empty, bounded, no NUL. */
static int checkTextId(EsBatch *pB, const char *zPre, const char *zKey,
                       const EsText *pT){
  if( pT->n==0 ) return batchError(pB, zPre, "%s is empty", zKey);
  if( pT->n>ES_MAX_TENANT_ID ){
    return batchError(pB, zPre, "%s is longer than %d bytes", zKey,
                      ES_MAX_TENANT_ID);
  }
  return 0;
}

/*
** Parse the value of key k at js->i into pEv.  The value has not been
** validated yet.
*/
static int parseKeyValue(EsBatch *pB, const char *zPre, EsJson *js, int k,
                         EsEvent *pEv){
  const char *zKey = azKey[k];
  char c = js->z[js->i];
  int iStart = js->i;
  EsText t;
  EsQuote q;

  switch( k ){
    case KEY_DATA:
    case KEY_METADATA: {
      if( c!='{' ){
        if( esJsonSkipValue(js, 1) ) return batchJsonError(pB, zPre, zKey, js->zErr);
        return batchError(pB, zPre, "%s must be a JSON object", zKey);
      }
      js->bSpace = 0;
      if( esJsonSkipValue(js, 1) ) return batchJsonError(pB, zPre, zKey, js->zErr);
      t.z = js->z + iStart;
      t.n = js->i - iStart;
      if( js->bSpace && esJsonMinify(t.z, t.n, &pB->arena, &t) ){
        pB->rcErr = SQLITE_NOMEM;
        return 1;
      }
      if( k==KEY_DATA ) pEv->data = t; else pEv->metadata = t;
      return 0;
    }
    case KEY_EVENT_VERSION: {
      i64 v = 0;
      int eInt;
      EsQuote q;
      if( esJsonSkipValue(js, 1) ) return batchJsonError(pB, zPre, zKey, js->zErr);
      eInt = esArgsParseInteger(js->z+iStart, js->i-iStart, &v);
      if( eInt || v<1 ){
        return batchError(pB, zPre, "event_version must be an integer >= 1,"
            " not %s%s",
            esUtf8Quote(&q, js->z+iStart, js->i-iStart),
            eInt==2 ? " (out of range)" : "");
      }
      pEv->eventVersion = v;
      return 0;
    }
    case KEY_OCCURRED_AT: {
      if( c=='"' ){
        if( esJsonString(js, &pB->arena, &t) ) return batchJsonError(pB, zPre, zKey, js->zErr);
      }else{
        if( esJsonSkipValue(js, 1) ) return batchJsonError(pB, zPre, zKey, js->zErr);
        t.z = js->z + iStart;
        t.n = js->i - iStart;
        if( c!='-' && (c<'0' || c>'9') ){
          return batchError(pB, zPre, "occurred_at must be an ISO-8601 "
                            "timestamp or Unix seconds, not %s",
                            esUtf8Quote(&q, t.z, t.n));
        }
      }
      if( esTimestampParseText(t.z, t.n, &pEv->occurredAt) ){
        return batchError(pB, zPre, "occurred_at is not a valid timestamp:"
                          " '%s' (use ISO-8601 such as 2026-11-26T10:00:00Z,"
                          " or Unix seconds)", esUtf8Quote(&q, t.z, t.n));
      }
      return 0;
    }
    default: {
      /* Every other key takes a string. */
      if( c!='"' ){
        if( esJsonSkipValue(js, 1) ) return batchJsonError(pB, zPre, zKey, js->zErr);
        return batchError(pB, zPre, "%s must be a string", zKey);
      }
      if( esJsonString(js, &pB->arena, &t) ) return batchJsonError(pB, zPre, zKey, js->zErr);
      break;
    }
  }

  switch( k ){
    case KEY_EVENT_TYPE:
      if( t.n==0 ) return batchError(pB, zPre, "event_type is empty");
      if( esArgsTypeName(t.z, t.n) ){
        return batchError(pB, zPre, "event_type '%s' is not a valid type"
                          " name (%s)", esUtf8Quote(&q, t.z, t.n),
                          ES_TYPE_NAME_RULE);
      }
      pEv->eventType = t;
      return 0;
    case KEY_EVENT_ID:
    case KEY_CORRELATION_ID:
    case KEY_CAUSATION_ID: {
      u8 *a = k==KEY_EVENT_ID ? pEv->eventId
            : k==KEY_CORRELATION_ID ? pEv->correlationId : pEv->causationId;
      if( esUuidParse(t.z, t.n, a) ){
        return batchError(pB, zPre, "%s is not a UUID: '%s'", zKey,
                          esUtf8Quote(&q, t.z, t.n));
      }
      if( k==KEY_CAUSATION_ID ) pEv->hasCausation = 1;
      return 0;
    }
    case KEY_TENANT_ID:
      if( checkTextId(pB, zPre, zKey, &t) ) return 1;
      pEv->tenantId = t;
      return 0;
    case KEY_ACTOR_ID:
      if( checkTextId(pB, zPre, zKey, &t) ) return 1;
      pEv->actorId = t;
      return 0;
  }
  return 0;
}

/*
** Parse one event object at js->i.  bOptions: the object is the options
** argument of the 5/6-argument form, where event_type and data are not
** allowed (they have their own arguments).
*/
static int parseEventObject(EsBatch *pB, const char *zPre, EsJson *js,
                            EsEvent *pEv, u8 *aGiven, int bOptions){
  const char *zWhat = bOptions ? "options" : "the event";
  if( js->i>=js->n || js->z[js->i]!='{' ){
    if( esJsonSkipValue(js, 0) ) return batchJsonError(pB, zPre, zWhat, js->zErr);
    return batchError(pB, zPre, "%s must be a JSON object", zWhat);
  }
  js->i++;
  esJsonSkipSpace(js);
  if( js->i<js->n && js->z[js->i]=='}' ){
    js->i++;
  }else{
    while( 1 ){
      EsText key;
      int k;
      if( js->i>=js->n || js->z[js->i]!='"' ){
        return batchJsonError(pB, zPre, zWhat, "expected a key");
      }
      if( esJsonString(js, &pB->arena, &key) ) return batchJsonError(pB, zPre, zWhat, js->zErr);
      esJsonSkipSpace(js);
      if( js->i>=js->n || js->z[js->i]!=':' ) return batchJsonError(pB, zPre, zWhat, "expected ':'");
      js->i++;
      esJsonSkipSpace(js);
      if( js->i>=js->n ) return batchJsonError(pB, zPre, zWhat, "unexpected end of text");
      k = findKey(&key);
      if( k<0 ){
        EsQuote q;
        return batchError(pB, zPre, "unknown key '%s' in %s (allowed: "
            "event_type, data, event_id, event_version, occurred_at, "
            "tenant_id, actor_id, correlation_id, causation_id, metadata)",
            esUtf8Quote(&q, key.z, key.n), zWhat);
      }
      if( bOptions && (k==KEY_EVENT_TYPE || k==KEY_DATA) ){
        return batchError(pB, zPre, "%s belongs in its own argument, not in"
                          " options", azKey[k]);
      }
      if( aGiven[k] ){
        return batchError(pB, zPre, "duplicate key '%s' in %s", azKey[k], zWhat);
      }
      if( js->z[js->i]=='n' && js->n-js->i>=4 && memcmp(js->z+js->i, "null", 4)==0 ){
        js->i += 4;            /* null: keep the default */
      }else{
        aGiven[k] = 1;
        if( parseKeyValue(pB, zPre, js, k, pEv) ) return 1;
      }
      esJsonSkipSpace(js);
      if( js->i<js->n && js->z[js->i]==',' ){
        js->i++;
        esJsonSkipSpace(js);
        continue;
      }
      if( js->i<js->n && js->z[js->i]=='}' ){ js->i++; break; }
      return batchJsonError(pB, zPre, zWhat, "expected ',' or '}'");
    }
  }
  if( !bOptions && !aGiven[KEY_EVENT_TYPE] ){
    return batchError(pB, zPre, "event_type is missing");
  }
  return 0;
}

static int batchGrow(EsBatch *pB, int *pnAlloc){
  int nNew = *pnAlloc ? *pnAlloc*2 : 8;
  EsEvent *aNew = sqlite3_realloc64(pB->aEvent, (sqlite3_uint64)nNew*sizeof(EsEvent));
  if( aNew==0 ){
    pB->rcErr = SQLITE_NOMEM;
    return 1;
  }
  pB->aEvent = aNew;
  *pnAlloc = nNew;
  return 0;
}

static void batchInit(EsBatch *pB, i64 nArena){
  memset(pB, 0, sizeof(*pB));
  esArenaInit(&pB->arena, nArena);
}

/*
** Parse the events argument of the 4-argument form: one event object or
** a non-empty array of them.  Returns 0 or 1 (see pB->zErr / pB->rcErr).
*/
int esBatchParseJson(EsBatch *pB, const char *z, int n){
  EsJson js;
  int nAlloc = 0, bArray;
  i64 now = esTimestampNow();
  batchInit(pB, n);
  esJsonInit(&js, z, n);
  esJsonSkipSpace(&js);
  if( js.i>=n || (z[js.i]!='[' && z[js.i]!='{') ){
    EsJson probe;
    esJsonInit(&probe, z, n);
    esJsonSkipSpace(&probe);
    if( probe.i>=n || esJsonSkipValue(&probe, 0) ){
      return batchJsonError(pB, "", "events", probe.zErr ? probe.zErr : "empty text");
    }
    return batchError(pB, "", "events must be a JSON object or a non-empty"
                      " array of objects");
  }
  bArray = z[js.i]=='[';
  if( bArray ){
    js.i++;
    esJsonSkipSpace(&js);
    if( js.i<n && z[js.i]==']' ){
      return batchError(pB, "", "events is an empty array: nothing to append");
    }
  }
  while( 1 ){
    char zPre[40];
    u8 aGiven[KEY_COUNT];
    EsEvent *pEv;
    if( pB->nEvent>=nAlloc && batchGrow(pB, &nAlloc) ) return 1;
    pEv = &pB->aEvent[pB->nEvent++];
    eventDefaults(pEv);
    memset(aGiven, 0, sizeof(aGiven));
    if( bArray ){
      sqlite3_snprintf(sizeof(zPre), zPre, "event %d: ", pB->nEvent);
    }else{
      zPre[0] = 0;
    }
    if( parseEventObject(pB, zPre, &js, pEv, aGiven, 0) ) return 1;
    eventFinish(pEv, aGiven, now);
    esJsonSkipSpace(&js);
    if( !bArray ) break;
    if( js.i<n && z[js.i]==',' ){
      js.i++;
      esJsonSkipSpace(&js);
      continue;
    }
    if( js.i<n && z[js.i]==']' ){ js.i++; break; }
    return batchJsonError(pB, "", "events", "expected ',' or ']'");
  }
  esJsonSkipSpace(&js);
  if( js.i!=n ){
    return batchJsonError(pB, "", "events", "text after the end of the value");
  }
  return 0;
}

/*
** Parse the 5/6-argument form: event_type, data and optional options.
*/
int esBatchParseSingle(EsBatch *pB, sqlite3_value *pType, sqlite3_value *pData,
                       sqlite3_value *pOptions){
  EsEvent *pEv;
  u8 aGiven[KEY_COUNT];
  const char *zType, *zData, *zOpt = 0;
  int nType, nData, nOpt = 0;
  const char *zJsonErr = 0;
  EsQuote q;

  batchInit(pB, 0);
  /* Types first: sqlite3_value_text() would turn a blob into text, which
  ** then reports itself as text. */
  if( sqlite3_value_type(pType)==SQLITE_NULL ){
    return batchError(pB, "", "event_type is NULL");
  }
  if( sqlite3_value_type(pType)!=SQLITE_TEXT ){
    return batchError(pB, "", "event_type must be text");
  }
  if( sqlite3_value_type(pData)==SQLITE_NULL ){
    return batchError(pB, "", "data is NULL (pass '{}' for no data)");
  }
  if( sqlite3_value_type(pData)!=SQLITE_TEXT ){
    return batchError(pB, "", "data must be a JSON object");
  }
  if( pOptions && sqlite3_value_type(pOptions)!=SQLITE_NULL
   && sqlite3_value_type(pOptions)!=SQLITE_TEXT ){
    return batchError(pB, "", "options must be a JSON object");
  }

  zType = (const char*)sqlite3_value_text(pType);
  nType = sqlite3_value_bytes(pType);
  zData = (const char*)sqlite3_value_text(pData);
  nData = sqlite3_value_bytes(pData);
  if( pOptions && sqlite3_value_type(pOptions)==SQLITE_TEXT ){
    zOpt = (const char*)sqlite3_value_text(pOptions);
    nOpt = sqlite3_value_bytes(pOptions);
    if( zOpt==0 ){ pB->rcErr = SQLITE_NOMEM; return 1; }
  }
  if( zType==0 || zData==0 ){ pB->rcErr = SQLITE_NOMEM; return 1; }
  batchInit(pB, (i64)nData + nOpt + 8);
  pB->aEvent = sqlite3_malloc64(sizeof(EsEvent));
  if( pB->aEvent==0 ){ pB->rcErr = SQLITE_NOMEM; return 1; }
  pB->nEvent = 1;
  pEv = pB->aEvent;
  eventDefaults(pEv);
  memset(aGiven, 0, sizeof(aGiven));

  if( nType==0 ) return batchError(pB, "", "event_type is empty");
  if( esArgsTypeName(zType, nType) ){
    return batchError(pB, "", "event_type '%s' is not a valid type name"
                      " (%s)", esUtf8Quote(&q, zType, nType),
                      ES_TYPE_NAME_RULE);
  }
  pEv->eventType.z = zType;
  pEv->eventType.n = nType;
  aGiven[KEY_EVENT_TYPE] = 1;

  switch( esJsonIsObject(zData, nData, &pB->arena, &pEv->data, &zJsonErr) ){
    case 1: return batchError(pB, "", "data must be a JSON object");
    case 2: return batchJsonError(pB, "", "data", zJsonErr);
  }
  aGiven[KEY_DATA] = 1;

  if( zOpt ){
    EsJson js;
    esJsonInit(&js, zOpt, nOpt);
    esJsonSkipSpace(&js);
    if( parseEventObject(pB, "", &js, pEv, aGiven, 1) ) return 1;
    esJsonSkipSpace(&js);
    if( js.i!=nOpt ){
      return batchJsonError(pB, "", "options", "text after the end of the value");
    }
  }
  eventFinish(pEv, aGiven, esTimestampNow());
  return 0;
}

void esBatchFree(EsBatch *pB){
  sqlite3_free(pB->aEvent);
  sqlite3_free(pB->zErr);
  esArenaFree(&pB->arena);
  memset(pB, 0, sizeof(*pB));
}
