# ti: one GNU make file. `make` builds every tool, `make check` runs every
# test, `make demo` runs the store/taxi scenario end to end.

CC      ?= cc
CFLAGS  ?= -std=c11 -O2 -Wall -Wextra -Wpedantic
override CFLAGS += -Werror -D_GNU_SOURCE -Ilib -MMD -MP
override LDFLAGS += -Wl,--as-needed
PKGS     = openssl libcurl libseccomp libmicrohttpd sqlite3 libcbor
PREFIX  ?= /usr/local
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man

ifeq ($(SANITIZE),1)
BUILD    = build/san
override CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer -g -O1
override LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
override CFLAGS += $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -ljq -lonig -lm

TOOLS    = $(notdir $(wildcard cmd/*))
BINS     = $(TOOLS:%=$(BUILD)/bin/%)
LIB_SRC  = $(wildcard lib/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard test/unit/*_test.c)
UNITS    = $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
HELPER_SRC = $(wildcard test/helpers/*.c)
HELPERS  = $(HELPER_SRC:test/helpers/%.c=$(BUILD)/test/helpers/%)
EX_SRC   = $(wildcard examples/*/*.c)
EXAMPLES = $(EX_SRC:%.c=$(BUILD)/%)
MANS     = $(patsubst %.scd,%,$(wildcard docs/*.[0-9].scd))

.PHONY: all check unit bats install clean deps demo bench fuzz man
.SECONDARY:
all: $(BINS) $(EXAMPLES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libti.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/cmd/%/main.o $(BUILD)/libti.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/%_test: $(BUILD)/test/unit/%_test.o $(BUILD)/libti.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/test/helpers/%: $(BUILD)/test/helpers/%.o $(BUILD)/libti.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/examples/%: $(BUILD)/examples/%.o $(BUILD)/libti.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test helpers (fake servers, hostile programs) are built separately
# from the tools; some hostile helpers are static so they run with no
# libraries visible inside a compartment.
$(BUILD)/test/helpers/static-%: test/helpers/static-%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -static -o $@ $<

# The exfiltration battery: hostile programs, one way out each, static
# so that a compartment runs them with no libraries in its root.
EXFIL_SRC = $(wildcard test/exfil/*.c)
EXFIL    = $(EXFIL_SRC:test/exfil/%.c=$(BUILD)/test/exfil/%)
$(BUILD)/test/exfil/%: test/exfil/%.c test/exfil/exfil.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -D_GNU_SOURCE -static -o $@ $<
check: $(EXFIL)

deps:
	@scripts/deps.sh

# `make check` runs every C unit test and every bats file and prints
# "N passed, N failed" as its last line; TESTS= narrows it.
check: deps all $(UNITS) $(HELPERS)
	@BUILD=$(BUILD) scripts/runtests.sh $(TESTS)

unit: $(UNITS)
	@BUILD=$(BUILD) scripts/runtests.sh unit

demo: deps all
	@BUILD=$(BUILD) examples/store-taxi/demo.sh

bench: deps all
	@BUILD=$(BUILD) bench/run-all.sh

man: $(MANS)
docs/%: docs/%.scd
	scdoc < $< > $@

install: all $(MANS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(MANS) $(DESTDIR)$(MANDIR)/man1

clean:
	rm -rf build $(MANS)

-include $(shell find build -name '*.d' 2>/dev/null)

# The age unit test inflates the zlib-compressed CCTV vectors.
$(BUILD)/test/age_test: LDLIBS += -lz

# The protocol test server checks client certificates through GnuTLS,
# the TLS library libmicrohttpd is built on.
$(BUILD)/test/helpers/tiserver: LDLIBS += -lgnutls

# `make fuzz FUZZ_SECONDS=N` builds every libFuzzer harness in test/fuzz
# and runs each for N seconds (default 30), two at a time.
fuzz:
	@FUZZ_SECONDS=$(or $(FUZZ_SECONDS),30) scripts/fuzz.sh
