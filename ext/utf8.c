/*
** utf8.c -- the UTF-8 rule, in one place: what a valid sequence is, and
** how an input is quoted in an error message.
**
** SQLite stores whatever bytes it is given as TEXT; it never checks them.
** API.md says every text value is valid UTF-8 (readers in other languages
** fail on the first bad byte, for the whole result), so every text input
** is checked with this rule: the shortest form of each character, no
** encoded surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
**
** Error messages quote inputs, cut to a length.  A cut in the middle of a
** character, or a quoted invalid byte, would make the message itself
** invalid UTF-8 and unreadable to the same readers, so esUtf8Quote cuts at
** a character boundary and shows invalid bytes as '?'.
*/
#include "es_internal.h"

/* Length of the UTF-8 sequence at z[0..n) that starts with a byte >= 0x80,
** or 0 if it is not a valid one. */
int esUtf8SequenceLength(const u8 *z, int n){
  u8 c = z[0];
  int len, k;
  unsigned cp;
  if( c<0xC2 ) return 0;             /* continuation byte or overlong */
  if( c<0xE0 ){ len = 2; cp = c & 0x1F; }
  else if( c<0xF0 ){ len = 3; cp = c & 0x0F; }
  else if( c<0xF5 ){ len = 4; cp = c & 0x07; }
  else return 0;
  if( len>n ) return 0;
  for(k=1; k<len; k++){
    if( (z[k] & 0xC0)!=0x80 ) return 0;
    cp = (cp<<6) | (z[k] & 0x3F);
  }
  if( (len==3 && cp<0x800) || (len==4 && (cp<0x10000 || cp>0x10FFFF)) ){
    return 0;
  }
  if( cp>=0xD800 && cp<=0xDFFF ) return 0;
  return len;
}

/* 0 if z[0..n) is valid UTF-8, else 1. */
int esUtf8Check(const char *z, int n){
  const u8 *a = (const u8*)z;
  int i = 0;
  while( i<n ){
    if( a[i]<0x80 ){
      i++;
    }else{
      int len = esUtf8SequenceLength(a+i, n-i);
      if( len==0 ) return 1;
      i += len;
    }
  }
  return 0;
}

/*
** z[0..n) (n<0: up to its NUL) for an error message: at most
** ES_QUOTE_MAX bytes cut at a character boundary, "..." after a cut,
** each invalid byte as '?', and NUL bytes as "\0".  Returns pQ->z.
*/
const char *esUtf8Quote(EsQuote *pQ, const char *z, int n){
  const u8 *a = (const u8*)z;
  int i = 0, o = 0;
  if( z==0 ){ pQ->z[0] = 0; return pQ->z; }
  if( n<0 ) n = (int)strlen(z);
  while( i<n ){
    int len = a[i]<0x80 ? 1 : esUtf8SequenceLength(a+i, n-i);
    int nOut = len==0 ? 1 : a[i]==0 ? 2 : len;
    if( o + nOut > ES_QUOTE_MAX ){
      memcpy(pQ->z + o, "...", 3);
      o += 3;
      break;
    }
    if( len==0 ){
      pQ->z[o++] = '?';
      i++;
    }else if( a[i]==0 ){
      pQ->z[o++] = '\\';
      pQ->z[o++] = '0';
      i++;
    }else{
      memcpy(pQ->z + o, z + i, len);
      o += len;
      i += len;
    }
  }
  assert( o < (int)sizeof(pQ->z) );
  pQ->z[o] = 0;
  return pQ->z;
}
