# dhp — build, tests and benchmarks. See README.md.
#
#   make                 build everything
#   make check           install missing Debian packages (as root), build, run all tests
#   SANITIZE=address,undefined make check    the same under ASan/UBSan
#   make bench           benchmarks (numbers and ratios, never pass/fail)
#   make demo            a scripted scenario on the simulated demo server
#   DEVELOPER=1          turns warnings into errors

CC      ?= cc
.DEFAULT_GOAL := all
SANITIZE ?=

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
CFLAGS  ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

# --- layers (docs/layers.md) ---------------------------------------------------
# Each layer is a folder of src/ built into a static library of its own,
# compiled with only the include paths and package flags it may use:
# $(BUILD)/include/LAYER/ holds a link to each folder the layer may include
# (so "core/core.h" is found only where core/ is allowed) and, for each
# library it may not use, a header of that library's name that is an
# #error. A wrong include fails to compile (tests/t0015-layers.py shows it);
# scripts/check-layers stays as the backstop (it also reads the tests,
# examples and installed headers, and bans other folders' internal headers).
#
#   NAME_DIR   its folder under src/ (as code includes it: "backend/sim/sim.h")
#   NAME_USES  the layers it may include, besides itself
#   NAME_PKGS  the libraries (pkg-config names) it may use
#
# Dependencies point one way: common <- model <- core <- {store, backends};
# common <- proto <- backend-qemu; common <- {http, auth} <- redfish <- dhpd;
# common <- push <- dhpd (libcurl: only dhpd links it, besides dhpctl).
LAYERS := common model core store backend-sim backend-qemu proto http auth redfish push
common_DIR := common
model_DIR  := model
model_USES := common
core_DIR   := core
core_USES  := common model
store_DIR  := store
store_USES := common model core
store_PKGS := sqlite3
backend-sim_DIR  := backend/sim
backend-sim_USES := common model core
backend-qemu_DIR  := backend/qemu
backend-qemu_USES := common model core proto
backend-qemu_PKGS := jansson
proto_DIR  := proto
proto_USES := common
proto_PKGS := jansson
http_DIR   := http
http_USES  := common
http_PKGS  := libmicrohttpd gnutls jansson
auth_DIR   := auth
auth_USES  := common
auth_PKGS  := gnutls jansson
redfish_DIR  := redfish
redfish_USES := common model core http auth
redfish_PKGS := jansson
push_DIR     := push
push_USES    := common
push_PKGS    := libcurl

# Programs and libraries above the layers get the same treatment.
PROGRAMS := dhpd dhpctl agent libdhp dhp-sim
dhpd_DIR  := dhpd
dhpd_USES := common model core store backend-sim backend-qemu proto http auth redfish push
dhpd_PKGS := sqlite3 jansson libuv gnutls libcurl
dhpctl_DIR  := dhpctl
dhpctl_PKGS := libcurl jansson
agent_DIR  := agent
agent_USES := common proto
libdhp_DIR  := libdhp
libdhp_USES := common proto
dhp-sim_DIR  := dhp-sim
dhp-sim_USES := common model core store backend-sim

# The libraries a layer may be refused, and their headers.
GUARDED_PKGS := sqlite3 jansson libmicrohttpd libuv gnutls libcurl
sqlite3_HEADERS       := sqlite3.h
jansson_HEADERS       := jansson.h
libmicrohttpd_HEADERS := microhttpd.h
libuv_HEADERS         := uv.h
gnutls_HEADERS        := gnutls/gnutls.h gnutls/crypto.h gnutls/x509.h gnutls/abstract.h
libcurl_HEADERS       := curl/curl.h

pkg_cflags = $(if $(1),$(shell pkg-config --cflags $(1) 2>/dev/null))
pkg_libs   = $(if $(1),$(shell pkg-config --libs $(1) 2>/dev/null))
layer_lib  = $(BUILD)/lib/libdhp-$(1).a

