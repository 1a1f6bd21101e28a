/*
** main.c -- es-copy: copy an event store between a SQLite file and
** PostgreSQL, in either direction, incrementally, and check the copy.
**
**   es-copy [options] SOURCE TARGET      (es-copy --help says more)
**
** The copy: the target's newest global position H is where it resumes
** (0 for an empty target).  The target must be a prefix of the source: it
** may not hold more events than the source, and its event at H must be
** the source's event at H (else exit 3, nothing written).  Then the
** source's events after H are read in global order and loaded in chunks,
** each in one transaction of the target (so a copy killed at any moment
** leaves whole chunks, and the next run goes on from there).  Then the
** checkpoints (moved forward only) and snapshots.  Last the check:
** es_verify() on the target, and a digest of the copied range read back
** from both sides (digest.c), which must be equal (else exit 4).
*/
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "es_copy.h"

enum {
  EXIT_OK = 0, EXIT_USAGE = 1, EXIT_OPEN = 2, EXIT_DIVERGED = 3,
  EXIT_VERIFY = 4, EXIT_COPY = 5
};

static const char zUsage[] =
"usage: es-copy [options] SOURCE TARGET\n"
"\n"
"Copies an eventstore store from SOURCE to TARGET: a SQLite file to\n"
"PostgreSQL, PostgreSQL to a SQLite file (or file to file, database to\n"
"database).  Each is a SQLite file path, or a PostgreSQL connection string:\n"
"a postgresql:// (or postgres://) URI, or libpq key=value pairs\n"
"('host=db dbname=orders user=app').  A SQLite target is created if it does\n"
"not exist; a PostgreSQL one must have the eventstore twin installed.\n"
"\n"
"Every event keeps its event id, global and stream positions, timestamps,\n"
"type, tenant, data and metadata; checkpoints and snapshots are copied too\n"
"(their positions, versions and states; their own times are the copy's).\n"
"Run again, it copies only what the target lacks, so it can follow a live\n"
"source.  It refuses a target that holds events the source does not.\n"
"\n"
"options:\n"
"  --chunk N        events per target transaction (default 50000)\n"
"  --to POSITION    copy only up to this global position (the target is then\n"
"                   the source as of that event)\n"
"  --pg-schema S    the schema the PostgreSQL twin is in, when it is not on\n"
"                   the connection's search_path\n"
"  --verify-all     digest every event on both sides, not only those copied\n"
"  --no-verify      skip es_verify() and the digest\n"
"  --progress       a progress line even when stderr is not a terminal\n"
"  --quiet          no progress and no summary (errors only)\n"
"  --baseline       benchmark only: COPY the rows into a plain table\n"
"                   es_copy_baseline of a PostgreSQL TARGET, and nothing else\n"
"  --help           this text\n"
"\n"
"exit status:\n"
"  0  copied (or nothing to copy) and checked\n"
"  1  wrong usage\n"
"  2  SOURCE or TARGET cannot be opened, or is not an eventstore store\n"
"  3  TARGET holds events SOURCE does not: nothing was written\n"
"  4  the check failed: es_verify() on TARGET, or the digests differ\n"
"  5  an error while copying: the chunks before it are committed, whole;\n"
"     the next run goes on from there\n";

typedef struct Options Options;
struct Options {
  int nChunk;
  i64 iTo;                  /* --to: the last position to copy; 0: all */
  const char *zSchema;
  int bVerifyAll, bNoVerify, bProgress, bQuiet, bBaseline;
  const char *zSource, *zTarget;
};

void ecSideError(EcSide *s, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  vsnprintf(s->zErr, sizeof(s->zErr), zFmt, ap);
  va_end(ap);
}

static double seconds(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec/1e9;
}

/* A PostgreSQL connection string, or a SQLite path? */
static int isPostgres(const char *z){
  const char *p;
  if( strncmp(z, "postgresql://", 13)==0 || strncmp(z, "postgres://", 11)==0 ) return 1;
  for(p=z; *p && ((*p>='a' && *p<='z') || *p=='_'); p++){}
  return p>z && *p=='=' && strchr(z, '/')==0;
}

