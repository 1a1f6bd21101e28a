/*
** args.c -- the rules for the SQL arguments that name things: aggregate
** ids and types, stream ids, event types, expected versions, consumer
** names, and the integers of positions and versions.
**
** Each rule is written once here and used wherever such a value comes in:
** the functions' arguments and the virtual tables' filter values.  Text
** must be valid UTF-8 (utf8.c) and, where a name or keyword is read, free
** of NUL characters; integers must fit in 64 bits.  A function that reads
** a bad argument sets an error that names the function, the argument and
** the problem, quoting the value safely (esUtf8Quote).  Nothing here
** touches the database: a bad argument is refused before any lock is
** taken or any row is read.
*/
#include "es_internal.h"

/*
** aggregate_type and event_type: 1 to ES_MAX_TYPE_NAME bytes of ASCII
** letters, digits, '_', '.' and '-' (ES_TYPE_NAME_RULE).  So a type never
** holds ':' (which separates a stream id's parts), spaces, NUL or
** non-ASCII bytes.  Returns 0 if z[0..n) is one.
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
** A decimal integer, optionally negative: digits only, no sign '+', no
** spaces.  Returns 0 with *pv set, 1 if z[0..n) is not such an integer, 2
** if it is one that does not fit in 64 bits.
*/
int esArgsParseInteger(const char *z, int n, i64 *pv){
  int i = 0, neg = 0;
  sqlite3_uint64 v = 0;
  /* The magnitude of the most negative value is one more than the most
  ** positive one's. */
  const sqlite3_uint64 mMax = (((sqlite3_uint64)1)<<63) - 1;
  if( n>0 && z[0]=='-' ){ neg = 1; i = 1; }
  if( i>=n ) return 1;
  for(; i<n; i++){
    unsigned d;
    if( z[i]<'0' || z[i]>'9' ) return 1;
    d = (unsigned)(z[i]-'0');
    if( v > (mMax + (sqlite3_uint64)neg - d)/10 ){
      for(; i<n; i++){ if( z[i]<'0' || z[i]>'9' ) return 1; }
      return 2;
    }
    v = v*10 + d;
  }
  *pv = neg ? (i64)(0 - v) : (i64)v;
  return 0;
}

/* Why text z[0..n) is not a valid aggregate_id, or 0 if it is one. */
const char *esArgsAggregateIdProblem(const char *z, int n){
  if( n==0 ) return "is empty";
  if( n>ES_MAX_AGGREGATE_ID ){
    return "is longer than " ES_STR(ES_MAX_AGGREGATE_ID) " bytes";
  }
  if( memchr(z, 0, n) ) return "contains a NUL character";
  if( esUtf8Check(z, n) ) return "is not valid UTF-8";
  return 0;
}

/*
** Why text z[0..n) cannot name a stream, or 0 if it can: a stream id is
** 'aggregate_id:aggregate_type', split at the last ':' (a type never holds
** one), each part valid.  *pnId is the length of its aggregate_id.
*/
const char *esArgsStreamIdProblem(const char *z, int n, int *pnId){
  int i;
  if( memchr(z, 0, n) ) return "contains a NUL character";
  if( esUtf8Check(z, n) ) return "is not valid UTF-8";
  for(i=n-1; i>=0 && z[i]!=':'; i--){}
  if( i<=0 || i==n-1 ){
    return "is not of the form aggregate_id:aggregate_type";
  }
  if( i>ES_MAX_AGGREGATE_ID ){
    return "has an aggregate_id longer than " ES_STR(ES_MAX_AGGREGATE_ID)
           " bytes";
  }
  if( esArgsTypeName(z+i+1, n-i-1) ){
    return "has an aggregate type that is not a valid type name ("
           ES_TYPE_NAME_RULE ")";
  }
  *pnId = i;
  return 0;
}

/*
** The value of numeric (integer or real) argument zArg of zFunc in *pv,
** or 1 after an error if it is a real with a fraction or out of range.
** The range test comes first: casting an out-of-range double to an
** integer is undefined behaviour (found by fuzz_append).
*/
static int numberArg(sqlite3_context *ctx, sqlite3_value *pVal,
                     const char *zFunc, const char *zArg, i64 *pv){
  double r;
  if( sqlite3_value_type(pVal)==SQLITE_INTEGER ){
    *pv = sqlite3_value_int64(pVal);
    return 0;
  }
  r = sqlite3_value_double(pVal);
  if( !(r>-9.0e18 && r<9.0e18) || r!=(double)(i64)r ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s %g is not an integer",
                  zFunc, zArg, r);
    return 1;
  }
  *pv = (i64)r;
  return 0;
}

