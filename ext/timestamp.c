/*
** timestamp.c -- parsing and formatting of event timestamps.
**
** Timestamps are stored as Unix microseconds (a 64-bit integer, UTC), so
** that they compare as instants: '2026-11-26 12:00:00+02:00' and
** '2026-11-26T10:00:00Z' are the same number.  Accepted input (API.md):
**
**   YYYY-MM-DD                                   midnight UTC
**   YYYY-MM-DD{T|t| }HH:MM[:SS[.f...]][zone]     zone: Z | z | +hh:mm |
**                                                +hhmm | +hh (or -)
**   [-]digits[.digits][e[+-]digits]              Unix seconds
**
** A time without a zone is UTC.  Fractions beyond microseconds are cut off.
** Output is always YYYY-MM-DDTHH:MM:SS.ffffffZ, formatted without printf.
*/
#include "es_internal.h"
#include <stdlib.h>
#include <time.h>
#include <math.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static i64 daysFromCivil(i64 y, int m, int d){
  i64 era, yoe, doy, doe;
  y -= m<=2;
  era = (y>=0 ? y : y-399) / 400;
  yoe = y - era*400;
  doy = (153*(m + (m>2 ? -3 : 9)) + 2)/5 + d - 1;
  doe = yoe*365 + yoe/4 - yoe/100 + doy;
  return era*146097 + doe - 719468;
}

static void civilFromDays(i64 z, int *pY, int *pM, int *pD){
  i64 era, doe, yoe, y, doy, mp;
  z += 719468;
  era = (z>=0 ? z : z-146096) / 146097;
  doe = z - era*146097;
  yoe = (doe - doe/1460 + doe/36524 - doe/146096) / 365;
  y = yoe + era*400;
  doy = doe - (365*yoe + yoe/4 - yoe/100);
  mp = (5*doy + 2)/153;
  *pD = (int)(doy - (153*mp + 2)/5 + 1);
  *pM = (int)(mp < 10 ? mp+3 : mp-9);
  *pY = (int)(y + (*pM<=2));
}

static int daysInMonth(int y, int m){
  static const u8 aDays[] = {31,28,31,30,31,30,31,31,30,31,30,31};
  if( m==2 && (y%4==0 && (y%100!=0 || y%400==0)) ) return 29;
  return aDays[m-1];
}

/* Read exactly nDigit decimal digits at z[*pi]; -1 if they are not there. */
static int readDigits(const char *z, int n, int *pi, int nDigit){
  int v = 0, k;
  for(k=0; k<nDigit; k++){
    int i = *pi + k;
    if( i>=n || z[i]<'0' || z[i]>'9' ) return -1;
    v = v*10 + (z[i]-'0');
  }
  *pi += nDigit;
  return v;
}

/* The zone suffix at z[i..n): its offset east of UTC in seconds. */
static int parseZone(const char *z, int n, int i, int *pOffset){
  int sign, hh, mm = 0;
  if( i==n ){ *pOffset = 0; return 0; }
  if( (z[i]=='Z' || z[i]=='z') && i+1==n ){ *pOffset = 0; return 0; }
  if( z[i]!='+' && z[i]!='-' ) return 1;
  sign = z[i]=='-' ? -1 : 1;
  i++;
  if( (hh = readDigits(z, n, &i, 2))<0 || hh>23 ) return 1;
  if( i<n ){
    if( z[i]==':' ) i++;
    if( (mm = readDigits(z, n, &i, 2))<0 || mm>59 ) return 1;
  }
  if( i!=n ) return 1;
  *pOffset = sign*(hh*3600 + mm*60);
  return 0;
}

