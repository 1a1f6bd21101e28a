# eventstore -- an event store inside SQLite, as a loadable extension.
#
#   make            build eventstore.so
#   make test       every test (installs what is missing first)
#   make demo       the tutorial in the sqlite3 shell
#   make asan       the test suite under AddressSanitizer + UBSan
#   make valgrind   the test suite under valgrind memcheck
#   make clean

CC      ?= cc
CFLAGS  ?= -O2
WARN     = -Wall -Wextra
SQLITE3 ?= sqlite3
TCLSH   ?= tclsh

# The version (the VERSION file) and, in a git checkout, the commit, for
# es_info(); ext/eventstore.h must say the same version (checked below).
ES_VERSION := $(shell cat VERSION)
ES_COMMIT  := $(shell git rev-parse --short=12 HEAD 2>/dev/null)
VERSION_DEFS = -DES_VERSION='"$(ES_VERSION)"' \
               $(if $(ES_COMMIT),-DES_COMMIT='"$(ES_COMMIT)"')

EXT_SRC  = ext/eventstore.c ext/conn.c ext/schema.c ext/storage.c ext/scope.c \
           ext/append.c ext/idempotency.c ext/functions.c ext/verify.c \
           ext/testing.c \
           ext/args.c ext/batch.c ext/result.c ext/utf8.c ext/upgrade.c \
           ext/names.c ext/checkpoint.c ext/wait.c ext/member.c \
           ext/snapshot.c ext/import.c \
           ext/json.c ext/arena.c ext/timestamp.c ext/uuid.c \
           vtab/columns.c vtab/plan.c vtab/sql.c vtab/event_vtab.c \
           vtab/checkpoints.c
EXT_HDR  = ext/es_internal.h ext/eventstore.h Makefile VERSION build/commit
LIBS     = -luuid -lm -lpthread
# A loadable module reaches SQLite through its routines table: any other
# undefined symbol is a build mistake, caught at link time.
SO_LDFLAGS = -Wl,-z,defs
# Only the entry point is exported (eventstore.h, EVENTSTORE_API): two
# builds loaded into one process (the suite loads the release and the
# testing build) must each call their own functions.
SO_CFLAGS = -fPIC -fvisibility=hidden

all: check-version eventstore.so

# The commit built from: rewritten only when it changes, so that a new
# commit rebuilds what reports it (es_info) and nothing else does.
build/commit: FORCE
	@mkdir -p build
	@echo '$(ES_COMMIT)' | cmp -s - $@ || echo '$(ES_COMMIT)' > $@
FORCE:

# VERSION and the public header agree, or nothing is built.
ES_VERSION_NUMBER := $(shell echo $(ES_VERSION) | awk -F. '{print $$1*1000000 + $$2*1000 + $$3}')
check-version:
	@grep -q '^#define EVENTSTORE_VERSION  *"$(ES_VERSION)"' ext/eventstore.h || \
	  { echo "ext/eventstore.h: EVENTSTORE_VERSION is not $(ES_VERSION) (the VERSION file)"; exit 1; }
	@grep -q '^#define EVENTSTORE_VERSION_NUMBER  *$(ES_VERSION_NUMBER)$$' ext/eventstore.h || \
	  { echo "ext/eventstore.h: EVENTSTORE_VERSION_NUMBER is not $(ES_VERSION_NUMBER)"; exit 1; }
	@grep -q "^default_version = '$(ES_VERSION)'" sql/postgres/eventstore.control || \
	  { echo "sql/postgres/eventstore.control: default_version is not $(ES_VERSION)"; exit 1; }
	@grep -q "('version', '$(ES_VERSION)')" sql/postgres/eventstore.sql || \
	  { echo "sql/postgres/eventstore.sql: es_meta's version is not $(ES_VERSION)"; exit 1; }

# The release build has no asserts; every testing build (below) keeps them,
# so that the suite and the fuzzers check the invariants they state.
eventstore.so: $(EXT_SRC) $(EXT_HDR)
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DNDEBUG $(SO_CFLAGS) -shared $(SO_LDFLAGS) -o $@ $(EXT_SRC) $(LIBS)