/* The text of pVal with its length; 0 (and the error set) if out of memory. */
static const char *valueText(sqlite3_context *ctx, sqlite3_value *pVal,
                             int *pn){
  const char *z = (const char*)sqlite3_value_text(pVal);
  *pn = sqlite3_value_bytes(pVal);
  if( z==0 ) sqlite3_result_error_nomem(ctx);
  return z;
}

#define EXPECTED_FORMS \
  "use an integer >= 0, 'no_stream', 'any' or 'stream_exists'"

/* The text forms of expected_version: keywords, or an integer. */
static int expectedVersionText(sqlite3_context *ctx, sqlite3_value *pVal,
                               const char *zFunc, i64 *pv){
  static const struct { const char *zWord; int n; i64 v; } aWord[] = {
    { "no_stream", 9, 0 },
    { "any", 3, ES_EXPECT_ANY },
    { "stream_exists", 13, ES_EXPECT_STREAM_EXISTS },
  };
  EsQuote q;
  int n, i;
  const char *z = valueText(ctx, pVal, &n);
  if( z==0 ) return 1;
  if( memchr(z, 0, n) ){
    esResultError(ctx, SQLITE_ERROR, "%s: expected_version '%s' contains a"
                  " NUL character (%s)", zFunc, esUtf8Quote(&q, z, n),
                  EXPECTED_FORMS);
    return 1;
  }
  for(i=0; i<ES_ARRAYSIZE(aWord); i++){
    if( n==aWord[i].n && sqlite3_strnicmp(z, aWord[i].zWord, n)==0 ){
      *pv = aWord[i].v;
      return 0;
    }
  }
  switch( esArgsParseInteger(z, n, pv) ){
    case 0:
      return 0;
    case 2:
      esResultError(ctx, SQLITE_ERROR, "%s: expected_version '%s' is out of"
          " range (%s)", zFunc, esUtf8Quote(&q, z, n), EXPECTED_FORMS);
      return 1;
  }
  esResultError(ctx, SQLITE_ERROR, "%s: expected_version '%s' is not a"
      " version (%s)", zFunc, esUtf8Quote(&q, z, n), EXPECTED_FORMS);
  return 1;
}

