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

# One program, one directory: src/dhp-sim/*.c link into $(BUILD)/dhp-sim.
SIM_SRCS  := $(wildcard src/dhp-sim/*.c)
SIM_OBJS  := $(SIM_SRCS:%.c=$(BUILD)/%.o)
PROGS     := $(if $(SIM_SRCS),$(BUILD)/dhp-sim)

# The Redfish service (src/http, src/auth, src/redfish) and the two programs built on it.
API_SRCS  := $(wildcard src/http/*.c src/auth/*.c src/redfish/*.c src/redfish/resources/*.c)
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

.PHONY: all check deps bench demo demo-sim clean
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

$(BUILD)/dhp-sim: $(SIM_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# Tests link the API library too (unit tests of auth, JSON, ...).
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) $(if $(API_SRCS),$(API_LIB)) $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(if $(API_SRCS),$(API_LIBS)) $(LIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_HELPER_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

# --- agent protocol and dhp-agent (src/proto, src/agent) --------------------
# libdhpproto.a is the agent protocol (docs/agent-protocol.md), shared by
# dhpd, dhp-agent and libdhp. dhp-agent runs in a guest that has nothing but
# busybox, so it is linked statically, jansson included (Debian's
# libjansson-dev ships libjansson.a; src/proto/internal.h says why jansson).
# It depends on common/error.o, common/fd.o and the protocol only, never the
# core.
# ASan/UBSan runtimes cannot be linked statically: a sanitizer build links
# the agent dynamically (it then runs on the build host only, as tests do).
PROTO_SRCS := $(wildcard src/proto/*.c)
PROTO_OBJS := $(PROTO_SRCS:%.c=$(BUILD)/%.o)
PROTO_LIB  := $(BUILD)/libdhpproto.a
PROTO_LIBS := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
AGENT_SRCS := $(wildcard src/agent/*.c)
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/%.o)
AGENT      := $(BUILD)/dhp-agent
ifeq ($(SANITIZE),)
AGENT_LDFLAGS := -static
AGENT_LIBS    := -l:libjansson.a
else
AGENT_LDFLAGS :=
AGENT_LIBS    := $(PROTO_LIBS)
endif

all: $(PROTO_LIB) $(AGENT)

$(PROTO_LIB): $(PROTO_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(AGENT): $(AGENT_OBJS) $(PROTO_LIB) $(BUILD)/src/common/error.o $(BUILD)/src/common/fd.o
	$(CC) $(ALL_LDFLAGS) $(AGENT_LDFLAGS) $^ $(AGENT_LIBS) -o $@

# t1100 links the protocol library (not the API's) and runs the agent
# (order-only: built first, not linked in).
$(BUILD)/tests/t1100-proto: $(BUILD)/tests/t1100-proto.o $(TEST_HELPER_OBJS) $(PROTO_LIB) $(LIB) \
			    | $(AGENT)
	$(CC) $(ALL_LDFLAGS) $^ $(PROTO_LIBS) $(LIBS) -o $@

-include $(PROTO_OBJS:.o=.d) $(AGENT_OBJS:.o=.d)
# --- end of agent protocol and dhp-agent ------------------------------------

# --- QEMU backend (src/backend/qemu, docs/qemu.md) --------------------------
# It speaks the agent protocol: what links it (dhpd, t1300) links
# libdhpproto.a after libdhpcore.a. Programs that do not use it (dhp-sim,
# the other tests) never pull its objects out of the archive.
$(BUILD)/dhpd: $(PROTO_LIB)
QEMU_TESTS := $(BUILD)/tests/t1300-qemu $(BUILD)/tests/t1310-qemu-guest
$(QEMU_TESTS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) \
			   $(if $(API_SRCS),$(API_LIB)) $(LIB) $(PROTO_LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(if $(API_SRCS),$(API_LIBS)) $(PROTO_LIBS) $(LIBS) -o $@
# --- end of QEMU backend ------------------------------------------------------

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-tests $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/run-bench $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all guest
	@scripts/demo $(BUILD)

# The engine alone, in-process, on the simulated server (no daemon).
demo-sim: all
	@$(BUILD)/dhp-sim --topology topologies/demo --state-dir $(BUILD)/demo-sim-state --fresh demo

clean:
	rm -rf build build-san

-include $(LIB_OBJS:.o=.d) $(API_OBJS:.o=.d) $(DHPD_OBJS:.o=.d) $(CTL_OBJS:.o=.d) $(SIM_OBJS:.o=.d) $(TEST_SRCS:%.c=$(BUILD)/%.d) \
	$(TEST_HELPER_SRCS:%.c=$(BUILD)/%.d) $(BENCH_SRCS:%.c=$(BUILD)/%.d)

# --- guest image: guest/, docs/guest.md --------------------------------------
# `make guest` builds $(BUILD)/guest/{vmlinuz,initrd.gz,MANIFEST} from Debian
# packages. initrd.gz is remade only when an input changes: guest/*, busybox,
# dhp-agent (built first when src/agent/ exists), the example programs, or
# the kernel package apt would fetch (kernel.want: guest/kernel-want runs
# every time and rewrites it only when that version changes). make check
# builds it for tests/t1000-guest.py.
GUEST       := $(BUILD)/guest
GUEST_AGENT := $(if $(wildcard src/agent/*.c),$(BUILD)/dhp-agent)
.PHONY: guest guest-always
guest: $(GUEST)/initrd.gz
$(GUEST)/initrd.gz: $(wildcard guest/*) $(GUEST)/kernel.want $(GUEST_AGENT) \
		    $(wildcard $(BUILD)/examples/* /bin/busybox)
	@guest/build-image $(BUILD)
$(GUEST)/kernel.want: guest-always
	@guest/kernel-want $@
check: guest
# --- end of guest image ------------------------------------------------------

# Each part with its own rules keeps them in mk/<part>.mk (libdhp, examples,
# benchmarks of the guest tier), so that parts change without touching this file.
-include $(sort $(wildcard mk/*.mk))
