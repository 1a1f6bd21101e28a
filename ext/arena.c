/*
** arena.c -- a bump allocator for the strings one es_append call rewrites.
**
** The capacity is fixed when the arena is set up (the size of the inputs,
** an upper bound on everything parsing can write), but nothing is
** allocated until the first string needs rewriting: most events have no
** escapes and no whitespace, and then the arena costs nothing.
*/
#include "es_internal.h"

int esArenaInit(EsArena *p, i64 nByte){
  p->a = 0;
  p->nAlloc = nByte;
  p->nUsed = 0;
  return SQLITE_OK;
}

char *esArenaAlloc(EsArena *p, i64 nByte){
  char *z;
  if( p->a==0 ){
    p->a = sqlite3_malloc64(p->nAlloc>0 ? p->nAlloc : 1);
    if( p->a==0 ) return 0;
  }
  /* The capacity bounds everything parsing writes: running out is a bug. */
  assert( p->nUsed + nByte <= p->nAlloc );
  if( p->nUsed + nByte > p->nAlloc ) return 0;
  z = p->a + p->nUsed;
  p->nUsed += nByte;
  return z;
}

void esArenaFree(EsArena *p){
  sqlite3_free(p->a);
  p->a = 0;
  p->nUsed = 0;
}