static void die(int rc, const char *zFmt, ...){
  va_list ap;
  fputs("es-copy: ", stderr);
  va_start(ap, zFmt);
  vfprintf(stderr, zFmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(rc);
}

static void openSide(EcSide *s, const char *z, const Options *o, int bTarget){
  int rc;
  memset(s, 0, sizeof(*s));
  if( isPostgres(z) ){
    s->zName = bTarget ? "target (PostgreSQL)" : "source (PostgreSQL)";
    rc = ecPgOpen(s, z, o->zSchema, bTarget);
  }else{
    s->zName = bTarget ? "target (SQLite)" : "source (SQLite)";
    if( !bTarget && access(z, F_OK)!=0 ) die(EXIT_OPEN, "source %s: no such file", z);
    rc = ecSqliteOpen(s, z, bTarget);
  }
  if( rc ) die(EXIT_OPEN, "%s: %s", s->zName, s->zErr);
}

static void sideFail(EcSide *s, int rc){
  die(rc, "%s: %s", s->zName, s->zErr);
}

/* ------------------------------------------------------------ progress */

static void group(char *zOut, size_t n, i64 v){
  char z[32];
  int len, i, j = 0;
  snprintf(z, sizeof(z), "%lld", v);
  len = (int)strlen(z);
  for(i=0; i<len && j+2<(int)n; i++){
    if( i>0 && (len-i)%3==0 ) zOut[j++] = ',';
    zOut[j++] = z[i];
  }
  zOut[j] = 0;
}

static void progress(i64 nDone, i64 nAll, double t0, int bFinal){
  static double tLast = 0;
  double t = seconds(), rate = (t - t0) > 0 ? nDone/(t - t0) : 0;
  char zDone[32], zAll[32], zRate[32], zBar[41];
  int nBar = nAll ? (int)(40*nDone/nAll) : 40, i;
  if( !bFinal && t - tLast < 0.1 ) return;
  tLast = t;
  for(i=0; i<40; i++) zBar[i] = i<nBar ? '#' : ' ';
  zBar[40] = 0;
  group(zDone, sizeof(zDone), nDone);
  group(zAll, sizeof(zAll), nAll);
  group(zRate, sizeof(zRate), (i64)rate);
  if( rate>0 && nDone<nAll ){
    i64 eta = (i64)((nAll - nDone)/rate);
    fprintf(stderr, "\r[%s] %5.1f%% %s/%s events  %s ev/s  ETA %lld:%02lld ",
            zBar, nAll ? 100.0*nDone/nAll : 100.0, zDone, zAll, zRate, eta/60, eta%60);
  }else{
    fprintf(stderr, "\r[%s] %5.1f%% %s/%s events  %s ev/s             ",
            zBar, nAll ? 100.0*nDone/nAll : 100.0, zDone, zAll, zRate);
  }
  if( bFinal ) fputc('\n', stderr);
  fflush(stderr);
}

/* -------------------------------------------------------------- digest */

static void digestRange(EcSide *s, i64 iAfter, i64 iLast, int nChunk, char *zHex){
  EcDigest d;
  EcChunk c;
  i64 pos = iAfter;
  memset(&d, 0, sizeof(d));
  memset(&c, 0, sizeof(c));
  ecDigestInit(&d);
  while( pos<iLast ){
    int i;
    ecChunkReset(&c);
    if( s->pM->xRead(s, pos, iLast, nChunk, &c) ) sideFail(s, EXIT_VERIFY);
    if( c.nRow==0 ) break;
    for(i=0; i<c.nRow; i++){
      if( ecDigestRow(&d, &c.aRow[i]) ){
        die(EXIT_VERIFY, "%s: the event at global position %lld has data or"
            " metadata that is not valid JSON", s->zName, c.aRow[i].iGlobal);
      }
    }
    pos = c.aRow[c.nRow-1].iGlobal;
  }
  ecChunkFree(&c);
  ecDigestFinish(&d, zHex);
}

/* The source's digest on a thread of its own while the target's is
** computed here: the two sides are two connections, and reading each back
** is most of the check's time. */
typedef struct DigestJob DigestJob;
struct DigestJob {
  EcSide *s;
  i64 iAfter, iLast;
  int nChunk;
  char zHex[65];
};

static void *digestThread(void *pArg){
  DigestJob *j = pArg;
  digestRange(j->s, j->iAfter, j->iLast, j->nChunk, j->zHex);
  return 0;
}

static void digestBoth(EcSide *src, EcSide *dst, i64 iAfter, i64 iLast,
                       int nChunk, char *zHexA, char *zHexB){
  DigestJob j;
  pthread_t t;
  memset(&j, 0, sizeof(j));
  j.s = src;
  j.iAfter = iAfter;
  j.iLast = iLast;
  j.nChunk = nChunk;
  if( pthread_create(&t, 0, digestThread, &j)!=0 ){
    digestThread(&j);                     /* no thread: one after the other */
    digestRange(dst, iAfter, iLast, nChunk, zHexB);
  }else{
    digestRange(dst, iAfter, iLast, nChunk, zHexB);
    pthread_join(t, 0);
  }
  memcpy(zHexA, j.zHex, sizeof(j.zHex));
}

/* ---------------------------------------------------------------- main */

static void parseArgs(int argc, char **argv, Options *o){
  int i, nPos = 0;
  memset(o, 0, sizeof(*o));
  o->nChunk = 50000;
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    if( strcmp(z, "--help")==0 || strcmp(z, "-h")==0 ){
      fputs(zUsage, stdout);
      exit(EXIT_OK);
    }else if( strcmp(z, "--chunk")==0 && i+1<argc ){
      char *zEnd;
      long n = strtol(argv[++i], &zEnd, 10);
      if( *zEnd || n<1 || n>1000000 ){
        die(EXIT_USAGE, "--chunk must be a number of events from 1 to 1000000");
      }
      o->nChunk = (int)n;
    }else if( strcmp(z, "--to")==0 && i+1<argc ){
      char *zEnd;
      long long n = strtoll(argv[++i], &zEnd, 10);
      if( *zEnd || n<1 ) die(EXIT_USAGE, "--to must be a global position, 1 or more");
      o->iTo = n;
    }else if( strcmp(z, "--pg-schema")==0 && i+1<argc ){
      o->zSchema = argv[++i];
    }else if( strcmp(z, "--verify-all")==0 ){
      o->bVerifyAll = 1;
    }else if( strcmp(z, "--no-verify")==0 ){
      o->bNoVerify = 1;
    }else if( strcmp(z, "--progress")==0 ){
      o->bProgress = 1;
    }else if( strcmp(z, "--quiet")==0 ){
      o->bQuiet = 1;
    }else if( strcmp(z, "--baseline")==0 ){
      o->bBaseline = 1;
    }else if( z[0]=='-' && z[1]=='-' ){
      fprintf(stderr, "es-copy: unknown option %s\n\n%s", z, zUsage);
      exit(EXIT_USAGE);
    }else if( nPos==0 ){
      o->zSource = z; nPos++;
    }else if( nPos==1 ){
      o->zTarget = z; nPos++;
    }else{
      die(EXIT_USAGE, "one SOURCE and one TARGET (see es-copy --help)");
    }
  }
  if( nPos!=2 ){
    fprintf(stderr, "es-copy: give a SOURCE and a TARGET\n\n%s", zUsage);
    exit(EXIT_USAGE);
  }
  if( strcmp(o->zSource, o->zTarget)==0 ) die(EXIT_USAGE, "SOURCE and TARGET are the same");
  if( o->bBaseline && !isPostgres(o->zTarget) ){
    die(EXIT_USAGE, "--baseline needs a PostgreSQL TARGET");
  }
}

