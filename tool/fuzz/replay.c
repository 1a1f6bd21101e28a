/*
** replay.c -- runs a libFuzzer target without libFuzzer.
**
** Linked with one tool/fuzz/fuzz_*.c by an ordinary compiler, it feeds the
** target the empty input and then every file named on the command line
** (a directory stands for the files in it), once each, in order.  The
** suite (test/fuzz_replay.test) replays the seed corpora this way, so a
** change that breaks a fuzzer, or an input it once found, fails
** `make test` and not only the slower `make fuzz`.  A target reports a
** bug by aborting; this program exits 0 after printing how many inputs it
** replayed.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *aData, size_t nData);

/* Feed the contents of file zPath to the target.  Returns 0, or 1 if the
** file cannot be read. */
static int replayFile(const char *zPath){
  FILE *f = fopen(zPath, "rb");
  uint8_t *a = 0;
  size_t n = 0, nAlloc = 0, got;
  if( f==0 ){ perror(zPath); return 1; }
  do{
    if( n==nAlloc ){
      nAlloc = nAlloc ? nAlloc*2 : 4096;
      a = realloc(a, nAlloc);
      if( a==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    }
    got = fread(a+n, 1, nAlloc-n, f);
    n += got;
  }while( got>0 );
  fclose(f);
  LLVMFuzzerTestOneInput(a, n);
  free(a);
  return 0;
}

static int compareNames(const void *pA, const void *pB){
  return strcmp(*(char*const*)pA, *(char*const*)pB);
}

/* Replay every regular file in directory zDir, in name order.  Adds the
** number replayed to *pnDone; returns the number that failed to read. */
static int replayDir(const char *zDir, int *pnDone){
  DIR *d = opendir(zDir);
  struct dirent *e;
  char **az = 0;
  int n = 0, nAlloc = 0, i, nErr = 0;
  if( d==0 ){ perror(zDir); return 1; }
  while( (e = readdir(d))!=0 ){
    if( e->d_name[0]=='.' ) continue;
    if( n==nAlloc ){
      nAlloc = nAlloc ? nAlloc*2 : 64;
      az = realloc(az, nAlloc*sizeof(*az));
      if( az==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    }
    az[n] = malloc(strlen(zDir) + strlen(e->d_name) + 2);
    if( az[n]==0 ){ fprintf(stderr, "out of memory\n"); exit(2); }
    sprintf(az[n], "%s/%s", zDir, e->d_name);
    n++;
  }
  closedir(d);
  qsort(az, n, sizeof(*az), compareNames);
  for(i=0; i<n; i++){
    nErr += replayFile(az[i]);
    free(az[i]);
  }
  free(az);
  *pnDone += n;
  return nErr;
}

int main(int argc, char **argv){
  int i, nDone = 1, nErr = 0;
  LLVMFuzzerTestOneInput((const uint8_t*)"", 0);
  for(i=1; i<argc; i++){
    struct stat st;
    if( stat(argv[i], &st)==0 && S_ISDIR(st.st_mode) ){
      nErr += replayDir(argv[i], &nDone);
    }else{
      nErr += replayFile(argv[i]);
      nDone++;
    }
  }
  printf("replayed %d inputs\n", nDone - nErr);
  return nErr ? 1 : 0;
}