# $(call layer_rules,NAME): NAME's sources, its include farm, and the flags
# of its objects ($(BUILD)/src/DIR/, and $(BUILD)/pic/src/DIR/ for
# libdhp's position independent copies). One level of subfolders belongs
# to the layer (src/redfish/resources/).
define layer_rules
$(1)_INC := $(BUILD)/include/$(1)
$(1)_CFLAGS := -I$$($(1)_INC) $$(call pkg_cflags,$$($(1)_PKGS))
$(1)_SRCS := $$(wildcard src/$$($(1)_DIR)/*.c src/$$($(1)_DIR)/*/*.c)
$(1)_OBJS := $$($(1)_SRCS:%.c=$(BUILD)/%.o)
$$($(1)_INC)/.made: Makefile
	@rm -rf $$($(1)_INC) && mkdir -p $$($(1)_INC)
	@for dir in $$(foreach u,$(1) $$($(1)_USES),$$($$(u)_DIR)); do \
		mkdir -p $$($(1)_INC)/$$$$(dirname $$$$dir); \
		ln -s $(CURDIR)/src/$$$$dir $$($(1)_INC)/$$$$dir; done
	@for h in $$(foreach p,$$(filter-out $$($(1)_PKGS),$(GUARDED_PKGS)),$$($$(p)_HEADERS)); do \
		mkdir -p $$($(1)_INC)/$$$$(dirname $$$$h); \
		echo "#error \"src/$$($(1)_DIR) may not use <$$$$h> (Makefile: $(1)_PKGS)\"" \
			>$$($(1)_INC)/$$$$h; done
	@touch $$@
$$($(1)_OBJS) $$($(1)_SRCS:%.c=$(BUILD)/pic/%.o): | $$($(1)_INC)/.made
$(BUILD)/src/$$($(1)_DIR)/%.o $(BUILD)/pic/src/$$($(1)_DIR)/%.o: LAYER_CFLAGS = $$($(1)_CFLAGS)
$(BUILD)/src/$$($(1)_DIR)/%.o $(BUILD)/pic/src/$$($(1)_DIR)/%.o: TEST_CFLAGS =
endef
$(foreach l,$(LAYERS) $(PROGRAMS),$(eval $(call layer_rules,$(l))))

# Everything else compiled here (tests, benchmarks) may include any layer.
LAYER_CFLAGS = -Isrc
TEST_CFLAGS = -Itests $(call pkg_cflags,$(GUARDED_PKGS))
ALL_CFLAGS = $(BASE_CFLAGS) $(LAYER_CFLAGS) $(TEST_CFLAGS) $(OBJ_DEFS)

# --- the layers' libraries -----------------------------------------------------
LAYER_LIBS := $(foreach l,$(LAYERS),$(call layer_lib,$(l)))
# Linked as a group: which layer may call which is the include rules'
# concern, not the link order's (the core calls the store it declares).
LINK_LAYERS := -Wl,--start-group $(LAYER_LIBS) -Wl,--end-group
LIBS := $(call pkg_libs,$(filter-out libcurl,$(GUARDED_PKGS))) -lm

$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l)): $($(l)_OBJS) ; \
	@rm -f $$@ && mkdir -p $$(dir $$@) && $$(AR) rcs $$@ $$^))

# Kept for the rules of mk/*.mk: every layer; the protocol; common.
LIB        := $(LAYER_LIBS)
PROTO_LIB  := $(call layer_lib,proto)
COMMON_LIB := $(call layer_lib,common)
PROTO_LIBS := $(call pkg_libs,jansson)

DHPD_OBJS := $(dhpd_OBJS)
CTL_OBJS  := $(dhpctl_OBJS)
SIM_OBJS  := $(dhp-sim_OBJS)
PROGS     := $(BUILD)/dhpd $(BUILD)/dhpctl $(BUILD)/dhp-sim

# The web console's files (console/, docs/console.md): dhpd serves the
# folder CONSOLE_DIR names unless --console-dir says another. By default the
# source tree's, so that a dhpd of the build tree serves the console as it is
# edited; an install (make install) copies them to $(CONSOLE_INSTALL_DIR).
CONSOLE_DIR ?= $(CURDIR)/console
$(BUILD)/src/dhpd/options.o $(BUILD)/src/dhpd/main.o: OBJ_DEFS = -DDHPD_CONSOLE_DIR='"$(CONSOLE_DIR)"'

