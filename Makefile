# dhp — build, tests and benchmarks. See README.md.
#
#   make                 build everything
#   make check           install missing Debian packages (as root), build, run all tests
#   SANITIZE=address,undefined make check    the same under ASan/UBSan
#   make bench           benchmarks (numbers and ratios, never pass/fail)
#   make demo            a scripted scenario on the simulated demo server
#   DEVELOPER=1          turns warnings into errors

CC      ?= cc
SANITIZE ?=
PKGS    := sqlite3 jansson
API_PKGS := jansson libmicrohttpd libuv gnutls
CTL_PKGS := libcurl jansson

ifeq ($(SANITIZE),)
BUILD   ?= build
SANFLAGS :=
else
BUILD   ?= build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
ifneq ($(DEVELOPER),)
WARN    += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(API_PKGS) $(CTL_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lsqlite3 -ljansson)
API_LIBS   := $(shell pkg-config --libs $(API_PKGS) 2>/dev/null)
CTL_LIBS   := $(shell pkg-config --libs $(CTL_PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -Isrc -Itests $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)
LIBS    := $(PKG_LIBS) -lm

# The core library: every layer below the programs. Dependencies point one
# way (common <- model <- core <- store, backends); scripts/check-layers
# enforces it.
LIB_SRCS := $(wildcard src/common/*.c src/model/*.c src/core/*.c src/store/*.c src/backend/sim/*.c \
		      src/backend/qemu/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libdhpcore.a

PROG_SRCS := $(wildcard src/tools/*.c)
PROGS     := $(PROG_SRCS:src/tools/%.c=$(BUILD)/%)

# The Redfish service (src/api) and the two programs built on it.
API_SRCS  := $(wildcard src/api/*.c src/api/resources/*.c)
API_OBJS  := $(API_SRCS:%.c=$(BUILD)/%.o)
API_LIB   := $(BUILD)/libdhpapi.a
DHPD_SRCS := $(wildcard src/dhpd/*.c)
DHPD_OBJS := $(DHPD_SRCS:%.c=$(BUILD)/%.o)
CTL_SRCS  := $(wildcard src/dhpctl/*.c)
CTL_OBJS  := $(CTL_SRCS:%.c=$(BUILD)/%.o)
PROGS     += $(if $(DHPD_SRCS),$(BUILD)/dhpd) $(if $(CTL_SRCS),$(BUILD)/dhpctl)

TEST_SRCS := $(wildcard tests/t[0-9]*.c)
TESTS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)

BENCH_SRCS := $(wildcard bench/*.c)
BENCHES    := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check deps bench demo clean
all: $(LIB) $(PROGS) $(TESTS) $(BENCHES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(API_LIB): $(API_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/dhpd: $(DHPD_OBJS) $(API_LIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(API_LIBS) $(LIBS) -o $@

$(BUILD)/dhpctl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) $^ $(CTL_LIBS) -o $@

$(BUILD)/%: $(BUILD)/src/tools/%.o $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# Tests link the API library too (unit tests of auth, JSON, ...).
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) $(if $(API_SRCS),$(API_LIB)) $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(if $(API_SRCS),$(API_LIBS)) $(LIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_HELPER_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-tests $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-bench $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all
	@$(BUILD)/dhp-sim --topology topologies/demo --state-dir $(BUILD)/demo-state --fresh demo

clean:
	rm -rf build build-san

-include $(LIB_OBJS:.o=.d) $(API_OBJS:.o=.d) $(DHPD_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(PROG_SRCS:%.c=$(BUILD)/%.d) $(TEST_SRCS:%.c=$(BUILD)/%.d) \
	$(TEST_HELPER_SRCS:%.c=$(BUILD)/%.d) $(BENCH_SRCS:%.c=$(BUILD)/%.d)
