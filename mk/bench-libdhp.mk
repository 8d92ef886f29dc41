# --- bench/libdhp-latency/: libdhp's delay from a change to the callback ----
# (docs/BENCHMARKS.md). One program, $(BUILD)/bench/libdhp-latency, from
# the files of its directory (bench/libdhp-latency/latency.h says which
# does what): not from a bench/*.c of its own, so the Makefile's generic
# rule leaves it alone, and it is added to `all` here. Its objects go to
# $(BUILD)/bench/libdhp-latency-objs/, since the program's own path cannot
# also be their directory (scripts/run-bench runs files only).
#
# Linked as a program links libdhp (build/libdhp.so, found through its
# rpath), with libudev, the reference it is compared to, and the protocol
# library for its own side of dhp-agent's channel (the library's copy is
# hidden: the two never meet). It runs build/dhp-agent (order-only: built
# first, not linked in). libdhp.mk is read after this file, so its names
# are spelled out here.
BENCH_UDEV_LIBS := $(shell pkg-config --libs libudev 2>/dev/null || echo -ludev)
BENCH_LATENCY   := $(BUILD)/bench/libdhp-latency
BENCH_LATENCY_SRCS := $(wildcard bench/libdhp-latency/*.c)
BENCH_LATENCY_OBJS := $(BENCH_LATENCY_SRCS:bench/libdhp-latency/%.c=$(BUILD)/bench/libdhp-latency-objs/%.o)

ifneq ($(BENCH_LATENCY_SRCS),)
all: $(BENCH_LATENCY)
endif

$(BENCH_LATENCY_OBJS): $(BUILD)/bench/libdhp-latency-objs/%.o: bench/libdhp-latency/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Iinclude -c $< -o $@

$(BENCH_LATENCY): $(BENCH_LATENCY_OBJS) $(PROTO_LIB) $(COMMON_LIB) \
		  | $(BUILD)/libdhp.so.0 $(BUILD)/libdhp.so $(AGENT)
	$(CC) $(ALL_LDFLAGS) $(filter %.o %.a,$^) -L$(BUILD) -ldhp -Wl,-rpath,'$$ORIGIN/..' \
		$(BENCH_UDEV_LIBS) $(PROTO_LIBS) -lm -o $@

-include $(BENCH_LATENCY_OBJS:.o=.d)
# --- end of bench/libdhp-latency/ ---------------------------------------------
