# Makefile: build, run, test and benchmark the Settings executables.
# The first two targets a newcomer needs: `make run` and `make check`.

PREFIX  ?= /usr/local
DESTDIR ?=
VAR     ?= $(CURDIR)/var
PORT    ?= 8080
PGPORT  ?= 5433
export VAR PORT PGPORT

CC      ?= cc
PKGS     = libpq libcrypto libcurl
CSTD     = -std=c17 -D_GNU_SOURCE
WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(PKG_CFLAGS) -Icgi
LIBS     = $(PKG_LIBS) -lfcgi -lcrypt

# libpq for the executables: LIBPQ=static links Debian's libpq.a (libpq-dev) with
# PostgreSQL's libpgcommon and libpgport archives (postgresql-server-dev-15), so a
# process loads only libc, OpenSSL, libfcgi and libcrypt, not the Kerberos, LDAP and
# GnuTLS libraries libpq.so needs (binding them at each start is most of what a plain
# CGI process spends): cgi/pq_lazy.c loads those two on first use. The default when the
# archives are there and of libpq-dev's own version; LIBPQ=shared otherwise. A static
# libpq is part of the executables: an update of libpq-dev relinks them on the next
# `make` (the archive is a prerequisite).
PG_LIBDIR  := $(shell pg_config --libdir 2>/dev/null)
PG_PKGLIB  := $(shell pg_config --pkglibdir 2>/dev/null)
PG_VERSION := $(word 2,$(shell pg_config --version 2>/dev/null))
LIBPQ_A    := $(PG_LIBDIR)/libpq.a
PGPARTS_A  := $(PG_PKGLIB)/libpgcommon_shlib.a $(PG_PKGLIB)/libpgport_shlib.a
LIBPQ ?= $(if $(and $(wildcard $(LIBPQ_A) $(PGPARTS_A)),$(filter $(PG_VERSION),$(shell pkg-config --modversion libpq 2>/dev/null))),static,shared)
ifeq ($(LIBPQ),static)
BIN_LIBPQ  = $(B)/obj/pq_lazy.o $(LIBPQ_A) $(PGPARTS_A)
BIN_LIBS   = $(filter-out -lpq,$(PKG_LIBS)) -lssl -lcrypto -lfcgi -lcrypt -lm
else
BIN_LIBPQ  =
BIN_LIBS   = $(LIBS)
endif

