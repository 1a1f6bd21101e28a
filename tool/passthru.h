/*
** passthru.h -- the thinnest virtual table over an SQL query (passthru.c),
** the floor of the bench's read workloads.
*/
#ifndef PASSTHRU_H
#define PASSTHRU_H
#include <sqlite3.h>

/* zName(arg) gives the rows of zSql (?1 = arg): nCol columns, ordered by
** column iOrderCol (descending if bDesc). */
int passthruRegister(sqlite3 *db, const char *zName, const char *zSql,
                     int nCol, int iOrderCol, int bDesc);

#endif /* PASSTHRU_H */
