/* SPDX-License-Identifier: MIT */
/* Kernel uevents about processors, memory blocks and PCI functions. */
#include "proto/guest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct uevent {
	const char *action, *devpath, *subsystem;
};

/* The KEY=VALUE strings after the "action@devpath" header. */
static int fields(const char *buf, size_t len, struct uevent *ev)
{
	size_t i = 0;

	/* The header must be a NUL-terminated string with an "@". */
	if (!len || !memchr(buf, '\0', len) || !strchr(buf, '@'))
		return -EINVAL;
	i = strlen(buf) + 1;
	while (i < len) {
		const char *kv = buf + i;
		const char *nul = memchr(kv, '\0', len - i);
		size_t n = nul ? (size_t)(nul - kv) : len - i;

		/* A last field without its NUL is cut: ignore it. */
		if (!nul)
			break;
		if (!strncmp(kv, "ACTION=", 7))
			ev->action = kv + 7;
		else if (!strncmp(kv, "DEVPATH=", 8))
			ev->devpath = kv + 8;
		else if (!strncmp(kv, "SUBSYSTEM=", 10))
			ev->subsystem = kv + 10;
		i += n + 1;
	}
	return ev->action && ev->devpath && ev->subsystem ? 0 : -EINVAL;
}

/* The number at the end of devpath after "/<parent>/<prefix>", e.g.
 * "/devices/system/cpu/cpu3" with parent "cpu", prefix "cpu". Anything
 * deeper (cpu3/cache/index0) is not the unit itself. */
static int trailing_number(const char *devpath, const char *parent, const char *prefix,
			   uint64_t *ret)
{
	const char *base = strrchr(devpath, '/');
	size_t plen = strlen(parent);
	char *end;

	if (!base || base - devpath < (long)plen + 1)
		return -ENOENT;
	if (strncmp(base - plen, parent, plen) || base[-(long)plen - 1] != '/')
		return -ENOENT;
	base++;
	if (strncmp(base, prefix, strlen(prefix)))
		return -ENOENT;
	base += strlen(prefix);
	if (*base < '0' || *base > '9')
		return -ENOENT;
	*ret = strtoull(base, &end, 10);
	return *end ? -ENOENT : 0;
}

int dhp_proto_uevent_parse(const char *buf, size_t len, uint64_t block_size,
			   struct dhp_proto_event *ret_event)
{
	struct dhp_proto_event ev = { 0 };
	struct uevent u = { 0 };
	uint64_t n;
	int r;

	if ((r = fields(buf, len, &u)) < 0)
		return r;
	if (dhp_proto_event_kind_parse(u.action, &ev.kind) < 0 ||
	    ev.kind == DHP_PROTO_EVENT_ERROR)
		return -ENOENT;
	ev.has_unit = true;
	if (!strcmp(u.subsystem, "cpu")) {
		if (trailing_number(u.devpath, "cpu", "cpu", &n) < 0 || n > UINT32_MAX)
			return -ENOENT;
		ev.unit.kind = DHP_PROTO_UNIT_PROCESSOR;
		ev.unit.cpu = (uint32_t)n;
	} else if (!strcmp(u.subsystem, "memory")) {
		if (!block_size || trailing_number(u.devpath, "memory", "memory", &n) < 0 ||
		    n > UINT64_MAX / block_size)
			return -ENOENT;
		ev.unit.kind = DHP_PROTO_UNIT_MEMORY;
		ev.unit.phys_addr = n * block_size;
		ev.unit.size = block_size;
	} else if (!strcmp(u.subsystem, "pci")) {
		const char *slot = strrchr(u.devpath, '/');

		if (!slot || !dhp_proto_slot_valid(slot + 1))
			return -ENOENT;
		ev.unit.kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE;
		memcpy(ev.unit.slot, slot + 1, strlen(slot + 1) + 1);
	} else {
		return -ENOENT;
	}
	*ret_event = ev;
	return 0;
}
