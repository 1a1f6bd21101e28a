/*
** eventstore.h -- the public header of eventstore, an event store inside
** SQLite (https://www.sqlite.org/loadext.html).
**
** Loaded at run time (.load ./eventstore, sqlite3_load_extension()) the
** extension needs no header.  Linked into a program (the static library
** libeventstore.a, or dist/eventstore.c compiled with -DSQLITE_CORE), it
** is registered for every connection the program opens with:
**
**   #include <sqlite3.h>
**   #include <eventstore.h>
**   sqlite3_auto_extension((void(*)(void))sqlite3_eventstore_init);
**
** The SQL it adds is described in docs/reference.md.  Below: its version,
** and the error codes and message prefixes that clients match on.
*/
#ifndef EVENTSTORE_H
#define EVENTSTORE_H

#include <sqlite3.h>

/* The version of eventstore (semantic versioning; the VERSION file), as
** es_info() reports it, and as a number: major*1000000 + minor*1000 +
** patch. */
#define EVENTSTORE_VERSION        "1.0.0"
#define EVENTSTORE_VERSION_NUMBER 1000000

/* The storage format this version writes (es_info()'s schema_version). */
#define EVENTSTORE_SCHEMA_VERSION 2

/* The entry point is the one symbol the library exports. */
#if defined(_WIN32) && !defined(SQLITE_CORE)
# define EVENTSTORE_API __declspec(dllexport)
#elif defined(__GNUC__)
# define EVENTSTORE_API __attribute__((visibility("default")))
#else
# define EVENTSTORE_API
#endif

/*
** Errors clients match on.  Every message starts with the name of the
** function (or table) that raised it, then ": ".
**
** A version conflict of es_append: extended code SQLITE_CONSTRAINT_FUNCTION
** (1043), message
**   es_append: version conflict on stream '<id>:<type>': expected version
**   <e>, actual version <a>
** An event id stored already with other content: SQLITE_CONSTRAINT_UNIQUE
** (2067).  A write lock that could not be waited for keeps SQLite's code,
** SQLITE_BUSY (5) or SQLITE_BUSY_SNAPSHOT (517), with a message that
** names BEGIN IMMEDIATE.  Every other bad input: SQLITE_ERROR (1).
*/
#define EVENTSTORE_ERROR_CONFLICT        SQLITE_CONSTRAINT_FUNCTION
#define EVENTSTORE_ERROR_ID_REUSED       SQLITE_CONSTRAINT_UNIQUE
#define EVENTSTORE_CONFLICT_PREFIX       "es_append: version conflict on stream '"
#define EVENTSTORE_ID_REUSED_SUFFIX      " is already stored with different content"

#ifdef __cplusplus
extern "C" {
#endif

/* Register eventstore's functions and tables on connection db. */
EVENTSTORE_API int sqlite3_eventstore_init(sqlite3 *db, char **pzErrMsg,
                                           const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* EVENTSTORE_H */
