/* SPDX-License-Identifier: MIT */
/*
 * Units and QEMU devices. Every device dhp makes has an id derived from
 * its unit's id, so that what QEMU reports maps back to units:
 *
 *   processor        vCPU device "<unit>.<k>" in slot k (socket-id 0,
 *                    core-id k): the slot in the id keeps it unique when
 *                    the unit comes back while its parked vCPU stays;
 *                    slot 0 is -smp's own vCPU, which has no id: the
 *                    state file says whose each slot is
 *   memory module    pc-dimm "<unit>" on memory-backend-ram "mem-<unit>"
 *   I/O host bridge  functions "<unit>-d<f>" at 0.f behind root port
 *                    "rp<N>"; a virtio-blk function's null-co block node
 *                    is "<unit>-n<f>"
 *
 * A vCPU keeps the id it was plugged with when a hot replace hands its
 * slot to another processor; the state file's slot table is the truth.
 */
#include "backend/qemu/devices.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qemu/object.h"

void qdev_cpu_id_of(const struct dhp_unit *u, unsigned slot, char *buf, size_t size)
{
	snprintf(buf, size, "%s.%u", u->id, slot);
}

void qdev_mem_object(const struct dhp_unit *u, char *buf, size_t size)
{
	snprintf(buf, size, "mem-%s", u->id);
}

void qdev_fn_id(const struct dhp_unit *u, unsigned fn, char *buf, size_t size)
{
	snprintf(buf, size, "%s-d%u", u->id, fn);
}

void qdev_node_id(const struct dhp_unit *u, unsigned fn, char *buf, size_t size)
{
	snprintf(buf, size, "%s-n%u", u->id, fn);
}

json_t *qdev_slot_props(unsigned slot)
{
	return json_pack("{s:i, s:i, s:i}", "socket-id", 0, "core-id", (int)slot, "thread-id", 0);
}

int qdev_slot_of(json_t *entry)
{
	json_t *core = json_object_get(json_object_get(entry, "props"), "core-id");

	return json_is_integer(core) ? (int)json_integer_value(core) : -1;
}

json_t *qdev_cpu_entry(json_t *cpus, unsigned slot)
{
	size_t i;
	json_t *e;

	json_array_foreach(cpus, i, e)
		if (qdev_slot_of(e) == (int)slot)
			return e;
	return NULL;
}

const char *qdev_cpu_id(json_t *entry)
{
	static const char prefix[] = "/machine/peripheral/";
	const char *path = json_string_value(json_object_get(entry, "qom-path"));

	if (!path || strncmp(path, prefix, sizeof(prefix) - 1))
		return NULL;
	return path + sizeof(prefix) - 1;
}

bool qdev_dimm_find(json_t *mems, const char *id, uint64_t *ret_addr, uint64_t *ret_size)
{
	size_t i;
	json_t *m;

	json_array_foreach(mems, i, m) {
		json_t *data = json_object_get(m, "data");
		const char *mid = json_string_value(json_object_get(data, "id"));

		if (mid && !strcmp(mid, id)) {
			*ret_addr = (uint64_t)json_integer_value(json_object_get(data, "addr"));
			*ret_size = (uint64_t)json_integer_value(json_object_get(data, "size"));
			return true;
		}
	}
	return false;
}

/* Depth-first through query-pci's buses and the buses behind bridges. */
static bool pci_walk(json_t *devices, const char *id, char *slot, size_t size, int depth)
{
	size_t i;
	json_t *d;

	if (depth > 8)
		return false;
	json_array_foreach(devices, i, d) {
		const char *qid = json_string_value(json_object_get(d, "qdev_id"));
		json_t *below = json_object_get(json_object_get(d, "pci_bridge"), "devices");

		if (qid && !strcmp(qid, id)) {
			snprintf(slot, size, "0000:%02x:%02x.%x",
				 (unsigned)json_integer_value(json_object_get(d, "bus")) & 0xff,
				 (unsigned)json_integer_value(json_object_get(d, "slot")) & 0x1f,
				 (unsigned)json_integer_value(json_object_get(d, "function")) & 7);
			return true;
		}
		if (below && pci_walk(below, id, slot, size, depth + 1))
			return true;
	}
	return false;
}