/*
** Parse expected_version: an integer n >= 0, -1, -2, or the text forms
** 'no_stream', 'any', 'stream_exists' (any case) or integer text.
*/
int esArgsExpectedVersion(sqlite3_context *ctx, sqlite3_value *pVal,
                          const char *zFunc, i64 *piExpected){
  i64 v = 0;
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      if( numberArg(ctx, pVal, zFunc, "expected_version", &v) ) return 1;
      break;
    case SQLITE_TEXT:
      if( expectedVersionText(ctx, pVal, zFunc, &v) ) return 1;
      break;
    case SQLITE_NULL:
      esResultError(ctx, SQLITE_ERROR, "%s: expected_version is NULL (%s)",
                    zFunc, EXPECTED_FORMS);
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
** The text of argument zArg of zFunc in *pz and *pn, or 1 after an error
** if it is NULL, empty, or of another type than text (or integer, taken as
** its text, if bInteger).
*/
static int nonEmptyText(sqlite3_context *ctx, sqlite3_value *pVal,
                        const char *zFunc, const char *zArg, int bInteger,
                        const char **pz, int *pn){
  int eType = sqlite3_value_type(pVal);
  if( eType==SQLITE_NULL ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s is NULL", zFunc, zArg);
    return 1;
  }
  if( eType!=SQLITE_TEXT && (!bInteger || eType!=SQLITE_INTEGER) ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s must be text", zFunc, zArg);
    return 1;
  }
  if( (*pz = valueText(ctx, pVal, pn))==0 ) return 1;
  if( *pn==0 ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s is empty", zFunc, zArg);
    return 1;
  }
  return 0;
}

/*
** A text argument naming a stream's part.  aggregate_id (bType==0): text
** (an integer is taken as its text) by esArgsAggregateIdProblem's rule.
** aggregate_type (bType==1): a type name (esArgsTypeName).
*/
static int streamPart(sqlite3_context *ctx, sqlite3_value *pVal,
                      const char *zFunc, int bType, EsText *pOut){
  const char *zArg = bType ? "aggregate_type" : "aggregate_id";
  const char *z, *zProblem;
  EsQuote q;
  int n;
  if( nonEmptyText(ctx, pVal, zFunc, zArg, !bType, &z, &n) ) return 1;
  if( bType && esArgsTypeName(z, n) ){
    esResultError(ctx, SQLITE_ERROR, "%s: aggregate_type '%s' is not a"
        " valid type name (%s)", zFunc, esUtf8Quote(&q, z, n),
        ES_TYPE_NAME_RULE);
    return 1;
  }
  if( !bType && (zProblem = esArgsAggregateIdProblem(z, n))!=0 ){
    esResultError(ctx, SQLITE_ERROR, "%s: aggregate_id %s", zFunc, zProblem);
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
  const char *z, *zProblem;
  EsQuote q;
  int n, nId = 0;
  if( sqlite3_value_type(pVal)==SQLITE_NULL ){
    esResultError(ctx, SQLITE_ERROR, "%s: stream_id is NULL", zFunc);
    return 1;
  }
  if( sqlite3_value_type(pVal)!=SQLITE_TEXT ){
    esResultError(ctx, SQLITE_ERROR, "%s: stream_id must be text", zFunc);
    return 1;
  }
  if( (z = valueText(ctx, pVal, &n))==0 ) return 1;
  if( (zProblem = esArgsStreamIdProblem(z, n, &nId))!=0 ){
    esResultError(ctx, SQLITE_ERROR, "%s: stream_id '%s' %s", zFunc,
                  esUtf8Quote(&q, z, n), zProblem);
    return 1;
  }
  pIdOut->z = z;
  pIdOut->n = nId;
  pTypeOut->z = z + nId + 1;
  pTypeOut->n = n - nId - 1;
  return 0;
}

/*
** An integer argument of at least iMin (a position, a version, a size):
** an integer, a real with an integral value, or text that is a decimal
** integer.  Upper bounds depend on the store and are the caller's.
*/
int esArgsInteger(sqlite3_context *ctx, sqlite3_value *pVal,
                  const char *zFunc, const char *zArg, i64 iMin, i64 *pv){
  EsQuote q;
  i64 v = 0;
  int n;
  const char *z;
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_INTEGER:
    case SQLITE_FLOAT:
      if( numberArg(ctx, pVal, zFunc, zArg, &v) ) return 1;
      break;
    case SQLITE_TEXT:
      if( (z = valueText(ctx, pVal, &n))==0 ) return 1;
      if( memchr(z, 0, n) || esArgsParseInteger(z, n, &v)!=0 ){
        esResultError(ctx, SQLITE_ERROR, "%s: %s '%s' is not an integer",
                      zFunc, zArg, esUtf8Quote(&q, z, n));
        return 1;
      }
      break;
    case SQLITE_NULL:
      esResultError(ctx, SQLITE_ERROR, "%s: %s is NULL", zFunc, zArg);
      return 1;
    default:
      esResultError(ctx, SQLITE_ERROR, "%s: %s must be an integer, not a"
                    " blob", zFunc, zArg);
      return 1;
  }
  if( v<iMin ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s %lld is out of range (it must"
                  " be %lld or more)", zFunc, zArg, v, iMin);
    return 1;
  }
  *pv = v;
  return 0;
}

/*
** A name given by the application (a consumer's): text (an integer is
** taken as its text) of 1 to nMax bytes of valid UTF-8 without NUL.
*/
int esArgsName(sqlite3_context *ctx, sqlite3_value *pVal, const char *zFunc,
               const char *zArg, int nMax, EsText *pOut){
  const char *z;
  int n;
  if( nonEmptyText(ctx, pVal, zFunc, zArg, 1, &z, &n) ) return 1;
  if( n>nMax ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s is longer than %d bytes", zFunc,
                  zArg, nMax);
    return 1;
  }
  if( memchr(z, 0, n) ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s contains a NUL character",
                  zFunc, zArg);
    return 1;
  }
  if( esUtf8Check(z, n) ){
    esResultError(ctx, SQLITE_ERROR, "%s: %s is not valid UTF-8", zFunc, zArg);
    return 1;
  }
  pOut->z = z;
  pOut->n = n;
  return 0;
}