# The shared library: everything in cgi/ that is not a page.
LIB_SRC  = util http tmpl crypto db rbac server app wscache
# Pages: one executable each, built when its source exists.
PAGES    = $(filter $(patsubst cgi/%.c,%,$(wildcard cgi/*.c)),auth invite team billing integrations general apikeys audit account password delivery)
# Extra per-page objects (e.g. the billing cycle command) may be added below.

B        = build
LIB_OBJ  = $(LIB_SRC:%=$(B)/obj/%.o)
BINS     = $(PAGES:%=$(B)/bin/%)

# Sanitizer build for the tests.
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SAN_OBJ  = $(LIB_SRC:%=$(B)/san/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/san/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)

.SECONDARY:
.PHONY: all deps run check unit bench bench-delivery migrate rollback psql install fuzz clean stop

all: $(BINS)

deps:
	@sh scripts/deps.sh

$(B)/obj/%.o: cgi/%.c cgi/*.h | $(B)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(B)/bin/%: $(B)/obj/%.o $(LIB_OBJ) $(BIN_LIBPQ) | $(B)/bin
	$(CC) $(ALL_CFLAGS) -o $@ $(filter-out %.a,$^) $(filter %.a,$^) $(BIN_LIBS)

$(B)/san/%.o: cgi/%.c cgi/*.h | $(B)/san
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(PKG_CFLAGS) -Icgi -c $< -o $@

$(B)/san/test_%: tests/unit/test_%.c $(SAN_OBJ) | $(B)/san
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(PKG_CFLAGS) -Icgi -o $@ $< $(SAN_OBJ) $(LIBS) -lcmocka

$(B)/obj $(B)/bin $(B)/san $(B)/fuzz $(B)/bench:
	@mkdir -p $@

# The integrations page also links its helpers (cgi/integ_*.c: outgoing
# requests, secrets, key rotation); their unit tests link the one they test.
INTEG_SRC = $(patsubst cgi/%.c,%,$(wildcard cgi/integ_*.c))
$(B)/bin/integrations $(B)/bin/delivery: $(INTEG_SRC:%=$(B)/obj/%.o)
# The integrations page's own parts (forms, queries, the delivery log).
$(B)/bin/integrations: $(patsubst cgi/%.c,$(B)/obj/%.o,$(wildcard cgi/integrations_*.c))
INTEG_TESTS = $(patsubst tests/unit/%.c,$(B)/san/%,$(wildcard tests/unit/test_integ_*.c))
$(INTEG_TESTS): $(B)/san/test_integ_%: tests/unit/test_integ_%.c $(INTEG_SRC:%=$(B)/san/%.o) $(SAN_OBJ) | $(B)/san
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(PKG_CFLAGS) -Icgi -o $@ $< $(INTEG_SRC:%=$(B)/san/%.o) $(SAN_OBJ) $(LIBS) -lcmocka

# The account pages (account, password) also link their rules (names,
# passwords, browsers) and the account emails; the rules' unit test links them.
$(B)/bin/account: $(B)/obj/account_rules.o
$(B)/bin/password: $(B)/obj/account_rules.o $(B)/obj/mail.o
# The team page emails invitations with the same code.
$(B)/bin/team: $(B)/obj/mail.o
# The audit page's statements are a file of their own.
$(B)/bin/audit: $(B)/obj/audit_queries.o
$(B)/san/test_account_rules: tests/unit/test_account_rules.c $(B)/san/account_rules.o $(SAN_OBJ) | $(B)/san
	$(CC) $(CSTD) $(WARN) $(SAN_FLAGS) $(PKG_CFLAGS) -Icgi -o $@ $< $(B)/san/account_rules.o $(SAN_OBJ) $(LIBS) -lcmocka

# Unit tests (cmocka, sanitizer build, no server).
unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

# Start everything in the foreground; Ctrl-C stops it all. The build is
# quiet (its output goes to var/log/build.log and is shown only if it fails).
run: deps
	@mkdir -p "$(VAR)/log"; \
	if ! $(MAKE) --no-print-directory -s all >"$(VAR)/log/build.log" 2>&1; then \
		cat "$(VAR)/log/build.log"; echo "make run: the build failed (log: $(VAR)/log/build.log)"; exit 1; \
	fi
	@sh scripts/run.sh

# Every test: unit, database, CGI-level and end-to-end through nginx.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(B)/bench/receiver
	@sh tests/run-all.sh

bench: deps all $(B)/bench/receiver
	@sh scripts/bench.sh

# The delivery worker's throughput alone (also the last part of `make bench`).
bench-delivery: deps all $(B)/bench/receiver
	@sh scripts/bench-delivery.sh

# The local HTTP receiver of the delivery benchmark and the several-hosts suite.
$(B)/bench/receiver: tests/bench/receiver.c | $(B)/bench
	$(CC) $(CSTD) $(WARN) $(CFLAGS) -o $@ $<

migrate: deps
	@sh scripts/db.sh migrate

rollback: deps
	@sh scripts/db.sh rollback

psql:
	@sh scripts/db.sh psql

# libFuzzer targets, each for FUZZ_SECONDS (default 30).
FUZZ_SECONDS ?= 30
fuzz: | $(B)/fuzz
	@for f in $(FUZZ_SRC); do \
	  n=$$(basename $$f .c); \
	  clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined -Icgi $(PKG_CFLAGS) \
	    cgi/util.c cgi/http.c cgi/tmpl.c $$f -o $(B)/fuzz/$$n || exit 1; \
	  mkdir -p $(B)/fuzz/corpus-$$n; \
	  $(B)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) $(B)/fuzz/corpus-$$n \
	    tests/fuzz/corpus/$${n#fuzz_} || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/lib/settings/bin $(DESTDIR)$(PREFIX)/share/settings
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/lib/settings/bin/
	cp -R templates static sql nginx apache $(DESTDIR)$(PREFIX)/share/settings/
	install -d $(DESTDIR)$(PREFIX)/share/settings/scripts
	install -m 0755 scripts/migrate.sh scripts/settings-purge $(DESTDIR)$(PREFIX)/share/settings/scripts/

clean:
	rm -rf $(B)