bool qdev_pci_find(json_t *pci, const char *id, char *slot, size_t size)
{
	size_t i;
	json_t *bus;

	json_array_foreach(pci, i, bus)
		if (pci_walk(json_object_get(bus, "devices"), id, slot, size, 0))
			return true;
	return false;
}

void qdev_proto_unit(struct qemu *q, uint32_t partition, const struct dhp_unit *u,
		     struct dhp_proto_unit *ret)
{
	struct qs_unit *s = qemu_unit_state(q, u);
	const struct qs_partition *p = qs_partition(&q->state, partition, false);
	bool wired = s->partition == partition;

	memset(ret, 0, sizeof(*ret));
	switch (u->type) {
	case DHP_UNIT_PROCESSOR:
		ret->kind = DHP_PROTO_UNIT_PROCESSOR;
		if (p && wired && s->slot >= 0 && p->guest_cpu[s->slot] >= 0) {
			ret->cpu = (uint32_t)p->guest_cpu[s->slot];
			s->guest_cpu = p->guest_cpu[s->slot];
		} else if (!wired && s->guest_cpu >= 0) {
			/* Gone (removed, or moved away by a replace): as the
			 * guest knew it. */
			ret->cpu = (uint32_t)s->guest_cpu;
		} else if (p) {
			/* Not there yet: the guest numbers processors in the
			 * order they first arrive, so the next is one more
			 * than the highest it has seen. */
			int next = 0;

			for (unsigned i = 0; i < p->maxcpus && i <= QS_SLOTS_MAX; i++)
				if (p->guest_cpu[i] >= next)
					next = p->guest_cpu[i] + 1;
			ret->cpu = (uint32_t)next;
		}
		break;
	case DHP_UNIT_MEMORY:
		ret->kind = DHP_PROTO_UNIT_MEMORY;
		/* 0 before the attach: QEMU places the DIMM when it is
		 * plugged (docs/agent-protocol.md). */
		ret->phys_addr = s->phys_addr;
		ret->size = u->size_bytes;
		break;
	default:
		ret->kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE;
		/* Its root port, where the guest finds the bridge's functions
		 * (libdhp lists them); none yet before the attach. */
		if (s->port >= 0) {
			unsigned slot, fn;

			qemu_port_addr((unsigned)s->port, &slot, &fn);
			snprintf(ret->slot, sizeof(ret->slot), "0000:00:%02x.%x", slot, fn);
		}
		break;
	}
}

json_t *qdev_cpu_args(const char *type, const char *id, json_t *props)
{
	json_t *args = json_pack("{s:s, s:s}", "driver", type, "id", id);

	if (args && props && json_object_update(args, props) < 0) {
		json_decref(args);
		args = NULL;
	}
	json_decref(props);
	return args;
}

json_t *qdev_fn_args(const struct dhp_unit *u, enum qemu_fn_kind kind, unsigned fn,
		     unsigned n_fns, unsigned port)
{
	char id[DHP_UNIT_ID_MAX + 8], bus[16], addr[8], node[DHP_UNIT_ID_MAX + 8];
	json_t *args;

	qdev_fn_id(u, fn, id, sizeof(id));
	snprintf(bus, sizeof(bus), "rp%u", port);
	snprintf(addr, sizeof(addr), "0.%u", fn);
	args = json_pack("{s:s, s:s, s:s, s:s}", "driver", qemu_fn_driver(kind), "id", id,
			 "bus", bus, "addr", addr);
	if (args && fn == 0 && n_fns > 1)
		json_object_set_new(args, "multifunction", json_true());
	if (args && kind == QEMU_FN_VIRTIO_BLK) {
		qdev_node_id(u, fn, node, sizeof(node));
		json_object_set_new(args, "drive", json_string(node));
	}
	return args;
}
