/* SPDX-License-Identifier: MIT */
/*
 * Kernel uevent datagrams ("ACTION@DEVPATH\0KEY=VALUE\0..."), as
 * dhp-agent relays them and libdhp's fallback reads them:
 * dhp_proto_uevent_parse() (src/proto/uevent.c), with the block size the
 * input's first byte picks; and the cpulists a guest reports
 * (dhp_cpulist_parse, then dhp_cpulist_format of what it read, which must
 * parse back to the same set).
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "proto/guest.h"
#include "proto/proto.h"

static void cpulist(const char *text)
{
	static bool set[DHP_CPULIST_CPUS], again[DHP_CPULIST_CPUS];
	static char buf[8 * DHP_CPULIST_CPUS];

	if (dhp_cpulist_parse(text, set, DHP_CPULIST_CPUS) < 0)
		return;
	FUZZ_CHECK(dhp_cpulist_format(set, DHP_CPULIST_CPUS, buf, sizeof(buf)) == 0);
	FUZZ_CHECK(dhp_cpulist_parse(buf, again, DHP_CPULIST_CPUS) == 0);
	FUZZ_CHECK(!memcmp(set, again, sizeof(set)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t block_sizes[] = { 0, 1, 128ull << 20, 1ull << 63, UINT64_MAX };
	struct dhp_proto_event ev;
	char *text;
	int r;

	if (!size)
		return 0;
	r = dhp_proto_uevent_parse((const char *)data + 1, size - 1,
				   block_sizes[data[0] % (sizeof(block_sizes) / sizeof(block_sizes[0]))],
				   &ev);
	FUZZ_CHECK(r == 0 || r == -ENOENT || r == -EINVAL);
	if (r == 0) {
		FUZZ_CHECK(ev.has_unit && (unsigned)ev.kind < DHP_PROTO_EVENT_ERROR);
		FUZZ_CHECK((unsigned)ev.unit.kind < DHP_PROTO_UNIT_KIND_MAX);
		if (ev.unit.kind == DHP_PROTO_UNIT_IO_HOST_BRIDGE)
			FUZZ_CHECK(dhp_proto_slot_valid(ev.unit.slot));
	}
	/* The same bytes as a cpulist (a C string: up to the first NUL). */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	cpulist(text);
	free(text);
	return 0;
}
