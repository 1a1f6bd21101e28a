/*
** uuid.c -- UUIDs: generation (libuuid), parsing and canonical formatting.
**
** The store keeps every UUID as a 16-byte blob (half the size of its text
** and a shorter index key) and shows it as canonical lowercase text,
** 8-4-4-4-12.  Input is accepted in either case, with the hyphens.
*/
#include "es_internal.h"
#include <uuid/uuid.h>

static const char hexDigits[] = "0123456789abcdef";

/* A new random (version 4) UUID. */
void esUuidGenerate(u8 *aOut16){
  uuid_generate_random(aOut16);
}

static int hexValue(char c){
  if( c>='0' && c<='9' ) return c - '0';
  if( c>='a' && c<='f' ) return c - 'a' + 10;
  if( c>='A' && c<='F' ) return c - 'A' + 10;
  return -1;
}

/*
** Parse the 36-character form.  Returns 0 on success, 1 if z[0..n) is not
** a UUID.  Written by hand because uuid_parse() needs a NUL-terminated
** string and the input here is a slice of a larger JSON text.
*/
int esUuidParse(const char *z, int n, u8 *aOut16){
  int i, k = 0;
  if( n!=ES_UUID_TEXT_LEN ) return 1;
  for(i=0; i<ES_UUID_TEXT_LEN; ){
    int hi, lo;
    if( i==8 || i==13 || i==18 || i==23 ){
      if( z[i]!='-' ) return 1;
      i++;
      continue;
    }
    hi = hexValue(z[i]);
    lo = hexValue(z[i+1]);
    if( hi<0 || lo<0 ) return 1;
    aOut16[k++] = (u8)((hi<<4) | lo);
    i += 2;
  }
  return 0;
}

void esUuidFormat(const u8 *a, char *zOut){
  int i, j = 0;
  for(i=0; i<16; i++){
    if( i==4 || i==6 || i==8 || i==10 ) zOut[j++] = '-';
    zOut[j++] = hexDigits[a[i]>>4];
    zOut[j++] = hexDigits[a[i]&0xf];
  }
}

/*
** A UUID from an SQL value: text in the 36-character form, or a 16-byte
** blob.  Returns 0 on success, 1 if the value is not a UUID, 2 if NULL.
*/
int esUuidFromValue(sqlite3_value *pVal, u8 *aOut16){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL:
      return 2;
    case SQLITE_BLOB:
      if( sqlite3_value_bytes(pVal)!=16 ) return 1;
      memcpy(aOut16, sqlite3_value_blob(pVal), 16);
      return 0;
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(pVal);
      if( z==0 ) return 1;
      return esUuidParse(z, sqlite3_value_bytes(pVal), aOut16);
    }
    default:
      return 1;
  }
}