/* The target must be a prefix of the source. */
static void checkPrefix(EcSide *src, EcSide *dst, i64 hSrc, i64 hDst){
  char zA[40], zB[40];
  if( hDst>hSrc ){
    die(EXIT_DIVERGED, "the target holds %lld events, the source only %lld:"
        " it is not a copy of this source (nothing was written)", hDst, hSrc);
  }
  if( hDst==0 ) return;
  if( src->pM->xEventIdAt(src, hDst, zA) ) sideFail(src, EXIT_COPY);
  if( dst->pM->xEventIdAt(dst, hDst, zB) ) sideFail(dst, EXIT_COPY);
  if( strcmp(zA, zB)!=0 ){
    die(EXIT_DIVERGED, "at global position %lld the target holds event %s and"
        " the source %s: the target is not a copy of this source (nothing was"
        " written)", hDst, zB[0] ? zB : "(none)", zA[0] ? zA : "(none)");
  }
  if( src->pM->xEventIdAt(src, 1, zA) || dst->pM->xEventIdAt(dst, 1, zB) ){
    sideFail(src->zErr[0] ? src : dst, EXIT_COPY);
  }
  if( strcmp(zA, zB)!=0 ){
    die(EXIT_DIVERGED, "at global position 1 the target holds event %s and"
        " the source %s: the target is not a copy of this source (nothing was"
        " written)", zB, zA);
  }
}

static int copyExtras(EcSide *src, EcSide *dst, int *pnCk, int *pnSnap){
  EcExtra *a;
  int n, i;
  if( src->pM->xCheckpoints(src, &a, &n) ) sideFail(src, EXIT_COPY);
  for(i=0; i<n; i++){
    if( dst->pM->xPutCheckpoint(dst, &a[i]) ) sideFail(dst, EXIT_COPY);
  }
  *pnCk = n;
  ecExtraFree(a, n);
  if( src->pM->xSnapshots(src, &a, &n) ) sideFail(src, EXIT_COPY);
  for(i=0; i<n; i++){
    if( dst->pM->xPutSnapshot(dst, &a[i]) ) sideFail(dst, EXIT_COPY);
  }
  *pnSnap = n;
  ecExtraFree(a, n);
  return 0;
}