# The same sources with asserts and test-only hooks (ext/testing.c).
build/testing/eventstore.so: $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/testing
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DES_TESTING $(SO_CFLAGS) -shared $(SO_LDFLAGS) -o $@ $(EXT_SRC) $(LIBS)

# The same sources linked into a program with -DSQLITE_CORE.
build/static_link: test/static_link.c $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ test/static_link.c $(EXT_SRC) -lsqlite3 $(LIBS)

# Out-of-memory injection: the extension linked into test/oom.c.
build/oom_test: test/oom.c $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ test/oom.c $(EXT_SRC) -lsqlite3 $(LIBS)

# es_wait from several threads (interrupt, wake, no lock held).
build/wait_test: test/wait_test.c $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ test/wait_test.c $(EXT_SRC) -lsqlite3 $(LIBS)

# The fuzz targets without libFuzzer (tool/fuzz/replay.c), for
# test/fuzz_replay.test: the seed corpora replayed by `make test`.
FUZZ_TARGETS = append vtab corrupt
REPLAY = $(addprefix build/replay_,$(FUZZ_TARGETS))
build/replay_%: tool/fuzz/fuzz_%.c tool/fuzz/replay.c tool/fuzz/fuzz_common.h $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ $< tool/fuzz/replay.c $(EXT_SRC) -lsqlite3 $(LIBS)

# ------------------------------------------------ distribution (issue 12)

# The single-file build (tool/amalgamate.tcl): dist/eventstore.c builds the
# loadable module alone, or compiles into a program with -DSQLITE_CORE.
amalgamation: dist/eventstore.c dist/eventstore.h
dist/eventstore.c dist/eventstore.h: $(EXT_SRC) $(EXT_HDR) tool/amalgamate.tcl
	@mkdir -p dist
	$(TCLSH) tool/amalgamate.tcl $(ES_VERSION)

# The static library, for programs that link eventstore in and register it
# with sqlite3_auto_extension(); made from the single file, so that it
# defines one global symbol, sqlite3_eventstore_init.
static: libeventstore.a
libeventstore.a: dist/eventstore.c
	@mkdir -p build/static
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DNDEBUG -DSQLITE_CORE -fPIC \
	  -c -o build/static/eventstore.o dist/eventstore.c
	rm -f $@
	ar rcs $@ build/static/eventstore.o

# make install [PREFIX=/usr/local] [DESTDIR=...]: the loadable module
# eventstore.so (`.load eventstore`, sqlite3_load_extension(db,
# "eventstore", ...)), the static library libeventstore.a (-leventstore:
# with no libeventstore.so beside it, pkg-config --static links it in),
# the header and eventstore.pc.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PCDIR      ?= $(LIBDIR)/pkgconfig
build/eventstore.pc: tool/eventstore.pc.in VERSION Makefile
	@mkdir -p build
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(ES_VERSION)|' \
	    tool/eventstore.pc.in > $@
install: all libeventstore.a build/eventstore.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PCDIR)
	install -m 0755 eventstore.so $(DESTDIR)$(LIBDIR)/eventstore.so
	install -m 0644 libeventstore.a $(DESTDIR)$(LIBDIR)/libeventstore.a
	install -m 0644 ext/eventstore.h $(DESTDIR)$(INCLUDEDIR)/eventstore.h
	install -m 0644 build/eventstore.pc $(DESTDIR)$(PCDIR)/eventstore.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi
uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/eventstore.so \
	      $(DESTDIR)$(LIBDIR)/libeventstore.a $(DESTDIR)$(INCLUDEDIR)/eventstore.h \
	      $(DESTDIR)$(PCDIR)/eventstore.pc

deps:
	@tool/deps.sh

# The PostgreSQL twin as an extension (sql/postgres/, PGXS): CREATE
# EXTENSION eventstore then works in every database of the local server.
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
pg-install: deps
	@$(MAKE) -s -C sql/postgres install PG_CONFIG=$(PG_CONFIG) >/dev/null

