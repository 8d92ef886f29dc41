# --- bench/libdhp-latency.c: libdhp's delay from a change to the callback ----
# (docs/BENCHMARKS.md). Linked as a program links libdhp (build/libdhp.so,
# found through its rpath), with libudev, the reference it is compared to,
# and the protocol library for its own side of dhp-agent's channel (the
# library's copy is hidden: the two never meet). It runs build/dhp-agent
# (order-only: built first, not linked in). libdhp.mk is read after this
# file, so its names are spelled out here.
BENCH_UDEV_LIBS := $(shell pkg-config --libs libudev 2>/dev/null || echo -ludev)

$(BUILD)/bench/libdhp-latency.o: ALL_CFLAGS += -Iinclude
$(BUILD)/bench/libdhp-latency: $(BUILD)/bench/libdhp-latency.o $(PROTO_LIB) \
			       $(BUILD)/src/common/error.o \
			       | $(BUILD)/libdhp.so.0 $(BUILD)/libdhp.so $(AGENT)
	$(CC) $(ALL_LDFLAGS) $(filter %.o %.a,$^) -L$(BUILD) -ldhp -Wl,-rpath,'$$ORIGIN/..' \
		$(BENCH_UDEV_LIBS) $(PROTO_LIBS) -lm -o $@
