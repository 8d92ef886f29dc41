# Programs for inside a partition that the guest tests use (tests/guest/*.c,
# e.g. dhp-pin-memory for tests/t1430-qemu-faults.py): linked statically
# (the guest image has no C library) into $(BUILD)/guest-tools/dhp-<name>,
# which guest/build-image copies into the image's /usr/bin, as it does the
# benchmarks' (mk/bench-guest.mk). Never sanitized: they run in a guest.
TEST_GUEST_SRCS   := $(wildcard tests/guest/*.c)
TEST_GUEST_TOOLS  := $(TEST_GUEST_SRCS:tests/guest/%.c=$(BUILD)/guest-tools/dhp-%)
TEST_GUEST_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -O2 -static -s

all: $(TEST_GUEST_TOOLS)

$(BUILD)/guest-tools/dhp-%: tests/guest/%.c mk/test-guest.mk
	@mkdir -p $(dir $@)
	$(CC) $(TEST_GUEST_CFLAGS) $< -o $@

# The image is remade when one changes.
$(GUEST)/initrd.gz: $(TEST_GUEST_TOOLS)