pg-uninstall:
	@$(MAKE) -s -C sql/postgres uninstall PG_CONFIG=$(PG_CONFIG) >/dev/null

# The Python package (bindings/python, docs/python.md): the extension
# copied into it, so that `pip install ./bindings/python` installs both.
python: eventstore.so
	@mkdir -p bindings/python/eventstore/lib
	cp eventstore.so bindings/python/eventstore/lib/eventstore.so

# What the suite runs besides tclsh (tool/mutate.tcl builds the same).
TEST_PROGRAMS = eventstore.so build/testing/eventstore.so build/static_link \
                build/oom_test build/wait_test tool/consumer tool/es-copy libeventstore.a \
                dist/eventstore.c $(REPLAY)
test-programs: $(TEST_PROGRAMS)

test: deps pg-install $(TEST_PROGRAMS) python
	@$(TCLSH) test/all.tcl

demo: deps eventstore.so
	SQLITE3=$(SQLITE3) tool/demo.sh

# The suite under sanitizers.  tclsh itself is not instrumented, so the
# runtime is preloaded.
ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
             -fno-sanitize-recover=undefined
build/asan/eventstore.so: $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/asan
	gcc $(ASAN_FLAGS) $(WARN) $(VERSION_DEFS) -DES_TESTING $(SO_CFLAGS) -shared $(SO_LDFLAGS) -o $@ $(EXT_SRC) $(LIBS)

