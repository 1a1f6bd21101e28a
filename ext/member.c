/*
** member.c -- es_member(stream_id, group_size): which of group_size
** workers a stream's events go to (API.md, Consumers).
**
** THE HASH, which the PostgreSQL twin computes alike (sql/postgres/):
**
**   es_member(s, n) = fnv1a32(s) mod n
**
** where fnv1a32 is 32-bit FNV-1a over the UTF-8 bytes of the stream id s
** ('aggregate_id:aggregate_type'): h = 2166136261; for each byte b,
** h = (h XOR b) * 16777619 mod 2^32.  It depends only on the bytes, never
** on the platform's byte order, word size or locale.  Each stream's events
** go to one worker, so each worker sees a stream's events in order.
*/
#include "es_internal.h"

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME  16777619u
#define MAX_GROUP    2147483647     /* a PostgreSQL integer */

sqlite3_uint64 esMemberHash(const char *z, int n){
  unsigned int h = FNV32_OFFSET;   /* at least 32 bits; kept to 32 below */
  int i;
  for(i=0; i<n; i++){
    h ^= (u8)z[i];
    h = (h * FNV32_PRIME) & 0xffffffffu;
  }
  return h;
}

void esMemberFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  EsText id, type;
  i64 nGroup;
  (void)argc;
  if( esArgsStreamId(ctx, argv[0], "es_member", &id, &type)
   || esArgsInteger(ctx, argv[1], "es_member", "group_size", 1, &nGroup) ){
    return;
  }
  if( nGroup>MAX_GROUP ){
    esResultError(ctx, SQLITE_ERROR, "es_member: group_size %lld is out of"
                  " range (1 to %d)", nGroup, MAX_GROUP);
    return;
  }
  /* id.z is the start of the whole stream id, whose length is the sum. */
  sqlite3_result_int64(ctx,
      (i64)(esMemberHash(id.z, id.n + 1 + type.n) % (sqlite3_uint64)nGroup));
}