TEST_SRCS := $(wildcard tests/t[0-9]*.c)
TESTS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/*.c))
TEST_HELPER_OBJS := $(TEST_HELPER_SRCS:%.c=$(BUILD)/%.o)

BENCH_SRCS := $(wildcard bench/*.c)
BENCHES    := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all check deps bench demo demo-sim clean
# Objects are kept, not removed as intermediates of the test programs.
.SECONDARY:
all: $(LAYER_LIBS) $(PROGS) $(TESTS) $(BENCHES)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# The layer table (scripts/check-layers) and with each layer's compile
# flags (tests/t0015-layers.py): NAME|DIR|USES|PKGS[|CFLAGS], a line each.
.PHONY: print-layers print-layer-table
print-layer-table:
	@$(foreach l,$(LAYERS) $(PROGRAMS),echo '$(l)|$($(l)_DIR)|$($(l)_USES)|$($(l)_PKGS)';)
print-layers: $(foreach l,$(LAYERS) $(PROGRAMS),$($(l)_INC)/.made)
	@$(foreach l,$(LAYERS) $(PROGRAMS),echo '$(l)|$($(l)_DIR)|$($(l)_USES)|$($(l)_PKGS)|$(BASE_CFLAGS) $($(l)_CFLAGS)';)

$(BUILD)/dhpd: $(DHPD_OBJS) $(LAYER_LIBS)
	$(CC) $(ALL_LDFLAGS) $(DHPD_OBJS) $(LINK_LAYERS) $(LIBS) $(call pkg_libs,libcurl) -o $@

$(BUILD)/dhpctl: $(CTL_OBJS)
	$(CC) $(ALL_LDFLAGS) $^ $(call pkg_libs,$(dhpctl_PKGS)) -o $@

$(BUILD)/dhp-sim: $(SIM_OBJS) $(LAYER_LIBS)
	$(CC) $(ALL_LDFLAGS) $(SIM_OBJS) $(LINK_LAYERS) $(LIBS) -o $@

# Tests and benchmarks link every layer; the linker takes what they use.
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPER_OBJS) $(LAYER_LIBS)
	$(CC) $(ALL_LDFLAGS) $(filter %.o,$^) $(LINK_LAYERS) $(LIBS) -o $@

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_HELPER_OBJS) $(LAYER_LIBS)
	$(CC) $(ALL_LDFLAGS) $(filter %.o,$^) $(LINK_LAYERS) $(LIBS) -o $@

# --- dhp-agent (src/agent; its protocol is the proto layer) ---------------------
# dhp-agent runs in a guest that has nothing but busybox, so it is linked
# statically, jansson included (Debian's libjansson-dev ships libjansson.a;
# src/proto/internal.h says why jansson). It links the common and proto
# layers only, never the core. ASan/UBSan runtimes cannot be linked
# statically: a sanitizer build links the agent dynamically (it then runs on
# the build host only, as tests do).
PROTO_SRCS := $(proto_SRCS)
AGENT_SRCS := $(agent_SRCS)
AGENT_OBJS := $(agent_OBJS)
AGENT      := $(BUILD)/dhp-agent
ifeq ($(SANITIZE),)
AGENT_LDFLAGS := -static
AGENT_LIBS    := -l:libjansson.a
else
AGENT_LDFLAGS :=
AGENT_LIBS    := $(PROTO_LIBS)
endif

all: $(AGENT)

$(AGENT): $(AGENT_OBJS) $(PROTO_LIB) $(COMMON_LIB)
	$(CC) $(ALL_LDFLAGS) $(AGENT_LDFLAGS) $^ $(AGENT_LIBS) -o $@

# t1100 and t1150 run the agent (order-only: built first, not linked in).
$(BUILD)/tests/t1100-proto $(BUILD)/tests/t1150-agent-apps: | $(AGENT)
# --- end of dhp-agent -------------------------------------------------------------

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
	rm -rf build build-san build-fuzz

-include $(foreach l,$(LAYERS) $(PROGRAMS),$($(l)_OBJS:.o=.d)) $(TEST_SRCS:%.c=$(BUILD)/%.d) \
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
