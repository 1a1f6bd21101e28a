/*
** torture.c -- many processes appending to one database file at once,
** optionally killed with SIGKILL at random moments; afterwards, proof that
** nothing was lost, duplicated, reordered or half-written.
**
**   tool/torture [--procs 4] [--readers 1] [--seconds 10]
**                [--journal wal|delete] [--sync normal|full] [--kill]
**                [--db PATH] [--extension PATH] [--seed N] [--self-test]
**
** Writers pick a stream (a few hot ones, many cold ones), a batch of 1-20
** events with fresh event ids, and append it at the version they just
** read.  About one batch in ten is a replay of one of their earlier
** acknowledged batches (same ids, same expected version: it must return
** the original result), and one in ten uses an expected version they know
** is stale (it must be refused).  About one in three runs inside the
** writer's own BEGIN IMMEDIATE ... COMMIT (es_append then appends inside
** the caller's transaction, without a savepoint) and is acknowledged only
** once COMMIT succeeded.  Every writer logs, with write(2) so
** that a SIGKILL loses nothing already logged:
**     T <batch> <stream> <expected> <replay-of> <n> <id>...   before a call
**     A <batch> <new_version> <global_position>               acknowledged
**     R <batch>                                               conflict
**     E <batch> <message>                                     other error
** Readers scan event_all and check that every scan is in global order and
** that every stream in it is complete (1..n, no gaps).
**
** With --kill, the parent kills a random writer every 20-300 ms, checks
** PRAGMA integrity_check and es_verify() on the live file, and starts the
** writer again.
**
** At the end the logs are loaded into the database (TEMP tables) and
** checked against es_events:
**   - every acknowledged event is stored, once, in its stream, at the
**     positions and global position the acknowledgement named;
**   - no event of a refused append is stored;
**   - every batch is stored whole or not at all (a batch whose writer was
**     killed before it heard the answer may be either);
**   - every stored event belongs to some batch that was tried;
**   - a replay returned its original's result; a stale append was refused;
**   - PRAGMA integrity_check and es_verify() are ok.
** Prints a summary and exits non-zero if any check fails.  --self-test
** then removes one acknowledged event and checks that the checks notice.
*/
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "tool_util.h"

#define MAX_PROCS 64
#define N_HOT 5
#define N_COLD 1000

static const char *zExtension = "./eventstore";
static const char *zDb = "build/torture/torture.db";
static const char *zLogDir = "build/torture";
static int nProc = 4, nReader = 1, nSeconds = 10, bKill = 0, bSelfTest = 0;
static const char *zJournal = "wal", *zSync = "normal";
static unsigned seed = 1;


static sqlite3 *openDb(void){
  sqlite3 *db;
  char *zErr = 0, zSql[100];
  if( sqlite3_open(zDb, &db)!=SQLITE_OK ) fatal("open %s: %s", zDb, sqlite3_errmsg(db));
  sqlite3_busy_timeout(db, 60000);
  sqlite3_enable_load_extension(db, 1);
  if( sqlite3_load_extension(db, zExtension, 0, &zErr)!=SQLITE_OK ){
    fatal("load %s: %s", zExtension, zErr);
  }
  snprintf(zSql, sizeof(zSql), "PRAGMA synchronous=%s", zSync);
  sqlite3_exec(db, zSql, 0, 0, 0);
  return db;
}

/* ------------------------------------------------------------- writers */

static int logFd = -1;

static void logLine(const char *zFmt, ...){
  char z[8192];
  int n;
  va_list ap;
  va_start(ap, zFmt);
  n = vsnprintf(z, sizeof(z), zFmt, ap);
  va_end(ap);
  if( n>=(int)sizeof(z) ) n = sizeof(z)-1;
  if( write(logFd, z, n)!=n ) fatal("log write failed");
}

static void randomUuid(char *z){
  unsigned char a[16];
  static const char hex[] = "0123456789abcdef";
  int i, j = 0;
  for(i=0; i<16; i++) a[i] = (unsigned char)rnd(256);
  a[6] = (a[6]&0x0f)|0x40;
  a[8] = (a[8]&0x3f)|0x80;
  for(i=0; i<16; i++){
    if( i==4 || i==6 || i==8 || i==10 ) z[j++] = '-';
    z[j++] = hex[a[i]>>4];
    z[j++] = hex[a[i]&15];
  }
  z[j] = 0;
}

