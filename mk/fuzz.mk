# --- fuzzing: tests/fuzz/, tests/README.md (Fuzzing) --------------------------
# One harness per parser that takes outside input, tests/fuzz/NAME.c, each
# defining LLVMFuzzerTestOneInput (tests/fuzz/fuzz.h); its seed and
# regression corpus is the folder tests/fuzz/NAME/.
#
# In every build (build/, build-san/) each harness is linked with the
# replay driver (tests/fuzz/replay.c) by $(CC) into $(BUILD)/fuzz/NAME,
# which tests/t0660-fuzz-corpora.py runs over its corpus: no clang needed.
#
# `make fuzz` builds them again with clang and libFuzzer, under ASan and
# UBSan, in build-fuzz/ (objects of its own: every layer's sources
# compiled with -fsanitize=fuzzer-no-link, into one archive), then runs
# each for FUZZ_S seconds (scripts/run-fuzz): new inputs go to
# build-fuzz/corpus/NAME/, crashes and leaks to build-fuzz/artifacts/NAME/,
# never into tests/fuzz/. FUZZ_NAMES picks harnesses (default: all).
FUZZ_SRCS  := $(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/*.c))
FUZZ_ALL   := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_NAMES ?= $(FUZZ_ALL)
FUZZ_S     ?= 60

# dhpctl's parsers: its objects are in no layer library, so the harnesses
# take the files they test (and find dhpctl's local headers).
fuzz_dhpctl-sse_SRCS    := src/dhpctl/sse-parse.c
fuzz_dhpctl-config_SRCS := src/dhpctl/config-file.c
fuzz_json-diff_SRCS     := tests/etag-ref.c
FUZZ_DHPCTL_CFLAGS      := -Isrc/dhpctl

# --- the replay programs, in $(BUILD) -----------------------------------------
FUZZ_REPLAYS := $(FUZZ_ALL:%=$(BUILD)/fuzz/%)
all: $(FUZZ_REPLAYS)

$(BUILD)/tests/fuzz/dhpctl-%.o: TEST_CFLAGS += $(FUZZ_DHPCTL_CFLAGS)

define fuzz_replay_rule
$(BUILD)/fuzz/$(1): $(BUILD)/tests/fuzz/$(1).o $(BUILD)/tests/fuzz/replay.o \
		    $(fuzz_$(1)_SRCS:%.c=$(BUILD)/%.o) $(LAYER_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_LDFLAGS) $$(filter %.o,$$^) $$(LINK_LAYERS) $$(LIBS) -o $$@
endef
$(foreach h,$(FUZZ_ALL),$(eval $(call fuzz_replay_rule,$(h))))

-include $(FUZZ_SRCS:%.c=$(BUILD)/%.d) $(BUILD)/tests/fuzz/replay.d

# --- libFuzzer: build-fuzz/ ---------------------------------------------------
FUZZ_BUILD := build-fuzz
FUZZ_CC    := clang
FUZZ_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	       -Isrc -Itests $(call pkg_cflags,$(GUARDED_PKGS)) -MMD -MP
FUZZ_LAYER_SRCS := $(foreach l,$(LAYERS),$($(l)_SRCS))
FUZZ_LIB   := $(FUZZ_BUILD)/lib/libdhp-fuzz.a
FUZZ_BINS  := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/%)

.PHONY: fuzz fuzz-build
fuzz:
	@scripts/install-deps fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_S) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/tests/fuzz/dhpctl-%.o: FUZZ_CFLAGS += $(FUZZ_DHPCTL_CFLAGS)

# All layers in one archive: the linker takes what each harness uses.
$(FUZZ_LIB): $(FUZZ_LAYER_SRCS:%.c=$(FUZZ_BUILD)/%.o)
	@rm -f $@ && mkdir -p $(dir $@)
	@$(AR) rcs $@ $^

define fuzz_rule
$(FUZZ_BUILD)/$(1): $(FUZZ_BUILD)/tests/fuzz/$(1).o $(fuzz_$(1)_SRCS:%.c=$(FUZZ_BUILD)/%.o) \
		    $(FUZZ_LIB)
	$$(FUZZ_CC) $$(FUZZ_SAN) -fsanitize=fuzzer $$^ $$(LIBS) -o $$@
endef
$(foreach h,$(FUZZ_ALL),$(eval $(call fuzz_rule,$(h))))

-include $(wildcard $(FUZZ_BUILD)/src/*/*.d $(FUZZ_BUILD)/src/*/*/*.d \
		    $(FUZZ_BUILD)/src/*/*/*/*.d $(FUZZ_BUILD)/tests/fuzz/*.d)
# --- end of fuzzing -------------------------------------------------------------
