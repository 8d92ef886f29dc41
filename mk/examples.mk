# --- libdhp's examples: examples/*.c, docs/examples.md ------------------------
# Each example is one file, built the way a program outside dhp would build
# against libdhp: the public header (-Iinclude, nothing of src/) and the
# shared library (-ldhp), with no -D_GNU_SOURCE from us (they say what they
# need). An rpath of $ORIGIN/.. finds $(BUILD)/libdhp.so.0 from
# $(BUILD)/examples on the host; in the guest, where guest/build-image puts
# the library in /usr/lib, the default search path does.
#
# mk/*.mk are read in name order, so this file comes before libdhp.mk: its
# variables are not set yet here, hence the literal library paths.
EXAMPLE_SRCS    := $(wildcard examples/*.c)
EXAMPLES        := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
EXAMPLE_CFLAGS  := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude -pthread
EXAMPLE_LDFLAGS := $(ALL_LDFLAGS) -L$(BUILD) -Wl,-rpath,'$$ORIGIN/..'

ifneq ($(wildcard src/libdhp/*.c),)
all: $(EXAMPLES)

$(BUILD)/examples/%: examples/%.c include/dhp/dhp.h mk/examples.mk | $(BUILD)/libdhp.so \
		     $(BUILD)/libdhp.so.0
	@mkdir -p $(dir $@)
	$(CC) $(EXAMPLE_CFLAGS) $< $(EXAMPLE_LDFLAGS) -ldhp -pthread -o $@

# The guest image carries the examples and the libdhp.so.0 they load
# (guest/build-image copies what ldd names): remake it when either changes.
$(GUEST)/initrd.gz: $(EXAMPLES) $(BUILD)/libdhp.so.0
endif
# --- end of libdhp's examples ---------------------------------------------------