typedef struct Acked Acked;
struct Acked {
  long long batch;
  char zStream[16];
  int expected;
  char *zJson;            /* the events, exactly as sent */
  char *zIds;             /* space-separated ids, for the log */
  int n;
};

static long long readVersion(sqlite3 *db, const char *zStream){
  sqlite3_stmt *p;
  long long v = 0;
  sqlite3_prepare_v2(db, "SELECT es_version(?1,'T')", -1, &p, 0);
  sqlite3_bind_text(p, 1, zStream, -1, SQLITE_STATIC);
  if( sqlite3_step(p)==SQLITE_ROW ) v = sqlite3_column_int64(p, 0);
  sqlite3_finalize(p);
  return v;
}

static void writerMain(int iWriter, int iGen, double tEnd){
  sqlite3 *db;
  sqlite3_stmt *pAppend;
  char zPath[512];
  Acked aAcked[64];
  int nAcked = 0;
  char *zStashedResult = 0;   /* an answer kept until its COMMIT */
  long long seq = 0;
  memset(aAcked, 0, sizeof(aAcked));
  rngState ^= ((unsigned long long)seed<<32) ^ ((unsigned long long)iWriter<<16)
            ^ (unsigned long long)iGen ^ (unsigned long long)getpid();
  snprintf(zPath, sizeof(zPath), "%s/writer-%d-%d.log", zLogDir, iWriter, iGen);
  logFd = open(zPath, O_WRONLY|O_CREAT|O_TRUNC|O_APPEND, 0644);
  if( logFd<0 ) fatal("cannot open %s", zPath);
  db = openDb();
  if( sqlite3_prepare_v2(db, "SELECT es_append(?1,'T',?2,?3)", -1, &pAppend, 0) ){
    fatal("prepare: %s", sqlite3_errmsg(db));
  }
  while( now()<tEnd ){
    long long batch = (long long)iWriter*1000000000LL + (long long)iGen*10000000LL + ++seq;
    char zStream[16];
    char *zJson, *zIds;
    int n, i, expected, kind = rnd(10), rc, bStale = 0, bTxn;
    long long replayOf = 0;
    sqlite3_str *pJson, *pIds;
    Acked *pOrig = 0;

    if( kind==0 && nAcked>0 ){
      /* A replay: an earlier acknowledged batch, exactly as sent. */
      pOrig = &aAcked[rnd(nAcked)];
      strcpy(zStream, pOrig->zStream);
      expected = pOrig->expected;
      n = pOrig->n;
      zJson = sqlite3_mprintf("%s", pOrig->zJson);
      zIds = sqlite3_mprintf("%s", pOrig->zIds);
      replayOf = pOrig->batch;
    }else{
      if( rnd(5)==0 ) snprintf(zStream, sizeof(zStream), "hot%u", rnd(N_HOT));
      else snprintf(zStream, sizeof(zStream), "cold%u", rnd(N_COLD));
      expected = (int)readVersion(db, zStream);
      if( kind==1 && expected>0 ){
        expected = (int)rnd((unsigned)expected);   /* known stale: < actual */
        bStale = 1;
      }
      n = 1 + rnd(20);
      pJson = sqlite3_str_new(0);
      pIds = sqlite3_str_new(0);
      sqlite3_str_appendchar(pJson, 1, '[');
      for(i=0; i<n; i++){
        char zId[40];
        randomUuid(zId);
        sqlite3_str_appendf(pJson, "%s{\"event_id\":\"%s\",\"event_type\":\"E%d\","
            "\"data\":{\"w\":%d,\"b\":%lld,\"i\":%d}}", i ? "," : "", zId,
            rnd(4), iWriter, batch, i);
        sqlite3_str_appendf(pIds, "%s%s", i ? " " : "", zId);
      }
      sqlite3_str_appendchar(pJson, 1, ']');
      zJson = sqlite3_str_finish(pJson);
      zIds = sqlite3_str_finish(pIds);
    }
    logLine("T %lld %s %d %lld %d %s %d\n", batch, zStream, expected, replayOf, n,
            zIds, bStale);
    sqlite3_bind_text(pAppend, 1, zStream, -1, SQLITE_STATIC);
    sqlite3_bind_int(pAppend, 2, expected);
    sqlite3_bind_text(pAppend, 3, zJson, -1, SQLITE_STATIC);
    bTxn = rnd(3)==0;
    rc = bTxn ? sqlite3_exec(db, "BEGIN IMMEDIATE", 0, 0, 0) : SQLITE_OK;
    if( rc==SQLITE_OK ) rc = sqlite3_step(pAppend);
    if( bTxn && rc==SQLITE_ROW ){
      /* Acknowledged only once committed: keep the answer, then COMMIT. */
      char *zRes = sqlite3_mprintf("%s", sqlite3_column_text(pAppend, 0));
      sqlite3_reset(pAppend);
      if( sqlite3_exec(db, "COMMIT", 0, 0, 0)!=SQLITE_OK ){
        logLine("E %lld commit: %s\n", batch, sqlite3_errmsg(db));
        sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
        rc = SQLITE_DONE;      /* logged */
      }
      sqlite3_free(zStashedResult);
      zStashedResult = zRes;
    }
    if( rc==SQLITE_ROW ){
      const char *zRes = bTxn ? zStashedResult
                              : (const char*)sqlite3_column_text(pAppend, 0);
      long long v = 0, g = 0;
      const char *z1 = strstr(zRes, "\"new_version\":");
      const char *z2 = strstr(zRes, "\"global_position\":");
      if( z1 ) v = atoll(z1+14);
      if( z2 ) g = atoll(z2+18);
      logLine("A %lld %lld %lld\n", batch, v, g);
      if( !pOrig && nAcked<64 ){
        Acked *pA = &aAcked[nAcked++];
        pA->batch = batch;
        strcpy(pA->zStream, zStream);
        pA->expected = expected;
        pA->zJson = sqlite3_mprintf("%s", zJson);
        pA->zIds = sqlite3_mprintf("%s", zIds);
        pA->n = n;
      }
    }else if( rc!=SQLITE_DONE ){
      if( strstr(sqlite3_errmsg(db), "version conflict") ){
        logLine("R %lld\n", batch);
      }else{
        logLine("E %lld %s\n", batch, sqlite3_errmsg(db));
      }
    }
    sqlite3_reset(pAppend);
    if( bTxn && !sqlite3_get_autocommit(db) ){
      sqlite3_exec(db, "ROLLBACK", 0, 0, 0);    /* a refused append */
    }
    sqlite3_free(zJson);
    sqlite3_free(zIds);
  }
  sqlite3_finalize(pAppend);
  sqlite3_free(zStashedResult);
  sqlite3_close(db);
  close(logFd);
}

