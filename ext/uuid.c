/*
** uuid.c -- UUIDs: generation, parsing and canonical formatting.
**
** The store keeps every UUID as a 16-byte blob (half the size of its text
** and a shorter index key) and shows it as canonical lowercase text,
** 8-4-4-4-12.  Input is accepted in either case, with the hyphens.
**
** Generation.  Version-4 UUIDs need 122 random bits each, and es_append
** makes two per event (event_id and correlation_id).  libuuid's
** uuid_generate_random() costs a getrandom() system call plus a reseed of
** random(3) with getpid()/getuid() on every call: in a profile of one-event
** appends it was a fifth of all instructions.  So random bytes are taken
** from the kernel (getrandom(2)) 4 KiB at a time into a per-thread pool.
** A forked child must never hand out its parent's bytes (the two would
** make the same ids, and idempotency would then drop events as
** duplicates), so a pthread_atfork() handler empties the pool in the
** child.  If getrandom() is not available, libuuid generates instead.
*/
#include "es_internal.h"
#include <uuid/uuid.h>
#include <pthread.h>
#include <sys/random.h>
#include <errno.h>

static const char hexDigits[] = "0123456789abcdef";

#define ES_UUID_POOL 4096

typedef struct UuidPool UuidPool;
struct UuidPool {
  u8 a[ES_UUID_POOL];
  int nLeft;              /* unused bytes at the end of a[] */
};
static __thread UuidPool pool;
static pthread_once_t atforkOnce = PTHREAD_ONCE_INIT;

static void emptyPoolInChild(void){
  pool.nLeft = 0;
}

static void registerAtfork(void){
  pthread_atfork(0, 0, emptyPoolInChild);
}

/* Fill the pool; 0 on success. */
static int refillPool(void){
  int n = 0;
  pthread_once(&atforkOnce, registerAtfork);
  while( n<ES_UUID_POOL ){
    ssize_t got = getrandom(pool.a + n, ES_UUID_POOL - n, 0);
    if( got<0 ){
      if( errno==EINTR ) continue;
      return 1;
    }
    n += (int)got;
  }
  pool.nLeft = ES_UUID_POOL;
  return 0;
}

#ifdef ES_TESTING
/* Test builds: the next generated UUID is this one (es_test_next_uuid). */
static __thread u8 aForcedNext[16];
static __thread int bForcedNext = 0;
void esUuidForceNext(const u8 *a16){
  memcpy(aForcedNext, a16, 16);
  bForcedNext = 1;
}
#endif

/* A new random (version 4) UUID. */
void esUuidGenerate(u8 *aOut16){
#ifdef ES_TESTING
  if( bForcedNext ){
    memcpy(aOut16, aForcedNext, 16);
    bForcedNext = 0;
    return;
  }
#endif
  if( pool.nLeft<16 && refillPool() ){
    uuid_generate_random(aOut16);
    return;
  }
  memcpy(aOut16, pool.a + ES_UUID_POOL - pool.nLeft, 16);
  pool.nLeft -= 16;
  aOut16[6] = (u8)((aOut16[6] & 0x0f) | 0x40);   /* version 4 */
  aOut16[8] = (u8)((aOut16[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
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
  int eType = sqlite3_value_type(pVal);
  const char *z;
  if( eType==SQLITE_NULL ) return 2;
  if( eType==SQLITE_BLOB ){
    if( sqlite3_value_bytes(pVal)!=16 ) return 1;
    memcpy(aOut16, sqlite3_value_blob(pVal), 16);
    return 0;
  }
  if( eType!=SQLITE_TEXT || (z = (const char*)sqlite3_value_text(pVal))==0 ){
    return 1;
  }
  return esUuidParse(z, sqlite3_value_bytes(pVal), aOut16);
}
