/* SPDX-License-Identifier: MIT */
/* Bringing units online and taking them offline through sysfs. Every
 * request is idempotent (dhpd's rollback and recovery repeat them), and a
 * memory module of several blocks goes all or nothing: the blocks done
 * are undone, in reverse, when one fails. */
#include "agent/agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A module this large (in blocks) is a mistake of the caller's. */
#define BLOCKS_MAX (1u << 20)

__attribute__((format(printf, 3, 4)))
static int fail(struct dhp_proto_reply *reply, int code, const char *fmt, ...)
{
	va_list ap;

	reply->result = DHP_PROTO_ERROR;
	reply->code = code;
	va_start(ap, fmt);
	vsnprintf(reply->reason, sizeof(reply->reason), fmt, ap);
	va_end(ap);
	return code;
}

static int cpu_set(const struct agent *a, uint32_t cpu, bool on,
		    struct dhp_proto_reply *reply)
{
	char dir[64], path[80], val[8];
	int r;

	snprintf(dir, sizeof(dir), "devices/system/cpu/cpu%u", cpu);
	snprintf(path, sizeof(path), "%s/online", dir);
	if (sysfs_settle(a, dir) < 0)
		return fail(reply, -ENOENT, "no cpu%u in sysfs: is the processor attached?", cpu);
	if (!sysfs_exists(a, path)) {
		/* Always online (cpu0, or a kernel without CPU hotplug). */
		if (on)
			return 0;
		return fail(reply, -EOPNOTSUPP, "cpu%u cannot be taken offline", cpu);
	}
	if (sysfs_read(a, path, val, sizeof(val)) == 0 && val[0] == (on ? '1' : '0'))
		return 0;
	r = sysfs_write(a, path, on ? "1" : "0");
	if (r < 0)
		return fail(reply, r, "cpu%u could not be brought %s: %s", cpu,
			    on ? "online" : "offline", strerror(-r));
	return 0;
}

/* Write one block's state; *ret_changed says whether it was not already
 * there (then the undo must change it back). */
static int block_set(const struct agent *a, uint64_t index, bool on, bool movable,
		     bool *ret_changed)
{
	char dir[64], path[80], val[32];
	int r;

	snprintf(dir, sizeof(dir), "devices/system/memory/memory%llu",
		 (unsigned long long)index);
	snprintf(path, sizeof(path), "%s/state", dir);
	*ret_changed = false;
	if ((r = sysfs_settle(a, dir)) < 0)
		return r;
	if (sysfs_read(a, path, val, sizeof(val)) == 0 &&
	    !strcmp(val, on ? "online" : "offline"))
		return 0;
	/* Movable, so that the block can be taken offline again. */
	r = on ? sysfs_write(a, path, movable ? "online_movable" : "online_kernel")
	       : sysfs_write_limited(a, path, "offline", a->cfg.offline_ms);
	*ret_changed = r == 0;
	return r;
}

/* Was the block in the Movable zone? Asked before offlining it, so that
 * an undo puts it back where it was. */
static bool block_movable(const struct agent *a, uint64_t index)
{
	char path[96], val[64];

	snprintf(path, sizeof(path), "devices/system/memory/memory%llu/valid_zones",
		 (unsigned long long)index);
	return sysfs_read(a, path, val, sizeof(val)) < 0 || !strcmp(val, "Movable");
}

/* What the request did to each block, for the undo. */
#define DID_CHANGE 1
#define WAS_MOVABLE 2

static int memory_set(const struct agent *a, const struct dhp_proto_unit *unit, bool on,
		       struct dhp_proto_reply *reply)
{
	uint64_t bs = sysfs_block_size(a), first, count, i;
	unsigned char *did;
	bool changed;
	int r = 0;

