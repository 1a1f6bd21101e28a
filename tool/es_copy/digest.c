/*
** digest.c -- comparing what two stores hold: a SHA-256 of their rows,
** each row in a canonical form (es_copy.h).
**
** A row's fields are hashed in event_all's order, each as its length and
** bytes ("-" for NULL), so that no two different rows hash alike by
** shifting bytes between fields.  data and metadata are hashed as JSON
** values, not as text: PostgreSQL's jsonb keeps neither the order of an
** object's keys, nor its whitespace, nor the spelling of its numbers
** (1e2 is 100 there), so the same events read back from SQLite and from
** PostgreSQL differ as text.  The canonical form: no whitespace; an
** object's keys sorted by their bytes, the last of a repeated key kept
** (as jsonb does); strings with escapes decoded and only '"', '\' and
** control characters escaped again; numbers as exact decimals with the
** scale that PostgreSQL's numeric gives them (1.50 stays 1.50, 1.5e1 is
** 15, 1e-2 is 0.01).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "es_copy.h"

/* ------------------------------------------------------------ SHA-256 */

static const uint32_t K[64] = {
  0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
  0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,
  0xe49b69c1,0xefbe4786,0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,
  0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,
  0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,0x81c2c92e,0x92722c85,
  0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
  0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,
  0x748f82ee,0x78a5636f,0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2
};
#define ROR(x,n) (((x)>>(n)) | ((x)<<(32-(n))))