/* ------------------------------------------------------------- readers */

/*
** Scan event_all: global order, and every stream in the scan complete.
** Exits 1 if a scan was wrong.
*/
static void readerMain(int iReader, double tEnd){
  sqlite3 *db = openDb();
  sqlite3_stmt *p;
  int aLast[N_HOT + N_COLD];
  long long nScan = 0, nBad = 0;
  (void)iReader;
  sqlite3_prepare_v2(db, "SELECT global_position, aggregate_id, stream_position"
                         " FROM event_all ORDER BY global_position", -1, &p, 0);
  while( now()<tEnd ){
    long long prev = 0;
    int rc;
    memset(aLast, 0, sizeof(aLast));
    while( (rc = sqlite3_step(p))==SQLITE_ROW ){
      long long g = sqlite3_column_int64(p, 0);
      const char *zId = (const char*)sqlite3_column_text(p, 1);
      int pos = sqlite3_column_int(p, 2);
      int k = zId[0]=='h' ? atoi(zId+3) : N_HOT + atoi(zId+4);
      if( g<=prev || pos!=aLast[k]+1 ){
        if( nBad++<5 ) fprintf(stderr, "reader: bad row gp %lld %s pos %d after %d\n",
                               g, zId, pos, aLast[k]);
      }
      aLast[k] = pos;
      prev = g;
    }
    if( rc!=SQLITE_DONE ){
      if( nBad++<5 ) fprintf(stderr, "reader: %s\n", sqlite3_errmsg(db));
    }
    sqlite3_reset(p);
    nScan++;
    usleep(5000);
  }
  sqlite3_finalize(p);
  sqlite3_close(db);
  fprintf(stderr, "reader: %lld scans, %lld bad\n", nScan, nBad);
  exit(nBad ? 1 : 0);
}