build/asan/static_link: test/static_link.c $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/asan
	gcc $(ASAN_FLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ test/static_link.c $(EXT_SRC) -lsqlite3 $(LIBS)

build/asan/oom_test: test/oom.c $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/asan
	gcc $(ASAN_FLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ test/oom.c $(EXT_SRC) -lsqlite3 $(LIBS)

build/asan/wait_test: test/wait_test.c $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/asan
	gcc $(ASAN_FLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ test/wait_test.c $(EXT_SRC) -lsqlite3 $(LIBS)

build/asan/replay_%: tool/fuzz/fuzz_%.c tool/fuzz/replay.c tool/fuzz/fuzz_common.h $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/asan
	gcc $(ASAN_FLAGS) $(WARN) $(VERSION_DEFS) -DSQLITE_CORE -o $@ $< tool/fuzz/replay.c $(EXT_SRC) -lsqlite3 $(LIBS)

asan: deps build/asan/eventstore.so build/asan/static_link build/asan/oom_test \
      build/asan/wait_test tool/consumer $(addprefix build/asan/replay_,$(FUZZ_TARGETS))
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ES_EXTENSION=build/asan/eventstore.so ES_TESTING_EXTENSION=build/asan/eventstore.so \
	ES_BINDIR=build/asan $(TCLSH) test/all.tcl

valgrind: deps $(TEST_PROGRAMS)
	@tool/deps.sh valgrind
	ES_VALGRIND=1 $(TCLSH) test/all.tcl

# Benchmarks: extension against hand-written SQLite (docs/performance.md).
BENCH_SRC = tool/bench.c tool/bench_work.c tool/bench_floor.c tool/bench_pg.c \
            tool/bench_wait.c tool/passthru.c
tool/bench: $(BENCH_SRC) tool/bench.h tool/passthru.h
	$(CC) -O2 $(WARN) -I/usr/include/postgresql -o $@ $(BENCH_SRC) \
	  -lsqlite3 -luuid -lpq

bench: eventstore.so tool/bench
	tool/bench

bench-scale: eventstore.so tool/bench
	tool/bench --scale

bench-floor: eventstore.so tool/bench
	tool/bench --floor

# The PostgreSQL twin against hand-written PostgreSQL, on a throwaway
# cluster (tool/bench_pg.tcl starts and stops it).
bench-wait: eventstore.so tool/bench
	tool/bench --wait

bench-pg: deps tool/bench
	$(TCLSH) tool/bench_pg.tcl

# Where the twin's append spends its time (pg_stat_statements, function
# times), against the hand-written statements, through pgbench.
bench-pg-profile: deps
	$(TCLSH) tool/bench_pg_profile.tcl

# The Python binding against hand-written Python on the same file
# (bindings/python/bench.py; docs/python.md).
bench-python: python
	/usr/bin/python3 bindings/python/bench.py

# es-copy: a store from a SQLite file to PostgreSQL and back (tool/es_copy/,
# docs/scale-out.md), with the extension linked in.
ES_COPY_SRC = tool/es_copy/main.c tool/es_copy/sqlite_side.c \
              tool/es_copy/pg_side.c tool/es_copy/digest.c tool/es_copy/chunk.c
es-copy: tool/es-copy
tool/es-copy: $(ES_COPY_SRC) tool/es_copy/es_copy.h $(EXT_SRC) $(EXT_HDR)
	$(CC) $(CFLAGS) $(WARN) $(VERSION_DEFS) -DNDEBUG -DSQLITE_CORE \
	  -I/usr/include/postgresql -o $@ $(ES_COPY_SRC) $(EXT_SRC) -lsqlite3 -lpq $(LIBS)

# Exactly-once consumers under SIGKILL (tool/consumer.c).
tool/consumer: tool/consumer.c tool/tool_util.h
	$(CC) -O2 $(WARN) -o $@ tool/consumer.c -lsqlite3

# Many processes on one file, with and without SIGKILL (tool/torture.c).
tool/torture: tool/torture.c tool/tool_util.h
	$(CC) -O2 $(WARN) -o $@ tool/torture.c -lsqlite3

TORTURE_SECONDS ?= 20
torture: eventstore.so tool/torture
	tool/torture --journal wal --seconds $(TORTURE_SECONDS) --self-test
	tool/torture --journal delete --seconds $(TORTURE_SECONDS)
	tool/torture --journal wal --sync full --kill --seconds $(TORTURE_SECONDS)
	tool/torture --journal delete --sync full --kill --seconds $(TORTURE_SECONDS)

# libFuzzer targets (tool/fuzz/): es_append's inputs, the virtual tables
# against plain SQL, damaged database files.  Each runs FUZZ_SECONDS from
# the seed corpus in tool/fuzz/corpus (new inputs go to build/fuzz).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
build/fuzz/fuzz_%: tool/fuzz/fuzz_%.c tool/fuzz/fuzz_common.h $(EXT_SRC) $(EXT_HDR)
	@mkdir -p build/fuzz
	clang $(FUZZ_FLAGS) -DSQLITE_CORE -o $@ $< $(EXT_SRC) -lsqlite3 $(LIBS)

deps-fuzz: deps
	@tool/deps.sh clang libclang-rt-14-dev

fuzz: deps-fuzz
	@$(MAKE) -s $(addprefix build/fuzz/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build/fuzz/corpus-$$t; \
	  echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	  build/fuzz/fuzz_$$t build/fuzz/corpus-$$t tool/fuzz/corpus/$$t \
	    -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=4096 -artifact_prefix=build/fuzz/ \
	    -print_final_stats=1 2>build/fuzz/fuzz_$$t.log \
	    || { tail -n 60 build/fuzz/fuzz_$$t.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::new_units_added|Done [0-9]+ runs" build/fuzz/fuzz_$$t.log; \
	done

clean:
	rm -rf eventstore.so libeventstore.a dist build tool/bench tool/torture tool/consumer tool/es-copy \
	  bindings/python/eventstore/lib

.PHONY: all check-version FORCE python amalgamation static install uninstall deps deps-fuzz pg-install pg-uninstall test-programs test demo asan valgrind bench bench-scale bench-floor bench-wait bench-pg bench-pg-profile bench-python es-copy torture fuzz mutate clean

# Each guarantee broken on purpose, and the tests that catch it
# (tool/mutate.tcl; the list is in test/README.md).
mutate: deps
	$(TCLSH) tool/mutate.tcl