static void block(EcDigest *d, const unsigned char *p){
  uint32_t w[64], a, b, c, e, f, g, h, dd, t1, t2;
  int i;
  for(i=0; i<16; i++){
    w[i] = (uint32_t)p[4*i]<<24 | (uint32_t)p[4*i+1]<<16 | (uint32_t)p[4*i+2]<<8 | p[4*i+3];
  }
  for(i=16; i<64; i++){
    uint32_t s0 = ROR(w[i-15],7) ^ ROR(w[i-15],18) ^ (w[i-15]>>3);
    uint32_t s1 = ROR(w[i-2],17) ^ ROR(w[i-2],19) ^ (w[i-2]>>10);
    w[i] = w[i-16] + s0 + w[i-7] + s1;
  }
  a = d->h[0]; b = d->h[1]; c = d->h[2]; dd = d->h[3];
  e = d->h[4]; f = d->h[5]; g = d->h[6]; h = d->h[7];
  for(i=0; i<64; i++){
    t1 = h + (ROR(e,6) ^ ROR(e,11) ^ ROR(e,25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    t2 = (ROR(a,2) ^ ROR(a,13) ^ ROR(a,22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = dd + t1; dd = c; c = b; b = a; a = t1 + t2;
  }
  d->h[0] += a; d->h[1] += b; d->h[2] += c; d->h[3] += dd;
  d->h[4] += e; d->h[5] += f; d->h[6] += g; d->h[7] += h;
}

static void update(EcDigest *d, const void *pData, size_t n){
  const unsigned char *p = pData;
  d->nBytes += n;
  while( n>0 ){
    size_t k = 64 - d->nBuf;
    if( k>n ) k = n;
    memcpy(d->buf + d->nBuf, p, k);
    d->nBuf += (int)k;
    p += k;
    n -= k;
    if( d->nBuf==64 ){
      block(d, d->buf);
      d->nBuf = 0;
    }
  }
}

void ecDigestInit(EcDigest *d){
  static const uint32_t h0[8] = {
    0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19
  };
  char *zKeep = d->zCanon;
  size_t nKeep = d->nCanon;
  memset(d, 0, sizeof(*d));
  memcpy(d->h, h0, sizeof(h0));
  d->zCanon = zKeep;
  d->nCanon = nKeep;
}

void ecDigestFinish(EcDigest *d, char *zHex){
  unsigned char pad[72];
  uint64_t nBits = d->nBytes*8;
  size_t nPad = (d->nBuf < 56 ? 56 : 120) - d->nBuf;
  int i;
  memset(pad, 0, sizeof(pad));
  pad[0] = 0x80;
  for(i=0; i<8; i++) pad[nPad+i] = (unsigned char)(nBits >> (56 - 8*i));
  update(d, pad, nPad+8);
  for(i=0; i<32; i++){
    sprintf(zHex + 2*i, "%02x", (unsigned)(d->h[i/4] >> (24 - 8*(i%4))) & 0xff);
  }
  free(d->zCanon);
  d->zCanon = 0;
  d->nCanon = 0;
}

/* ------------------------------------------------------ canonical JSON */

typedef struct Out Out;
struct Out { char *z; size_t n, nAlloc; };

static void put(Out *o, const char *z, size_t n){
  if( o->n + n + 1 > o->nAlloc ){
    o->nAlloc = (o->n + n + 1)*2 + 64;
    o->z = realloc(o->z, o->nAlloc);
    if( o->z==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
  }
  memcpy(o->z + o->n, z, n);
  o->n += n;
  o->z[o->n] = 0;
}
static void putc1(Out *o, char c){ put(o, &c, 1); }

typedef struct In In;
struct In { const char *z; size_t i; };

static void ws(In *in){
  while( in->z[in->i]==' ' || in->z[in->i]=='\t' || in->z[in->i]=='\n'
      || in->z[in->i]=='\r' ) in->i++;
}

static int hex4(const char *z, unsigned *pv){
  unsigned v = 0;
  int i;
  for(i=0; i<4; i++){
    char c = z[i];
    v <<= 4;
    if( c>='0' && c<='9' ) v |= c-'0';
    else if( c>='a' && c<='f' ) v |= c-'a'+10;
    else if( c>='A' && c<='F' ) v |= c-'A'+10;
    else return 1;
  }
  *pv = v;
  return 0;
}

static void utf8(Out *o, unsigned c){
  char b[4];
  if( c<0x80 ){ putc1(o, (char)c); return; }
  if( c<0x800 ){ b[0]=(char)(0xc0|c>>6); b[1]=(char)(0x80|(c&0x3f)); put(o,b,2); return; }
  if( c<0x10000 ){
    b[0]=(char)(0xe0|c>>12); b[1]=(char)(0x80|((c>>6)&0x3f)); b[2]=(char)(0x80|(c&0x3f));
    put(o,b,3); return;
  }
  b[0]=(char)(0xf0|c>>18); b[1]=(char)(0x80|((c>>12)&0x3f));
  b[2]=(char)(0x80|((c>>6)&0x3f)); b[3]=(char)(0x80|(c&0x3f));
  put(o,b,4);
}

/* A string at in->i ('"'), decoded into raw bytes. */
static int string(In *in, Out *raw){
  in->i++;
  for(;;){
    char c = in->z[in->i];
    if( c==0 ) return 1;
    if( c=='"' ){ in->i++; return 0; }
    if( c!='\\' ){ putc1(raw, c); in->i++; continue; }
    c = in->z[++in->i];
    in->i++;
    switch( c ){
      case '"': putc1(raw, '"'); break;
      case '\\': putc1(raw, '\\'); break;
      case '/': putc1(raw, '/'); break;
      case 'b': putc1(raw, '\b'); break;
      case 'f': putc1(raw, '\f'); break;
      case 'n': putc1(raw, '\n'); break;
      case 'r': putc1(raw, '\r'); break;
      case 't': putc1(raw, '\t'); break;
      case 'u': {
        unsigned v, lo;
        if( hex4(in->z + in->i, &v) ) return 1;
        in->i += 4;
        if( v>=0xd800 && v<0xdc00 && in->z[in->i]=='\\' && in->z[in->i+1]=='u'
         && hex4(in->z + in->i + 2, &lo)==0 && lo>=0xdc00 && lo<0xe000 ){
          v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
          in->i += 6;
        }
        utf8(raw, v);
        break;
      }
      default: return 1;
    }
  }
}

static void putString(Out *o, const char *z, size_t n){
  size_t i;
  putc1(o, '"');
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)z[i];
    if( c=='"' || c=='\\' ){ putc1(o, '\\'); putc1(o, (char)c); }
    else if( c<0x20 ){ char b[8]; snprintf(b, sizeof(b), "\\u%04x", c); put(o, b, 6); }
    else putc1(o, (char)c);
  }
  putc1(o, '"');
}

/* A number, as an exact decimal with numeric's scale. */
static int number(In *in, Out *o){
  const char *z = in->z;
  size_t i = in->i;
  int neg = 0, nFrac = 0;
  long exp = 0;
  Out dig = {0, 0, 0};
  if( z[i]=='-' ){ neg = 1; i++; }
  if( z[i]<'0' || z[i]>'9' ) return 1;
  while( z[i]>='0' && z[i]<='9' ) putc1(&dig, z[i++]);
  if( z[i]=='.' ){
    i++;
    if( z[i]<'0' || z[i]>'9' ){ free(dig.z); return 1; }
    while( z[i]>='0' && z[i]<='9' ){ putc1(&dig, z[i++]); nFrac++; }
  }
  if( z[i]=='e' || z[i]=='E' ){
    int eneg = 0;
    i++;
    if( z[i]=='+' || z[i]=='-' ) eneg = z[i++]=='-';
    if( z[i]<'0' || z[i]>'9' ){ free(dig.z); return 1; }
    while( z[i]>='0' && z[i]<='9' ){
      if( exp<100000 ) exp = exp*10 + (z[i]-'0');
      i++;
    }
    if( eneg ) exp = -exp;
  }
  in->i = i;
  {
    /* value = digits * 10^(exp - nFrac); scale = max(0, nFrac - exp) */
    long scale = nFrac - exp > 0 ? nFrac - exp : 0;
    long shift = exp - nFrac + scale;         /* zeros appended: >= 0 */
    size_t nd, k, first;
    int allZero = 1;
    for(k=0; k<(size_t)shift; k++) putc1(&dig, '0');
    nd = dig.n;
    while( (long)nd <= scale ){              /* at least one integer digit */
      Out t = {0, 0, 0};
      putc1(&t, '0');
      put(&t, dig.z, dig.n);
      free(dig.z);
      dig = t;
      nd = dig.n;
    }
    for(k=0; k<nd; k++) if( dig.z[k]!='0' ) allZero = 0;
    if( neg && !allZero ) putc1(o, '-');
    first = 0;
    while( first < nd - scale - 1 && dig.z[first]=='0' ) first++;
    put(o, dig.z + first, nd - scale - first);
    if( scale>0 ){ putc1(o, '.'); put(o, dig.z + nd - scale, scale); }
  }
  free(dig.z);
  return 0;
}

typedef struct Member Member;
struct Member { char *zKey; size_t nKey; char *zVal; size_t nVal; size_t iOrder; };

static int cmpMember(const void *a, const void *b){
  const Member *x = a, *y = b;
  size_t n = x->nKey < y->nKey ? x->nKey : y->nKey;
  int c = memcmp(x->zKey, y->zKey, n);
  if( c ) return c;
  if( x->nKey!=y->nKey ) return x->nKey < y->nKey ? -1 : 1;
  return x->iOrder < y->iOrder ? -1 : 1;
}

static int value(In *in, Out *o, int depth);

static int object(In *in, Out *o, int depth){
  Member *a = 0;
  size_t n = 0, nAlloc = 0, k;
  int rc = 0;
  in->i++;
  ws(in);
  if( in->z[in->i]=='}' ){ in->i++; put(o, "{}", 2); return 0; }
  for(;;){
    Out key = {0, 0, 0}, val = {0, 0, 0};
    ws(in);
    if( in->z[in->i]!='"' || string(in, &key) ){ free(key.z); rc = 1; break; }
    ws(in);
    if( in->z[in->i]!=':' ){ free(key.z); rc = 1; break; }
    in->i++;
    if( value(in, &val, depth+1) ){ free(key.z); free(val.z); rc = 1; break; }
    if( n==nAlloc ){
      nAlloc = nAlloc ? nAlloc*2 : 8;
      a = realloc(a, sizeof(Member)*nAlloc);
      if( a==0 ){ fputs("es-copy: out of memory\n", stderr); exit(5); }
    }
    a[n].zKey = key.z ? key.z : calloc(1, 1);
    a[n].nKey = key.n;
    a[n].zVal = val.z;
    a[n].nVal = val.n;
    a[n].iOrder = n;
    n++;
    ws(in);
    if( in->z[in->i]==',' ){ in->i++; continue; }
    if( in->z[in->i]=='}' ){ in->i++; break; }
    rc = 1;
    break;
  }
  if( rc==0 ){
    int bFirst = 1;
    qsort(a, n, sizeof(Member), cmpMember);
    putc1(o, '{');
    for(k=0; k<n; k++){
      /* Of equal keys the last one given wins (sorted after the others). */
      if( k+1<n && a[k].nKey==a[k+1].nKey && memcmp(a[k].zKey, a[k+1].zKey, a[k].nKey)==0 ){
        continue;
      }
      if( !bFirst ) putc1(o, ',');
      bFirst = 0;
      putString(o, a[k].zKey, a[k].nKey);
      putc1(o, ':');
      put(o, a[k].zVal, a[k].nVal);
    }
    putc1(o, '}');
  }
  for(k=0; k<n; k++){ free(a[k].zKey); free(a[k].zVal); }
  free(a);
  return rc;
}

static int value(In *in, Out *o, int depth){
  char c;
  if( depth>1000 ) return 1;
  ws(in);
  c = in->z[in->i];
  if( c=='{' ) return object(in, o, depth);
  if( c=='[' ){
    int bFirst = 1;
    in->i++;
    putc1(o, '[');
    ws(in);
    if( in->z[in->i]==']' ){ in->i++; putc1(o, ']'); return 0; }
    for(;;){
      if( !bFirst ) putc1(o, ',');
      bFirst = 0;
      if( value(in, o, depth+1) ) return 1;
      ws(in);
      if( in->z[in->i]==',' ){ in->i++; continue; }
      if( in->z[in->i]==']' ){ in->i++; putc1(o, ']'); return 0; }
      return 1;
    }
  }
  if( c=='"' ){
    Out raw = {0, 0, 0};
    int rc = string(in, &raw);
    if( rc==0 ) putString(o, raw.z ? raw.z : "", raw.n);
    free(raw.z);
    return rc;
  }
  if( strncmp(in->z + in->i, "true", 4)==0 ){ in->i += 4; put(o, "true", 4); return 0; }
  if( strncmp(in->z + in->i, "false", 5)==0 ){ in->i += 5; put(o, "false", 5); return 0; }
  if( strncmp(in->z + in->i, "null", 4)==0 ){ in->i += 4; put(o, "null", 4); return 0; }
  return number(in, o);
}

/* The canonical form of JSON text z into *pzOut (reallocated as needed). */
int ecJsonCanonical(const char *z, char **pzOut, size_t *pnAlloc){
  In in = { z, 0 };
  Out o = { *pzOut, 0, *pnAlloc };
  int rc = value(&in, &o, 0);
  ws(&in);
  if( rc==0 && in.z[in.i]!=0 ) rc = 1;
  if( o.z==0 ) put(&o, "", 0);
  *pzOut = o.z;
  *pnAlloc = o.nAlloc;
  return rc;
}

/* ----------------------------------------------------------------- rows */

static void field(EcDigest *d, const char *z){
  char zLen[24];
  if( z==0 ){
    update(d, "-", 1);
    return;
  }
  snprintf(zLen, sizeof(zLen), "%zu:", strlen(z));
  update(d, zLen, strlen(zLen));
  update(d, z, strlen(z));
}

static void number1(EcDigest *d, i64 v){
  char z[24];
  snprintf(z, sizeof(z), "%lld", v);
  field(d, z);
}

int ecDigestRow(EcDigest *d, const EcRow *r){
  number1(d, r->iGlobal);
  field(d, r->zAggId);
  field(d, r->zAggType);
  number1(d, r->iStream);
  field(d, r->zEventId);
  field(d, r->zEventType);
  number1(d, r->iEventVersion);
  field(d, r->zTenant);
  field(d, r->zActor);
  field(d, r->zCorrelation);
  field(d, r->zCausation);
  field(d, r->zOccurred);
  field(d, r->zStored);
  if( ecJsonCanonical(r->zData, &d->zCanon, &d->nCanon) ) return 1;
  field(d, d->zCanon);
  if( ecJsonCanonical(r->zMetadata, &d->zCanon, &d->nCanon) ) return 1;
  field(d, d->zCanon);
  return 0;
}
