/*
** tool_util.h -- the few helpers tool/consumer.c and tool/torture.c share:
** stand-alone programs of one file each that fork workers, so everything
** here is static to the program that includes it.  zToolName prefixes
** fatal()'s message ("" for none).
*/
#ifndef TOOL_UTIL_H
#define TOOL_UTIL_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *zToolName = "";

/* Seconds on the monotonic clock. */
static double now(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec/1e9;
}

/* xorshift: each process mixes its own seed into rngState after fork. */
static unsigned long long rngState = 88172645463325252ULL;
static unsigned rnd(unsigned n){
  rngState ^= rngState << 13;
  rngState ^= rngState >> 7;
  rngState ^= rngState << 17;
  return (unsigned)(rngState % n);
}

/* Print the message and exit with status 2: a failure of the harness
** itself, not a finding. */
static void fatal(const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  fputs(zToolName, stderr);
  vfprintf(stderr, zFmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

#endif /* TOOL_UTIL_H */
