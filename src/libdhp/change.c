/* SPDX-License-Identifier: MIT */
/*
 * A unit as the agent protocol names it (cpu number, memory range, PCI
 * slot) -> struct dhp_change, with what sysfs says about it at the moment
 * the change is told: NUMA nodes, the PCI functions behind a slot. A unit
 * already gone from sysfs (remove-complete) keeps what the protocol said
 * and -1 / nothing for the rest.
 */
#include "libdhp/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint32_t kind_of[DHP_PROTO_UNIT_KIND_MAX] = {
	[DHP_PROTO_UNIT_PROCESSOR] = DHP_KIND_PROCESSOR,
	[DHP_PROTO_UNIT_MEMORY] = DHP_KIND_MEMORY,
	[DHP_PROTO_UNIT_IO_HOST_BRIDGE] = DHP_KIND_IO,
};

/* A hex value file ("0x1af4"); 0 when unreadable. */
static uint32_t read_hex(struct dhp *dhp, const char *path)
{
	char buf[32], *end;
	unsigned long v;

	if (libdhp_sysfs_read(dhp, path, buf, sizeof(buf)) < 0)
		return 0;
	errno = 0;
	v = strtoul(buf, &end, 16);
	return errno || *end || end == buf || v > UINT32_MAX ? 0 : (uint32_t)v;
}

static void function_fill(struct dhp *dhp, const char *slot, struct dhp_pci_function *f)
{
	char path[64];

	memset(f, 0, sizeof(*f));
	snprintf(f->slot, sizeof(f->slot), "%s", slot);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/vendor", slot);
	f->vendor_id = (uint16_t)read_hex(dhp, path);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/device", slot);
	f->device_id = (uint16_t)read_hex(dhp, path);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/class", slot);
	f->class_code = read_hex(dhp, path);
}

static int cmp_slot(const void *x, const void *y)
{
	return strcmp(x, y);
}

/* The functions in the directory of slot's device (a root port or bridge
 * has the devices of its secondary bus there), sorted, at most cap. */
static size_t children(struct dhp *dhp, const char *slot, char (*out)[DHP_PCI_SLOT_MAX],
		       size_t cap, bool *ret_truncated)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *dir;
	int fd;

	*ret_truncated = false;
	if (dhp->sysfs_fd < 0)
		return 0;
	snprintf(path, sizeof(path), "bus/pci/devices/%s", slot);
	fd = openat(dhp->sysfs_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (!(dir = fdopendir(fd))) {
		close(fd);
		return 0;
	}
	while ((de = readdir(dir))) {
		if (!dhp_proto_slot_valid(de->d_name))
			continue;
		if (n == cap) {
			*ret_truncated = true;
			break;
		}
		/* A valid slot is 12 characters: it fits. */
		memcpy(out[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	qsort(out, n, sizeof(*out), cmp_slot);
	return n;
}

static void io_fill(struct dhp *dhp, const struct dhp_proto_unit *unit, uint32_t flags,
		    struct dhp_change *c)
{
	char slots[DHP_IO_FUNCTIONS_MAX][DHP_PCI_SLOT_MAX], path[64], buf[16], *end;
	unsigned seg, bus, dev, fn;
	bool truncated;
	size_t n;
	long v;

	c->io.segment = c->io.bus = c->io.node = -1;
	if (!unit->slot[0] || !dhp_proto_slot_valid(unit->slot))
		return;
	snprintf(c->io.slot, sizeof(c->io.slot), "%s", unit->slot);
	if (sscanf(unit->slot, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) == 4) {
		c->io.segment = (int32_t)seg;
		c->io.bus = (int32_t)bus;
	}
	snprintf(path, sizeof(path), "bus/pci/devices/%s/numa_node", unit->slot);
	if (libdhp_sysfs_read(dhp, path, buf, sizeof(buf)) == 0) {
		errno = 0;
		v = strtol(buf, &end, 10);
		if (!errno && !*end && end != buf && v >= 0 && v <= INT32_MAX)
			c->io.node = (int32_t)v;
	}
	n = children(dhp, unit->slot, slots, DHP_IO_FUNCTIONS_MAX, &truncated);
	/* A uevent is about one function: that one is the change. */
	if (!n && (flags & DHP_CHANGE_UEVENT)) {
		snprintf(slots[0], sizeof(slots[0]), "%s", unit->slot);
		n = 1;
	}
	for (size_t i = 0; i < n; i++)
		function_fill(dhp, slots[i], &c->io.functions[i]);
	c->io.n_functions = (uint32_t)n;
	if (truncated)
		c->flags |= DHP_CHANGE_TRUNCATED;
}

void libdhp_change_init(struct dhp *dhp, uint32_t phase, const struct dhp_proto_unit *unit,
			uint32_t flags, struct dhp_change *ret)
{
	char path[80];

	memset(ret, 0, sizeof(*ret));
	ret->size = sizeof(*ret);
	ret->phase = phase;
	ret->flags = flags;
	ret->kind = unit->kind < DHP_PROTO_UNIT_KIND_MAX ? kind_of[unit->kind] : 0;
	switch (unit->kind) {
	case DHP_PROTO_UNIT_PROCESSOR:
		ret->processor.cpu = unit->cpu;
		snprintf(path, sizeof(path), "devices/system/cpu/cpu%" PRIu32, unit->cpu);
		ret->processor.node = libdhp_sysfs_node(dhp, path);
		break;
	case DHP_PROTO_UNIT_MEMORY:
		ret->memory.phys_addr = unit->phys_addr;
		ret->memory.size = unit->size;
		ret->memory.node = -1;
		if (dhp->block_size) {
			snprintf(path, sizeof(path), "devices/system/memory/memory%" PRIu64,
				 unit->phys_addr / dhp->block_size);
			ret->memory.node = libdhp_sysfs_node(dhp, path);
		}
		break;
	case DHP_PROTO_UNIT_IO_HOST_BRIDGE:
		io_fill(dhp, unit, flags, ret);
		break;
	default:
		break;
	}
}