int main(int argc, char **argv){
  Options o;
  EcSide src, dst;
  EcChunk c;
  i64 hSrc, hDst, pos, nCopied = 0;
  double t0, tCopy;
  int bShow, nCk = 0, nSnap = 0;
  char zHexA[65] = "", zHexB[65] = "", zVerify[512] = "";

  parseArgs(argc, argv, &o);
  signal(SIGPIPE, SIG_IGN);
  openSide(&src, o.zSource, &o, 0);
  openSide(&dst, o.zTarget, &o, 1);
  bShow = !o.bQuiet && (o.bProgress || isatty(2));

  if( src.pM->xHead(&src, &hSrc) ) sideFail(&src, EXIT_OPEN);
  if( o.bBaseline ){
    hDst = 0;
  }else{
    if( dst.pM->xHead(&dst, &hDst) ) sideFail(&dst, EXIT_OPEN);
    checkPrefix(&src, &dst, hSrc, hDst);
  }
  if( o.iTo>0 && o.iTo<hSrc ) hSrc = o.iTo;
  if( hDst>hSrc ) hSrc = hDst;          /* --to below what the target has */

  memset(&c, 0, sizeof(c));
  t0 = seconds();
  pos = hDst;
  while( pos<hSrc ){
    ecChunkReset(&c);
    if( src.pM->xRead(&src, pos, hSrc, o.nChunk, &c) ) sideFail(&src, EXIT_COPY);
    if( c.nRow==0 ) break;
    if( c.aRow[0].iGlobal!=pos+1 ){
      die(EXIT_COPY, "source: after global position %lld the next event is at"
          " %lld: the source has a gap (es_verify() on it says more)", pos,
          c.aRow[0].iGlobal);
    }
    if( o.bBaseline ? ecPgBaseline(&dst, &c) : dst.pM->xLoad(&dst, &c) ){
      if( bShow ) fputc('\n', stderr);
      sideFail(&dst, EXIT_COPY);
    }
    pos = c.aRow[c.nRow-1].iGlobal;
    nCopied += c.nRow;
    if( bShow ) progress(pos - hDst, hSrc - hDst, t0, 0);
  }
  ecChunkFree(&c);
  tCopy = seconds() - t0;
  if( bShow ) progress(pos - hDst, hSrc - hDst, t0, 1);
  if( o.bBaseline ){
    if( !o.bQuiet ){
      printf("es-copy: baseline: COPY of %lld rows into es_copy_baseline in %.2f s"
             " (%.0f events/s)\n", nCopied, tCopy, tCopy>0 ? nCopied/tCopy : 0.0);
    }
    src.pM->xClose(&src);
    dst.pM->xClose(&dst);
    return EXIT_OK;
  }

  copyExtras(&src, &dst, &nCk, &nSnap);

  if( !o.bNoVerify ){
    int bOk = 0;
    i64 iFrom = o.bVerifyAll ? 0 : hDst;
    if( dst.pM->xVerify(&dst, &bOk, zVerify, sizeof(zVerify)) ) sideFail(&dst, EXIT_VERIFY);
    if( !bOk ) die(EXIT_VERIFY, "target: es_verify() failed: %s", zVerify);
    if( pos>iFrom ){
      digestBoth(&src, &dst, iFrom, pos, o.nChunk, zHexA, zHexB);
      if( strcmp(zHexA, zHexB)!=0 ){
        die(EXIT_VERIFY, "the digests of global positions %lld..%lld differ:"
            " source %.16s, target %.16s", iFrom+1, pos, zHexA, zHexB);
      }
    }
  }

  if( !o.bQuiet ){
    if( nCopied==0 ){
      printf("es-copy: nothing to copy: the target has all %lld events", hSrc);
    }else{
      printf("es-copy: copied %lld events (global positions %lld..%lld) in %.2f s,"
             " %.0f events/s", nCopied, hDst+1, pos, tCopy,
             tCopy>0 ? nCopied/tCopy : 0.0);
    }
    printf("; %d checkpoints, %d snapshots", nCk, nSnap);
    if( !o.bNoVerify ){
      printf("; es_verify ok");
      if( zHexA[0] ){
        printf("; digest of %lld..%lld %.16s on both sides",
               (o.bVerifyAll ? 0 : hDst)+1, pos, zHexA);
      }
    }
    printf("\n");
  }
  src.pM->xClose(&src);
  dst.pM->xClose(&dst);
  return EXIT_OK;
}
