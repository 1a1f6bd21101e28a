/*
** json.c -- a strict JSON scanner for the inputs of es_append.
**
** SQLite's own JSON functions would parse each event into a tree of
** values; es_append needs much less: validate the text once (RFC 8259,
** valid UTF-8, nesting at most ES_JSON_MAX_DEPTH), find the keys of an
** event object, and keep the `data` and `metadata` objects as slices of
** the input.  Objects are stored in minimal form (no whitespace between
** tokens) so that two spellings of an object that differ only in whitespace
** have the same bytes, which is what the idempotency check compares; a slice that is already minimal
** is stored without copying.
*/
#include "es_internal.h"

/* The one error text that means SQLITE_NOMEM rather than bad input. */
const char esJsonOutOfMemory[] = "out of memory";

void esJsonInit(EsJson *p, const char *z, int n){
  p->z = z;
  p->n = n;
  p->i = 0;
  p->bSpace = 0;
  p->zErr = 0;
}

static int isJsonSpace(char c){
  return c==' ' || c=='\t' || c=='\n' || c=='\r';
}

void esJsonSkipSpace(EsJson *p){
  int i = p->i;
  while( i<p->n && isJsonSpace(p->z[i]) ) i++;
  if( i!=p->i ){ p->bSpace = 1; p->i = i; }
}

static int jsonFail(EsJson *p, const char *zErr){
  if( p->zErr==0 ) p->zErr = zErr;
  return 1;
}

static int hex4(const char *z, unsigned *pv){
  unsigned v = 0;
  int k;
  for(k=0; k<4; k++){
    char c = z[k];
    v <<= 4;
    if( c>='0' && c<='9' ) v |= (unsigned)(c-'0');
    else if( c>='a' && c<='f' ) v |= (unsigned)(c-'a'+10);
    else if( c>='A' && c<='F' ) v |= (unsigned)(c-'A'+10);
    else return 1;
  }
  *pv = v;
  return 0;
}

