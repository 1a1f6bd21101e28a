/*
** chunk.c -- a chunk of rows and the arena their text lives in
** (es_copy.h).  Out of memory is fatal: es-copy has nothing to save then,
** and every chunk it has loaded is committed whole.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "es_copy.h"

#define BLOCK (1 << 20)

static void *mustAlloc(void *p){
  if( p==0 ){
    fputs("es-copy: out of memory\n", stderr);
    exit(5);
  }
  return p;
}

/* A copy of n bytes of z, NUL-terminated, that lives as long as the chunk
** is not reset. */
const char *ecChunkText(EcChunk *c, const char *z, size_t n){
  char *zOut;
  if( n+1 > c->nFree ){
    size_t nBlock = n+1 > BLOCK ? n+1 : BLOCK;
    c->azBlock = mustAlloc(realloc(c->azBlock, sizeof(char*)*(c->nBlock+1)));
    c->azBlock[c->nBlock++] = mustAlloc(malloc(nBlock));
    c->zNext = c->azBlock[c->nBlock-1];
    c->nFree = nBlock;
  }
  zOut = c->zNext;
  memcpy(zOut, z, n);
  zOut[n] = 0;
  c->zNext += n+1;
  c->nFree -= n+1;
  return zOut;
}

EcRow *ecChunkAdd(EcChunk *c){
  if( c->nRow==c->nAlloc ){
    c->nAlloc = c->nAlloc ? c->nAlloc*2 : 1024;
    c->aRow = mustAlloc(realloc(c->aRow, sizeof(EcRow)*c->nAlloc));
  }
  memset(&c->aRow[c->nRow], 0, sizeof(EcRow));
  return &c->aRow[c->nRow++];
}

/* Empty the chunk (its row array is kept for the next). */
void ecChunkReset(EcChunk *c){
  int i;
  for(i=0; i<c->nBlock; i++) free(c->azBlock[i]);
  c->nBlock = 0;
  c->nFree = 0;
  c->zNext = 0;
  c->nRow = 0;
}

void ecChunkFree(EcChunk *c){
  ecChunkReset(c);
  free(c->azBlock);
  free(c->aRow);
  memset(c, 0, sizeof(*c));
}

void ecExtraFree(EcExtra *a, int n){
  int i;
  for(i=0; i<n; i++){
    free(a[i].zName);
    free(a[i].zType);
    free(a[i].zState);
  }
  free(a);
}