/* --------------------------------------------------------------- checks */

static int nFail = 0;

static void fail(const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  fprintf(stdout, "FAIL: ");
  vfprintf(stdout, zFmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  nFail++;
}

static long long queryInt(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p;
  long long v = -1;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    fail("%s: %s", zSql, sqlite3_errmsg(db));
    return -1;
  }
  if( sqlite3_step(p)==SQLITE_ROW ) v = sqlite3_column_int64(p, 0);
  sqlite3_finalize(p);
  return v;
}

static char *queryText(sqlite3 *db, const char *zSql){
  sqlite3_stmt *p;
  char *z = 0;
  if( sqlite3_prepare_v2(db, zSql, -1, &p, 0)!=SQLITE_OK ){
    return sqlite3_mprintf("error: %s", sqlite3_errmsg(db));
  }
  if( sqlite3_step(p)==SQLITE_ROW ){
    z = sqlite3_mprintf("%s", sqlite3_column_text(p, 0));
  }else{
    z = sqlite3_mprintf("error: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  return z;
}

/* integrity_check and es_verify on the file as it is now. */
static void checkStore(const char *zWhen){
  sqlite3 *db = openDb();
  char *zI = queryText(db, "PRAGMA integrity_check");
  char *zV = queryText(db, "SELECT es_verify()");
  if( strcmp(zI, "ok")!=0 ) fail("%s: integrity_check: %s", zWhen, zI);
  if( strncmp(zV, "{\"ok\":true", 10)!=0 ) fail("%s: es_verify: %s", zWhen, zV);
  sqlite3_free(zI);
  sqlite3_free(zV);
  sqlite3_close(db);
}

/* Load every writer log into TEMP tables. */
static void loadLogs(sqlite3 *db, int nGen[]){
  sqlite3_stmt *pTry, *pId, *pAck, *pRej, *pErr;
  int w, g;
  sqlite3_exec(db,
    "CREATE TEMP TABLE tries(batch INTEGER PRIMARY KEY, stream, expected,"
    " replay_of, n, stale);"
    "CREATE TEMP TABLE try_ids(batch INT, seq INT, id TEXT);"
    "CREATE TEMP TABLE acks(batch INTEGER PRIMARY KEY, new_version, gp);"
    "CREATE TEMP TABLE rejects(batch INTEGER PRIMARY KEY);"
    "CREATE TEMP TABLE errors(batch, msg);"
    "BEGIN;", 0, 0, 0);
  sqlite3_prepare_v2(db, "INSERT INTO tries VALUES(?,?,?,?,?,?)", -1, &pTry, 0);
  sqlite3_prepare_v2(db, "INSERT INTO try_ids VALUES(?,?,?)", -1, &pId, 0);
  sqlite3_prepare_v2(db, "INSERT INTO acks VALUES(?,?,?)", -1, &pAck, 0);
  sqlite3_prepare_v2(db, "INSERT INTO rejects VALUES(?)", -1, &pRej, 0);
  sqlite3_prepare_v2(db, "INSERT INTO errors VALUES(?,?)", -1, &pErr, 0);
  for(w=0; w<nProc; w++){
    for(g=0; g<=nGen[w]; g++){
      char zPath[512], zLine[8192];
      FILE *f;
      snprintf(zPath, sizeof(zPath), "%s/writer-%d-%d.log", zLogDir, w, g);
      f = fopen(zPath, "r");
      if( !f ) continue;
      while( fgets(zLine, sizeof(zLine), f) ){
        char *z = zLine, *zTok, *zSave = 0;
        long long batch;
        if( zLine[0]==0 || zLine[strlen(zLine)-1]!='\n' ) break;  /* torn */
        zLine[strlen(zLine)-1] = 0;
        zTok = strtok_r(z, " ", &zSave);
        batch = atoll(strtok_r(0, " ", &zSave));
        if( zTok[0]=='T' ){
          char *zStream = strtok_r(0, " ", &zSave);
          int expected = atoi(strtok_r(0, " ", &zSave));
          long long replayOf = atoll(strtok_r(0, " ", &zSave));
          int n = atoi(strtok_r(0, " ", &zSave)), i;
          sqlite3_bind_int64(pTry, 1, batch);
          sqlite3_bind_text(pTry, 2, zStream, -1, SQLITE_TRANSIENT);
          sqlite3_bind_int(pTry, 3, expected);
          sqlite3_bind_int64(pTry, 4, replayOf);
          sqlite3_bind_int(pTry, 5, n);
          for(i=0; i<n; i++){
            sqlite3_bind_int64(pId, 1, batch);
            sqlite3_bind_int(pId, 2, i);
            sqlite3_bind_text(pId, 3, strtok_r(0, " ", &zSave), -1, SQLITE_TRANSIENT);
            sqlite3_step(pId); sqlite3_reset(pId);
          }
          sqlite3_bind_int(pTry, 6, atoi(strtok_r(0, " ", &zSave)));
          sqlite3_step(pTry); sqlite3_reset(pTry);
        }else if( zTok[0]=='A' ){
          sqlite3_bind_int64(pAck, 1, batch);
          sqlite3_bind_int64(pAck, 2, atoll(strtok_r(0, " ", &zSave)));
          sqlite3_bind_int64(pAck, 3, atoll(strtok_r(0, " ", &zSave)));
          sqlite3_step(pAck); sqlite3_reset(pAck);
        }else if( zTok[0]=='R' ){
          sqlite3_bind_int64(pRej, 1, batch);
          sqlite3_step(pRej); sqlite3_reset(pRej);
        }else{
          sqlite3_bind_int64(pErr, 1, batch);
          sqlite3_bind_text(pErr, 2, zSave ? zSave : "", -1, SQLITE_TRANSIENT);
          sqlite3_step(pErr); sqlite3_reset(pErr);
        }
      }
      fclose(f);
    }
  }
  sqlite3_finalize(pTry); sqlite3_finalize(pId); sqlite3_finalize(pAck);
  sqlite3_finalize(pRej); sqlite3_finalize(pErr);
  /* The stored events, read once through event_all, as a plain table that
  ** the checks can join with indexes. */
  sqlite3_exec(db, "COMMIT;"
    "CREATE INDEX temp.try_ids_id ON try_ids(id);"
    "CREATE INDEX temp.try_ids_batch ON try_ids(batch, seq);"
    "CREATE TEMP TABLE stored(event_id TEXT, aggregate_id TEXT,"
    " stream_position INT, global_position INT);"
    "INSERT INTO stored SELECT event_id, aggregate_id, stream_position,"
    " global_position FROM event_all;"
    "CREATE UNIQUE INDEX temp.stored_id ON stored(event_id);", 0, 0, 0);
}

/* Each check: SQL counting violations, and what a violation means. */
static const struct { const char *zSql; const char *zWhat; } aCheck[] = {
  { "SELECT count(*) FROM errors",
    "appends failed with an error other than a version conflict" },
  { "SELECT count(*) FROM acks a JOIN tries t USING(batch) JOIN try_ids i USING(batch)"
    " WHERE t.replay_of=0 AND NOT EXISTS (SELECT 1 FROM stored e"
    "   WHERE e.event_id=i.id AND e.aggregate_id=t.stream"
    "   AND e.stream_position = a.new_version - t.n + 1 + i.seq)",
    "acknowledged events missing, or not at the positions acknowledged" },
  { "SELECT count(*) FROM acks a JOIN tries t USING(batch) WHERE t.replay_of=0"
    " AND a.gp != (SELECT e.global_position FROM stored e JOIN try_ids i"
    "   ON e.event_id=i.id WHERE i.batch=t.batch AND i.seq=t.n-1)",
    "acknowledged global positions that are not the batch's last event" },
  { "SELECT count(*) FROM rejects r JOIN tries t USING(batch) JOIN try_ids i USING(batch)"
    " WHERE t.replay_of=0 AND EXISTS (SELECT 1 FROM stored e WHERE e.event_id=i.id)",
    "events of refused appends that were stored" },
  { "SELECT count(*) FROM tries t WHERE t.replay_of=0 AND (SELECT count(*)"
    " FROM try_ids i JOIN stored e ON e.event_id=i.id WHERE i.batch=t.batch)"
    " NOT IN (0, t.n)",
    "batches stored in part" },
  { "SELECT count(*) FROM stored e WHERE NOT EXISTS"
    " (SELECT 1 FROM try_ids i WHERE i.id=e.event_id)",
    "stored events that no writer sent" },
  { "SELECT count(*) FROM tries t JOIN acks a USING(batch) JOIN acks o"
    " ON o.batch=t.replay_of WHERE t.replay_of!=0"
    " AND (a.new_version!=o.new_version OR a.gp!=o.gp)",
    "replays that did not return the original result" },
  { "SELECT count(*) FROM tries t JOIN rejects r USING(batch) WHERE t.replay_of!=0",
    "replays refused" },
  { "SELECT count(*) FROM tries t JOIN acks a USING(batch) WHERE t.stale=1",
    "appends with a stale expected version that were accepted" },
};

static int finalChecks(int nGen[], double secs, int nKills){
  sqlite3 *db;
  int i;
  long long nTry, nAck, nRej, nReplay, nEvent, nStream;
  checkStore("end");
  db = openDb();
  loadLogs(db, nGen);
  for(i=0; i<(int)(sizeof(aCheck)/sizeof(aCheck[0])); i++){
    long long n = queryInt(db, aCheck[i].zSql);
    if( n!=0 ) fail("%lld %s", n, aCheck[i].zWhat);
  }
  nTry = queryInt(db, "SELECT count(*) FROM tries");
  nAck = queryInt(db, "SELECT count(*) FROM acks");
  nRej = queryInt(db, "SELECT count(*) FROM rejects");
  nReplay = queryInt(db, "SELECT count(*) FROM tries t JOIN acks USING(batch) WHERE replay_of!=0");
  nEvent = queryInt(db, "SELECT count(*) FROM stored");
  nStream = queryInt(db, "SELECT count(DISTINCT aggregate_id) FROM stored");
  if( bSelfTest && nFail==0 ){
    /* Damage the store the way a bug would, and make sure the checks see
    ** it: drop the last event of an acknowledged batch. */
    int nBefore = nFail, k;
    char *zErr = 0;
    sqlite3_exec(db, "DROP TRIGGER es_events_no_delete;"
        "DELETE FROM es_events WHERE global_position = (SELECT e.global_position"
        " FROM event_all e WHERE e.event_id = (SELECT i.id FROM acks a"
        " JOIN tries t USING(batch) JOIN try_ids i USING(batch)"
        " WHERE t.replay_of=0 AND t.n>1 AND i.seq=t.n-1 LIMIT 1));"
        "DELETE FROM stored; INSERT INTO stored SELECT event_id, aggregate_id,"
        " stream_position, global_position FROM event_all;", 0, 0, &zErr);
    if( zErr ) printf("self-test: %s\n", zErr);
    for(k=0; k<(int)(sizeof(aCheck)/sizeof(aCheck[0])); k++){
      if( queryInt(db, aCheck[k].zSql)!=0 ) nFail++;
    }
    printf("self-test: the checks found %d problems in a damaged store: %s\n",
           nFail - nBefore, nFail>nBefore ? "ok" : "FAILED");
    nFail = nFail>nBefore ? 0 : 1;
  }
  if( nAck<10 ) fail("only %lld appends acknowledged: the run proves little", nAck);
  if( nRej==0 ) fail("no version conflict happened: the run proves little");
  printf("torture: %s journal, synchronous=%s, %d writers, %d readers, %.0f s%s:"
         " %lld appends tried, %lld acknowledged (%lld replays), %lld refused,"
         " %lld events in %lld streams, %d kills: %s\n",
         zJournal, zSync, nProc, nReader, secs, bKill ? ", killing" : "",
         nTry, nAck, nReplay, nRej, nEvent, nStream, nKills,
         nFail ? "FAILED" : "all checks ok");
  sqlite3_close(db);
  return nFail;
}

/* ----------------------------------------------------------------- main */

static pid_t startWriter(int w, int g, double tEnd){
  pid_t pid = fork();
  if( pid==0 ){
    writerMain(w, g, tEnd);
    _exit(0);
  }
  return pid;
}

int main(int argc, char **argv){
  pid_t aWriter[MAX_PROCS], aReader[MAX_PROCS];
  int nGen[MAX_PROCS];
  int i, nKills = 0, status;
  double t0, tEnd;
  char zCmd[600];
  for(i=1; i<argc; i++){
    const char *z = argv[i];
    const char *zVal = i+1<argc ? argv[i+1] : 0;
    if( strcmp(z, "--procs")==0 && zVal ){ nProc = atoi(zVal); i++; }
    else if( strcmp(z, "--readers")==0 && zVal ){ nReader = atoi(zVal); i++; }
    else if( strcmp(z, "--seconds")==0 && zVal ){ nSeconds = atoi(zVal); i++; }
    else if( strcmp(z, "--journal")==0 && zVal ){ zJournal = zVal; i++; }
    else if( strcmp(z, "--sync")==0 && zVal ){ zSync = zVal; i++; }
    else if( strcmp(z, "--db")==0 && zVal ){ zDb = zVal; i++; }
    else if( strcmp(z, "--extension")==0 && zVal ){ zExtension = zVal; i++; }
    else if( strcmp(z, "--seed")==0 && zVal ){ seed = (unsigned)atoi(zVal); i++; }
    else if( strcmp(z, "--kill")==0 ){ bKill = 1; }
    else if( strcmp(z, "--self-test")==0 ){ bSelfTest = 1; }
    else{
      fprintf(stderr, "usage: %s [--procs N] [--readers N] [--seconds N]"
          " [--journal wal|delete] [--sync normal|full] [--kill] [--db PATH]"
          " [--extension PATH] [--seed N] [--self-test]\n", argv[0]);
      return 2;
    }
  }
  if( nProc<1 || nProc>MAX_PROCS || nReader<0 || nReader>MAX_PROCS ) fatal("bad counts");
  rngState ^= seed;
  snprintf(zCmd, sizeof(zCmd), "mkdir -p %s && rm -f %s/writer-*.log %s %s-wal %s-shm %s-journal",
           zLogDir, zLogDir, zDb, zDb, zDb, zDb);
  if( system(zCmd)!=0 ) fatal("cannot prepare %s", zLogDir);
  {
    sqlite3 *db = openDb();
    char zSql[100];
    snprintf(zSql, sizeof(zSql), "PRAGMA journal_mode=%s", zJournal);
    sqlite3_exec(db, zSql, 0, 0, 0);
    sqlite3_exec(db, "SELECT es_init()", 0, 0, 0);
    sqlite3_close(db);
  }
  t0 = now();
  tEnd = t0 + nSeconds;
  for(i=0; i<nProc; i++){ nGen[i] = 0; aWriter[i] = startWriter(i, 0, tEnd); }
  for(i=0; i<nReader; i++){
    aReader[i] = fork();
    if( aReader[i]==0 ){ readerMain(i, tEnd); _exit(0); }
  }
  if( bKill ){
    while( now() < tEnd - 0.5 ){
      int w = (int)rnd((unsigned)nProc);
      char zWhen[64];
      usleep(20000 + rnd(280000));
      kill(aWriter[w], SIGKILL);
      waitpid(aWriter[w], &status, 0);
      nKills++;
      snprintf(zWhen, sizeof(zWhen), "after kill %d", nKills);
      checkStore(zWhen);
      aWriter[w] = startWriter(w, ++nGen[w], tEnd);
    }
  }
  for(i=0; i<nProc; i++){
    waitpid(aWriter[i], &status, 0);
    if( !WIFEXITED(status) || WEXITSTATUS(status)!=0 ) fail("writer %d died", i);
  }
  for(i=0; i<nReader; i++){
    waitpid(aReader[i], &status, 0);
    if( !WIFEXITED(status) || WEXITSTATUS(status)!=0 ) fail("reader %d saw a wrong scan", i);
  }
  return finalChecks(nGen, now()-t0, nKills) ? 1 : 0;
}
