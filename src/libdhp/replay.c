/* SPDX-License-Identifier: MIT */
/*
 * DHP_REGISTER_ADD_EXISTING: before dhp_register() returns, the new
 * callback is told add-complete (flagged EXISTING) for each processor
 * online now and each range of online memory, as Windows'
 * KE_PROCESSOR_CHANGE_ADD_EXISTING does, so that a program sets itself up
 * and follows changes through one code path. Memory is told in ranges of
 * consecutive online blocks of one node, not block by block: a large
 * server has half a million blocks.
 */
#include "libdhp/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replay {
	struct dhp *dhp;
	struct dhp_registration *reg;
};

static void tell(struct replay *rp, const struct dhp_proto_unit *unit)
{
	char reason[DHP_REASON_MAX];
	struct dhp_change change;

	libdhp_change_init(rp->dhp, DHP_PHASE_ADD_COMPLETE, unit, DHP_CHANGE_EXISTING, &change);
	libdhp_call(rp->reg, &change, reason, sizeof(reason));
}

static int cpu_range(void *ctx, uint32_t first, uint32_t last)
{
	struct replay *rp = ctx;
	struct dhp_proto_unit unit = { .kind = DHP_PROTO_UNIT_PROCESSOR };

	for (uint64_t cpu = first; cpu <= last; cpu++) {
		/* Unregistered by its own callback: no more. */
		if (rp->reg->dead)
			return 1;
		unit.cpu = (uint32_t)cpu;
		tell(rp, &unit);
	}
	return 0;
}

static void replay_processors(struct replay *rp)
{
	char *list = NULL;

	if (libdhp_sysfs_read_alloc(rp->dhp, "devices/system/cpu/online", 1024 * 1024, &list) < 0)
		return;
	libdhp_cpulist_ranges(list, cpu_range, rp);
	free(list);
}

static bool block_online(struct dhp *dhp, uint64_t block, int32_t *ret_node)
{
	char path[64], state[32];

	snprintf(path, sizeof(path), "devices/system/memory/memory%" PRIu64 "/state", block);
	if (libdhp_sysfs_read(dhp, path, state, sizeof(state)) < 0 || strcmp(state, "online"))
		return false;
	snprintf(path, sizeof(path), "devices/system/memory/memory%" PRIu64, block);
	*ret_node = libdhp_sysfs_node(dhp, path);
	return true;
}

static void replay_memory(struct replay *rp)
{
	struct dhp *dhp = rp->dhp;
	uint64_t *blocks = NULL, bs = dhp->block_size;
	struct dhp_proto_unit unit = { .kind = DHP_PROTO_UNIT_MEMORY };
	uint64_t run_first = 0, run_count = 0;
	int32_t run_node = -1, node;
	size_t n = 0;

	if (!bs || libdhp_sysfs_numbered(dhp, "devices/system/memory", "memory", &blocks, &n) < 0)
		return;
	/* One extra round (i == n) ends the last run. */
	for (size_t i = 0; i <= n && !rp->reg->dead; i++) {
		bool on = i < n && block_online(dhp, blocks[i], &node);

		if (run_count && on && blocks[i] == run_first + run_count && node == run_node) {
			run_count++;
			continue;
		}
		if (run_count) {
			unit.phys_addr = run_first * bs;
			unit.size = run_count * bs;
			tell(rp, &unit);
			run_count = 0;
		}
		if (on) {
			run_first = blocks[i];
			run_count = 1;
			run_node = node;
		}
	}
	free(blocks);
}

void libdhp_replay(struct dhp *dhp, struct dhp_registration *reg)
{
	struct replay rp = { dhp, reg };

	if (reg->kinds & DHP_KIND_PROCESSOR)
		replay_processors(&rp);
	if ((reg->kinds & DHP_KIND_MEMORY) && !reg->dead)
		replay_memory(&rp);
}