static int parseIso(const char *z, int n, i64 *pMicros){
  int i = 0, y, mo, d, hh = 0, mi = 0, ss = 0, micros = 0, offset = 0;
  i64 t;
  if( (y = readDigits(z, n, &i, 4))<1 ) return 1;
  if( i>=n || z[i++]!='-' ) return 1;
  if( (mo = readDigits(z, n, &i, 2))<1 || mo>12 ) return 1;
  if( i>=n || z[i++]!='-' ) return 1;
  if( (d = readDigits(z, n, &i, 2))<1 || d>daysInMonth(y, mo) ) return 1;
  if( i<n ){
    if( z[i]!='T' && z[i]!='t' && z[i]!=' ' ) return 1;
    i++;
    if( (hh = readDigits(z, n, &i, 2))<0 || hh>23 ) return 1;
    if( i>=n || z[i++]!=':' ) return 1;
    if( (mi = readDigits(z, n, &i, 2))<0 || mi>59 ) return 1;
    if( i<n && z[i]==':' ){
      i++;
      if( (ss = readDigits(z, n, &i, 2))<0 || ss>59 ) return 1;
      if( i<n && (z[i]=='.' || z[i]==',') ){
        int nFrac = 0;
        i++;
        while( i<n && z[i]>='0' && z[i]<='9' ){
          if( nFrac<6 ){ micros = micros*10 + (z[i]-'0'); }
          nFrac++;
          i++;
        }
        if( nFrac==0 ) return 1;
        for(; nFrac<6; nFrac++) micros *= 10;
      }
    }
    if( parseZone(z, n, i, &offset) ) return 1;
  }
  t = daysFromCivil(y, mo, d)*86400 + hh*3600 + mi*60 + ss - offset;
  t = t*1000000 + micros;
  if( t<ES_MIN_MICROS || t>ES_MAX_MICROS ) return 1;
  *pMicros = t;
  return 0;
}

/*
** Unix seconds written as a decimal number.  Integer and fraction parts
** are converted exactly; only a number with an exponent goes through
** floating point.
*/
static int parseSeconds(const char *z, int n, i64 *pMicros){
  int i = 0, neg = 0, nInt = 0, nFrac = 0;
  i64 sec = 0, micros = 0;
  if( i<n && (z[i]=='-' || z[i]=='+') ){ neg = z[i]=='-'; i++; }
  while( i<n && z[i]>='0' && z[i]<='9' ){
    if( sec>ES_MAX_MICROS/1000000 ) return 1;
    sec = sec*10 + (z[i]-'0');
    i++; nInt++;
  }
  if( i<n && z[i]=='.' ){
    i++;
    while( i<n && z[i]>='0' && z[i]<='9' ){
      if( nFrac<6 ) micros = micros*10 + (z[i]-'0');
      i++; nFrac++;
    }
    if( nFrac==0 ) return 1;
  }
  if( nInt==0 ) return 1;
  if( i<n && (z[i]=='e' || z[i]=='E') ){
    char zBuf[64];
    if( n>=(int)sizeof(zBuf) ) return 1;
    memcpy(zBuf, z, n);
    zBuf[n] = 0;
    {
      char *zEnd = 0;
      double r = strtod(zBuf, &zEnd);
      if( zEnd!=zBuf+n ) return 1;
      return esTimestampFromSeconds(r, pMicros);
    }
  }
  if( i!=n ) return 1;
  for(; nFrac<6; nFrac++) micros *= 10;
  {
    i64 t = sec*1000000 + micros;
    if( neg ) t = -t;
    if( t<ES_MIN_MICROS || t>ES_MAX_MICROS ) return 1;
    *pMicros = t;
  }
  return 0;
}

/* Parse timestamp text.  0 on success, 1 if it is not a timestamp. */
int esTimestampParseText(const char *z, int n, i64 *pMicros){
  if( n>=10 && z[4]=='-' ) return parseIso(z, n, pMicros);
  return parseSeconds(z, n, pMicros);
}

int esTimestampFromSeconds(double r, i64 *pMicros){
  double m;
  if( !isfinite(r) ) return 1;
  m = floor(r*1e6 + 0.5);
  if( m<(double)ES_MIN_MICROS || m>(double)ES_MAX_MICROS ) return 1;
  *pMicros = (i64)m;
  return 0;
}