	if (!bs)
		return fail(reply, -EOPNOTSUPP, "this kernel has no memory hotplug");
	if (unit->phys_addr % bs || unit->size % bs || unit->size / bs > BLOCKS_MAX)
		return fail(reply, -EINVAL,
			    "memory at 0x%llx of %llu bytes is not whole blocks of %llu bytes",
			    (unsigned long long)unit->phys_addr, (unsigned long long)unit->size,
			    (unsigned long long)bs);
	first = unit->phys_addr / bs;
	count = unit->size / bs;
	did = calloc(count, 1);
	if (!did)
		return fail(reply, -ENOMEM, "out of memory");
	for (i = 0; i < count; i++) {
		if (on || block_movable(a, first + i))
			did[i] |= WAS_MOVABLE;
		/* Movable, so that the block can be taken offline again. */
		r = block_set(a, first + i, on, true, &changed);
		if (r < 0)
			break;
		if (changed)
			did[i] |= DID_CHANGE;
	}
	if (r == -ENOENT)
		fail(reply, r, "no memory block %llu in sysfs: is the module at 0x%llx attached?",
		     (unsigned long long)(first + i), (unsigned long long)unit->phys_addr);
	else if (r == -ETIMEDOUT)
		/* EBUSY, as the kernel says when it gives up by itself: the
		 * kernel refused, it is no fault of the channel. */
		fail(reply, -EBUSY, "memory block %llu could not be brought offline in %u ms: "
		     "its pages could not be migrated (pinned by a driver or a program?)",
		     (unsigned long long)(first + i), a->cfg.offline_ms);
	else if (r < 0)
		fail(reply, r, "memory block %llu could not be brought %s: %s%s",
		     (unsigned long long)(first + i), on ? "online" : "offline", strerror(-r),
		     !on && (r == -EBUSY || r == -EAGAIN) ? " (its pages could not be migrated)"
							  : "");
	/* All or nothing: undo, in reverse, what this request changed, and
	 * only that (blocks already in the wanted state were not ours). */
	while (r < 0 && i-- > 0) {
		if (did[i] & DID_CHANGE)
			block_set(a, first + i, !on, did[i] & WAS_MOVABLE, &changed);
	}
	free(did);
	return r;
}

static int bus_set(const struct agent *a, const struct dhp_proto_unit *unit, bool on,
		    struct dhp_proto_reply *reply)
{
	char path[96];
	int r;

	/* Online: the kernel finds what arrived behind a hot-plugged port. */
	if (on) {
		r = sysfs_write(a, "bus/pci/rescan", "1");
		if (r < 0)
			return fail(reply, r, "the PCI bus could not be rescanned: %s",
				    strerror(-r));
		return 0;
	}
	if (!unit->slot[0])
		return fail(reply, -EINVAL, "taking an io-host-bridge offline needs its slot");
	snprintf(path, sizeof(path), "bus/pci/devices/%s/remove", unit->slot);
	/* Gone already is done (idempotent). */
	if (!sysfs_exists(a, path))
		return 0;
	r = sysfs_write(a, path, "1");
	if (r < 0)
		return fail(reply, r, "PCI function %s could not be removed: %s", unit->slot,
			    strerror(-r));
	return 0;
}

static int unit_set(const struct agent *a, const struct dhp_proto_unit *unit, bool on,
		     struct dhp_proto_reply *reply)
{
	reply->result = DHP_PROTO_OK;
	switch (unit->kind) {
	case DHP_PROTO_UNIT_PROCESSOR:
		return cpu_set(a, unit->cpu, on, reply);
	case DHP_PROTO_UNIT_MEMORY:
		return memory_set(a, unit, on, reply);
	default:
		return bus_set(a, unit, on, reply);
	}
}

void agent_online(const struct agent *a, const struct dhp_proto_unit *unit,
		  struct dhp_proto_reply *reply)
{
	unit_set(a, unit, true, reply);
}

void agent_offline(const struct agent *a, const struct dhp_proto_unit *unit,
		   struct dhp_proto_reply *reply)
{
	unit_set(a, unit, false, reply);
}
