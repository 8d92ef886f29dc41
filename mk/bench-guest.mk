# Benchmarks of the guest tier (bench/qemu-ops.py, docs/BENCHMARKS.md).
#
# bench/guest/*.c are programs for inside a partition: each is linked
# statically (the guest image has no C library) into
# $(BUILD)/guest-tools/dhp-<name>, and guest/build-image copies every file
# of $(BUILD)/guest-tools into the image's /usr/bin. Never sanitized: the
# sanitizers' runtimes cannot be linked statically, and what they run in
# is a guest, not the build host.
GUEST_TOOL_SRCS := $(wildcard bench/guest/*.c)
GUEST_TOOLS     := $(GUEST_TOOL_SRCS:bench/guest/%.c=$(BUILD)/guest-tools/dhp-%)
GUEST_TOOL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -O2 -static -s

all: $(GUEST_TOOLS)

$(BUILD)/guest-tools/dhp-%: bench/guest/%.c mk/bench-guest.mk
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_TOOL_CFLAGS) $< -o $@

# The image is remade when a tool changes or a new one comes.
$(GUEST)/initrd.gz: $(GUEST_TOOLS)

# make bench measures real partitions with the image as it is now: bring it
# up to date first, but a failed image build (no QEMU work possible, apt
# unreachable) only skips that benchmark, never the others.
.PHONY: bench-guest-image
bench: bench-guest-image
bench-guest-image: deps
	-@$(MAKE) --no-print-directory guest