/*
** A timestamp from an SQL value: text as above, or a number of Unix
** seconds.  0 on success, 1 if the value is not a timestamp, 2 if NULL.
*/
int esTimestampFromValue(sqlite3_value *pVal, i64 *pMicros){
  switch( sqlite3_value_type(pVal) ){
    case SQLITE_NULL:
      return 2;
    case SQLITE_INTEGER: {
      i64 s = sqlite3_value_int64(pVal);
      if( s<ES_MIN_MICROS/1000000 || s>ES_MAX_MICROS/1000000 ) return 1;
      *pMicros = s*1000000;
      return 0;
    }
    case SQLITE_FLOAT:
      return esTimestampFromSeconds(sqlite3_value_double(pVal), pMicros);
    case SQLITE_TEXT: {
      const char *z = (const char*)sqlite3_value_text(pVal);
      if( z==0 ) return 1;
      return esTimestampParseText(z, sqlite3_value_bytes(pVal), pMicros);
    }
    default:
      return 1;
  }
}

static void put2(char *z, int v){ z[0] = (char)('0'+v/10); z[1] = (char)('0'+v%10); }

void esTimestampFormat(i64 t, char *z){
  i64 days, secOfDay;
  int y, mo, d, us;
  days = t / 86400000000LL;
  secOfDay = t % 86400000000LL;
  if( secOfDay<0 ){ secOfDay += 86400000000LL; days--; }
  us = (int)(secOfDay % 1000000);
  secOfDay /= 1000000;
  civilFromDays(days, &y, &mo, &d);
  put2(z, y/100); put2(z+2, y%100);
  z[4] = '-'; put2(z+5, mo);
  z[7] = '-'; put2(z+8, d);
  z[10] = 'T'; put2(z+11, (int)(secOfDay/3600));
  z[13] = ':'; put2(z+14, (int)(secOfDay/60%60));
  z[16] = ':'; put2(z+17, (int)(secOfDay%60));
  z[19] = '.';
  put2(z+20, us/10000); put2(z+22, us/100%100); put2(z+24, us%100);
  z[26] = 'Z';
}

/*
** The collation es_timestamp, declared on the virtual tables' occurred_at
** and stored_at columns.  It compares text as instants (two spellings of
** one instant are equal), so that whatever comparisons SQLite makes on
** those columns itself (ORDER BY occurred_at, a constraint it checks
** after the table) agree with the table's own.  Declaring a collation
** other than BINARY also stops SQLite's constant propagation, which would
** otherwise rewrite "occurred_at = '...' AND occurred_at < ..." into a
** comparison of two constants as plain text.  Text that is not a
** timestamp sorts after every timestamp, in byte order.
*/
static int timestampCollate(void *pArg, int nA, const void *zA, int nB,
                            const void *zB){
  i64 a, b;
  int bA = esTimestampParseText((const char*)zA, nA, &a)==0;
  int bB = esTimestampParseText((const char*)zB, nB, &b)==0;
  (void)pArg;
  if( bA && bB ) return a<b ? -1 : a>b;
  if( bA!=bB ) return bA ? -1 : 1;
  {
    int c = memcmp(zA, zB, nA<nB ? nA : nB);
    return c ? c : nA - nB;
  }
}

int esTimestampRegister(sqlite3 *db){
  return sqlite3_create_collation_v2(db, "es_timestamp", SQLITE_UTF8, 0,
                                     timestampCollate, 0);
}

#ifdef ES_TESTING
/* Test builds: the clock can be moved (es_test_clock_shift), to show that
** stored_at never goes backwards when the system clock does. */
static i64 iClockShift = 0;
void esTimestampShiftClock(i64 micros){
  iClockShift = micros;
}
#endif

i64 esTimestampNow(void){
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
#ifdef ES_TESTING
  return (i64)ts.tv_sec*1000000 + ts.tv_nsec/1000 + iClockShift;
#else
  return (i64)ts.tv_sec*1000000 + ts.tv_nsec/1000;
#endif
}
