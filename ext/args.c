/*
** args.c -- the rules for the SQL arguments that name things: aggregate
** ids and types, stream ids, event types and expected versions.
**
** Each function reads one sqlite3_value, checks it against API.md and
** either fills in its output or sets an error on the function context
** that names the function, the argument and the problem.  Nothing here
** touches the database: a bad argument is refused before any lock is
** taken or any row is read.
*/
#include "es_internal.h"

/*
** aggregate_type and event_type: 1 to ES_MAX_TYPE_NAME bytes of ASCII
** letters, digits, '_', '.' and '-'.  So a type never holds ':' (which
** separates a stream id's parts) nor spaces.  Returns 0 if z[0..n) is one.
*/
int esArgsTypeName(const char *z, int n){
  int i;
  if( z==0 || n<1 || n>ES_MAX_TYPE_NAME ) return 1;
  for(i=0; i<n; i++){
    char c = z[i];
    if( (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
     || c=='_' || c=='.' || c=='-' ){
      continue;
    }
    return 1;
  }
  return 0;
}

/*
** Split a stream id 'aggregate_id:aggregate_type' at its last ':' (an
** aggregate type never contains one).  *pnId is the length of the id part.
** Returns 0, or 1 if there is no ':' with text on both sides.
*/
int esArgsSplitStreamId(const char *z, int n, int *pnId){
  int i;
  for(i=n-1; i>=0 && z[i]!=':'; i--){}
  if( i<=0 || i==n-1 ) return 1;
  *pnId = i;
  return 0;
}

/*
** Parse expected_version: an integer n >= 0, -1, -2, or the text forms
** 'no_stream', 'any', 'stream_exists' (any case) or integer text.
*/
int esArgsExpectedVersion(sqlite3_context *ctx, sqlite3_value *pVal,
                          const char *zFunc, i64 *piExpected){
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
        esResultError(ctx, SQLITE_ERROR, "%s: expected_version %g is"
                      " not an integer", zFunc, r);
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
      esResultError(ctx, SQLITE_ERROR, "%s: expected_version '%.40s'"
          " is not a version (use an integer >= 0, 'no_stream', 'any' or"
          " 'stream_exists')", zFunc, z);
      return 1;
    }
    case SQLITE_NULL:
      esResultError(ctx, SQLITE_ERROR, "%s: expected_version is NULL"
          " (use an integer >= 0, 'no_stream', 'any' or 'stream_exists')",
          zFunc);
      return 1;
    default:
      esResultError(ctx, SQLITE_ERROR, "%s: expected_version must be"
          " an integer or text, not a blob", zFunc);
      return 1;
  }
  if( v<ES_EXPECT_STREAM_EXISTS ){
    esResultError(ctx, SQLITE_ERROR, "%s: expected_version %lld is out"
        " of range (use n >= 0, -1 for any, -2 for stream_exists)", zFunc, v);
    return 1;
  }
  *piExpected = v;
  return 0;
}

/*
** A text argument naming a stream's part.  aggregate_id (bType==0): any
** non-empty text (an integer is taken as its text) of at most
** ES_MAX_AGGREGATE_ID bytes, without NUL characters.  aggregate_type
** (bType==1): a type name (esArgsTypeName).
*/
static int streamPart(sqlite3_context *ctx, sqlite3_value *pVal,
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
  if( bType && esArgsTypeName(z, n) ){
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

/* The (aggregate_id, aggregate_type) pair of es_append and es_version. */
int esArgsStreamParts(sqlite3_context *ctx, sqlite3_value *pId,
                      sqlite3_value *pType, const char *zFunc, EsText *pIdOut,
                      EsText *pTypeOut){
  if( streamPart(ctx, pId, zFunc, 0, pIdOut) ) return 1;
  return streamPart(ctx, pType, zFunc, 1, pTypeOut);
}

/* A stream id argument 'aggregate_id:aggregate_type', split. */
int esArgsStreamId(sqlite3_context *ctx, sqlite3_value *pVal,
                   const char *zFunc, EsText *pIdOut, EsText *pTypeOut){
  const char *z = (const char*)sqlite3_value_text(pVal);
  int n = sqlite3_value_bytes(pVal), nId = 0;
  if( sqlite3_value_type(pVal)==SQLITE_NULL ){
    esResultError(ctx, SQLITE_ERROR, "%s: stream_id is NULL", zFunc);
    return 1;
  }
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return 1;
  }
  if( esArgsSplitStreamId(z, n, &nId) ){
    esResultError(ctx, SQLITE_ERROR, "%s: stream_id '%.80s' is not"
        " of the form aggregate_id:aggregate_type", zFunc, z);
    return 1;
  }
  pIdOut->z = z;
  pIdOut->n = nId;
  pTypeOut->z = z + nId + 1;
  pTypeOut->n = n - nId - 1;
  if( esArgsTypeName(pTypeOut->z, pTypeOut->n) ){
    esResultError(ctx, SQLITE_ERROR, "%s: '%.64s' in stream_id is"
        " not a valid aggregate type", zFunc, pTypeOut->z);
    return 1;
  }
  return 0;
}