static int putUtf8(char *zOut, unsigned cp){
  if( cp<0x80 ){ zOut[0] = (char)cp; return 1; }
  if( cp<0x800 ){
    zOut[0] = (char)(0xC0 | (cp>>6));
    zOut[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if( cp<0x10000 ){
    zOut[0] = (char)(0xE0 | (cp>>12));
    zOut[1] = (char)(0x80 | ((cp>>6) & 0x3F));
    zOut[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  zOut[0] = (char)(0xF0 | (cp>>18));
  zOut[1] = (char)(0x80 | ((cp>>12) & 0x3F));
  zOut[2] = (char)(0x80 | ((cp>>6) & 0x3F));
  zOut[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/*
** Nonzero if any of the 8 bytes in x ends a plain run of string bytes: a
** control character (< 0x20), a non-ASCII byte (>= 0x80), '"' or '\\'.
** Per byte, x-0x20 sets the high bit exactly when x < 0x20, and (x^c)-1
** exactly when x == c, for bytes below 0x80 (a borrow only crosses into
** a higher byte from a byte that is itself flagged); OR-ing in x flags
** the bytes >= 0x80.
*/
static sqlite3_uint64 endsPlainRun(sqlite3_uint64 x){
  const sqlite3_uint64 ones = 0x0101010101010101ULL;
  sqlite3_uint64 q = x ^ (ones*'"');
  sqlite3_uint64 b = x ^ (ones*'\\');
  return ((x - ones*0x20) | (q - ones) | (b - ones) | x) & (ones*0x80);
}

/*
** Scan the string that starts at p->z[p->i] (a '"').  If zOut is not
** NULL, the unescaped bytes are written there (the caller guarantees room:
** unescaping never grows a string) and *pnOut is set.  Returns 0 on
** success, with p->i just past the closing quote.
*/
static int scanString(EsJson *p, char *zOut, int *pnOut, int *pbEscaped){
  const char *z = p->z;
  int i = p->i + 1, n = p->n, o = 0, bEsc = 0;
  while( 1 ){
    u8 c;
    /* Plain ASCII, 8 bytes at a time: most of a string's bytes. */
    while( i+8<=n ){
      sqlite3_uint64 x;
      memcpy(&x, z+i, 8);
      if( endsPlainRun(x) ) break;
      if( zOut ){ memcpy(zOut+o, z+i, 8); o += 8; }
      i += 8;
    }
    if( i>=n ) return jsonFail(p, "unterminated string");
    c = (u8)z[i];
    if( c=='"' ) break;
    if( c<0x20 ) return jsonFail(p, "control character in string");
    if( c=='\\' ){
      unsigned cp;
      bEsc = 1;
      if( i+1>=n ) return jsonFail(p, "unterminated string");
      switch( z[i+1] ){
        case '"':  cp = '"';  i += 2; break;
        case '\\': cp = '\\'; i += 2; break;
        case '/':  cp = '/';  i += 2; break;
        case 'b':  cp = '\b'; i += 2; break;
        case 'f':  cp = '\f'; i += 2; break;
        case 'n':  cp = '\n'; i += 2; break;
        case 'r':  cp = '\r'; i += 2; break;
        case 't':  cp = '\t'; i += 2; break;
        case 'u':
          if( i+6>n || hex4(z+i+2, &cp) ) return jsonFail(p, "bad \\u escape");
          i += 6;
          if( cp>=0xDC00 && cp<=0xDFFF ){
            return jsonFail(p, "unpaired surrogate in \\u escape");
          }
          if( cp>=0xD800 && cp<=0xDBFF ){
            unsigned lo;
            if( i+6>n || z[i]!='\\' || z[i+1]!='u' || hex4(z+i+2, &lo)
             || lo<0xDC00 || lo>0xDFFF ){
              return jsonFail(p, "unpaired surrogate in \\u escape");
            }
            cp = 0x10000 + ((cp-0xD800)<<10) + (lo-0xDC00);
            i += 6;
          }
          if( cp==0 ) return jsonFail(p, "\\u0000 in string");
          break;
        default:
          return jsonFail(p, "bad escape in string");
      }
      if( zOut ) o += putUtf8(zOut+o, cp);
      continue;
    }
    if( c<0x80 ){
      if( zOut ) zOut[o++] = (char)c;
      i++;
    }else{
      int len = esUtf8SequenceLength((const u8*)z+i, n-i);
      if( len==0 ) return jsonFail(p, "invalid UTF-8 in string");
      if( zOut ){ memcpy(zOut+o, z+i, len); o += len; }
      i += len;
    }
  }
  p->i = i+1;
  if( pnOut ) *pnOut = o;
  if( pbEscaped ) *pbEscaped = bEsc;
  return 0;
}

static int scanNumber(EsJson *p){
  const char *z = p->z;
  int i = p->i, n = p->n;
  if( i<n && z[i]!='-' && (z[i]<'0' || z[i]>'9') ){
    return jsonFail(p, "unexpected character");
  }
  if( i<n && z[i]=='-' ) i++;
  if( i>=n || z[i]<'0' || z[i]>'9' ) return jsonFail(p, "bad number");
  if( z[i]=='0' ){
    i++;
  }else{
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
  }
  if( i<n && z[i]=='.' ){
    i++;
    if( i>=n || z[i]<'0' || z[i]>'9' ) return jsonFail(p, "bad number");
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
  }
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    i++;
    if( i<n && (z[i]=='+' || z[i]=='-') ) i++;
    if( i>=n || z[i]<'0' || z[i]>'9' ) return jsonFail(p, "bad number");
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
  }
  p->i = i;
  return 0;
}

static int scanLiteral(EsJson *p, const char *zLit, int nLit){
  if( p->n - p->i < nLit || memcmp(p->z + p->i, zLit, nLit)!=0 ){
    return jsonFail(p, "unexpected character");
  }
  p->i += nLit;
  return 0;
}

/* Skip the array or object at p->i; c is '[' or '{'. */
static int scanContainer(EsJson *p, int depth, char cOpen){
  char cClose = cOpen=='[' ? ']' : '}';
  if( depth>=ES_JSON_MAX_DEPTH ) return jsonFail(p, "nested too deeply");
  p->i++;
  esJsonSkipSpace(p);
  if( p->i<p->n && p->z[p->i]==cClose ){ p->i++; return 0; }
  while( 1 ){
    if( cOpen=='{' ){
      if( p->i>=p->n || p->z[p->i]!='"' ) return jsonFail(p, "expected a key");
      if( scanString(p, 0, 0, 0) ) return 1;
      esJsonSkipSpace(p);
      if( p->i>=p->n || p->z[p->i]!=':' ) return jsonFail(p, "expected ':'");
      p->i++;
      esJsonSkipSpace(p);
    }
    if( esJsonSkipValue(p, depth+1) ) return 1;
    esJsonSkipSpace(p);
    if( p->i>=p->n ) return jsonFail(p, "unexpected end of text");
    if( p->z[p->i]==',' ){
      p->i++;
      esJsonSkipSpace(p);
      continue;
    }
    if( p->z[p->i]==cClose ){ p->i++; return 0; }
    return jsonFail(p, "expected ',' or a closing bracket");
  }
}

int esJsonSkipValue(EsJson *p, int depth){
  if( p->i>=p->n ) return jsonFail(p, "unexpected end of text");
  switch( p->z[p->i] ){
    case '{': case '[': return scanContainer(p, depth, p->z[p->i]);
    case '"': return scanString(p, 0, 0, 0);
    case 't': return scanLiteral(p, "true", 4);
    case 'f': return scanLiteral(p, "false", 5);
    case 'n': return scanLiteral(p, "null", 4);
    default:  return scanNumber(p);
  }
}

/*
** Read the string at p->i into *pOut, unescaped.  Without escapes the
** result points into the input; otherwise into the arena.
*/
int esJsonString(EsJson *p, EsArena *pArena, EsText *pOut){
  int iStart = p->i, bEsc = 0, nOut = 0;
  char *zOut;
  if( p->i>=p->n || p->z[p->i]!='"' ) return jsonFail(p, "expected a string");
  if( scanString(p, 0, 0, &bEsc) ) return 1;
  if( !bEsc ){
    pOut->z = p->z + iStart + 1;
    pOut->n = p->i - iStart - 2;
    return 0;
  }
  zOut = esArenaAlloc(pArena, p->i - iStart);
  if( zOut==0 ) return jsonFail(p, esJsonOutOfMemory);
  p->i = iStart;
  scanString(p, zOut, &nOut, 0);
  assert( nOut <= p->i - iStart - 2 );   /* unescaping never grows it */
  pOut->z = zOut;
  pOut->n = nOut;
  return 0;
}

/* Copy valid JSON text z[0..n) without whitespace between tokens. */
int esJsonMinify(const char *z, int n, EsArena *pArena, EsText *pOut){
  char *zOut = esArenaAlloc(pArena, n);
  int i = 0, o = 0;
  if( zOut==0 ) return 1;
  while( i<n ){
    char c = z[i];
    if( c=='"' ){
      int j = i+1;
      while( z[j]!='"' ){ j += (z[j]=='\\') ? 2 : 1; }
      memcpy(zOut+o, z+i, j+1-i);
      o += j+1-i;
      i = j+1;
    }else{
      if( !isJsonSpace(c) ) zOut[o++] = c;
      i++;
    }
  }
  pOut->z = zOut;
  pOut->n = o;
  return 0;
}

/*
** Check that z[0..n) is exactly one JSON object (whitespace around it is
** allowed) and set *pOut to its minimal form.  Returns 0 if it is; 1 if
** it is valid JSON but not an object; 2 if it is not valid JSON, with
** *pzErr set to a static description of the syntax error.
*/
int esJsonIsObject(const char *z, int n, EsArena *pArena, EsText *pOut,
                   const char **pzErr){
  EsJson js;
  int iStart;
  esJsonInit(&js, z, n);
  esJsonSkipSpace(&js);
  iStart = js.i;
  js.bSpace = 0;
  if( esJsonSkipValue(&js, 0) ){
    *pzErr = js.zErr;
    return 2;
  }
  {
    int iEnd = js.i, bSpace = js.bSpace;
    esJsonSkipSpace(&js);
    if( js.i!=n ){
      *pzErr = "text after the end of the value";
      return 2;
    }
    if( z[iStart]!='{' ) return 1;
    if( !bSpace ){
      pOut->z = z + iStart;
      pOut->n = iEnd - iStart;
      return 0;
    }
    if( esJsonMinify(z+iStart, iEnd-iStart, pArena, pOut) ){
      *pzErr = esJsonOutOfMemory;
      return 2;
    }
  }
  return 0;
}

/*
** Append z[0..n) to pStr as a JSON string (quoted, with '"', '\\' and
** control characters escaped).  n<0: up to the NUL terminator.
*/
void esJsonAppendString(sqlite3_str *pStr, const char *z, int n){
  int i;
  if( n<0 ) n = z ? (int)strlen(z) : 0;
  sqlite3_str_appendchar(pStr, 1, '"');
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c=='"' || c=='\\' ){
      sqlite3_str_appendchar(pStr, 1, '\\');
      sqlite3_str_appendchar(pStr, 1, (char)c);
    }else if( c<0x20 ){
      sqlite3_str_appendf(pStr, "\\u%04x", c);
    }else{
      sqlite3_str_appendchar(pStr, 1, (char)c);
    }
  }
  sqlite3_str_appendchar(pStr, 1, '"');
}
