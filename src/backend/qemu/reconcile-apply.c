/* SPDX-License-Identifier: MIT */
/*
 * What reconcile found, into the state file (job-reconcile.c): QEMU's
 * devices say which units are wired (a vCPU dhp did not record is fenced,
 * a device that is gone is unwired), the guest's report which it uses. A
 * parked vCPU that someone onlined inside the guest is a notice.
 */
#include "backend/qemu/reconcile-apply.h"

#include <stdlib.h>

#include "backend/qemu/devices.h"
#include "backend/qemu/object.h"
#include "proto/guest.h"

static bool mem_online(const struct dhp_proto_state *st, uint64_t addr, uint64_t size)
{
	uint64_t first, end, online = 0;

	if (!st->block_size)
		return false;
	first = addr / st->block_size;
	end = first + size / st->block_size;
	for (size_t i = 0; i < st->n_runs; i++) {
		const struct dhp_proto_mem_run *r = &st->runs[i];
		uint64_t lo = r->index > first ? r->index : first;
		uint64_t hi = r->index + r->count < end ? r->index + r->count : end;

		if (r->state == DHP_PROTO_MEM_ONLINE && hi > lo)
			online += hi - lo;
	}
	return online == end - first;
}

void qemu_apply_use(struct qemu *q, struct qs_partition *rec, const struct dhp_proto_state *st)
{
	bool *online = calloc(DHP_CPULIST_CPUS, sizeof(bool));

	if (!online || dhp_cpulist_parse(st->cpus_online, online, DHP_CPULIST_CPUS) < 0) {
		free(online);
		return;
	}
	for (size_t i = 0; i < q->server->n_units; i++) {
		const struct dhp_unit *u = &q->server->units[i];
		struct qs_unit *s = &q->state.units[i];

		if (s->partition != rec->id)
			continue;
		if (u->type == DHP_UNIT_PROCESSOR && s->slot >= 0 && rec->guest_cpu[s->slot] >= 0)
			s->online = online[rec->guest_cpu[s->slot]];
		else if (u->type == DHP_UNIT_MEMORY && !s->boot && s->phys_addr && !st->truncated)
			s->online = mem_online(st, s->phys_addr, u->size_bytes);
	}
	for (unsigned k = 0; k < rec->maxcpus && k <= QS_SLOTS_MAX; k++)
		if (rec->slot_state[k] == QS_SLOT_PARKED && rec->guest_cpu[k] >= 0 &&
		    online[rec->guest_cpu[k]])
			qemu_notice(q, "partition %u: parked vCPU %u (guest cpu %d) was brought online "
				    "inside the guest: it is not the partition's", rec->id, k,
				    rec->guest_cpu[k]);
	free(online);
}

/* ---- QEMU's devices ---- */

void qemu_apply_devices(struct qemu *q, struct qs_partition *rec, json_t *cpus, json_t *mems,
			json_t *pci)
{
	char id[DHP_UNIT_ID_MAX + 8], slot[DHP_PROTO_SLOT_MAX];
	uint64_t addr, size;

	for (unsigned k = 0; k < rec->maxcpus && k <= QS_SLOTS_MAX; k++) {
		json_t *e = qdev_cpu_entry(cpus, k);
		bool there = json_object_get(e, "qom-path") != NULL;

		if (rec->slot_state[k] == QS_SLOT_USED && !there) {
			if (rec->slot_unit[k] >= 0)
				qs_unit_unwire(&q->state.units[rec->slot_unit[k]]);
			rec->slot_state[k] = QS_SLOT_FREE;
			rec->slot_unit[k] = -1;
		} else if (rec->slot_state[k] == QS_SLOT_FREE && there) {
			/* A vCPU dhp did not record is nobody's: fence it. */
			rec->slot_state[k] = QS_SLOT_PARKED;
			qemu_notice(q, "partition %u: unknown vCPU in slot %u fenced", rec->id, k);
		}
	}
	for (size_t i = 0; i < q->server->n_units; i++) {
		const struct dhp_unit *u = &q->server->units[i];
		struct qs_unit *s = &q->state.units[i];
		bool there;

		if (u->type == DHP_UNIT_MEMORY) {
			if (s->boot)
				continue;
			there = qdev_dimm_find(mems, u->id, &addr, &size);
		} else if (u->type == DHP_UNIT_IO_HOST_BRIDGE && u->devices && *u->devices) {
			qdev_fn_id(u, 0, id, sizeof(id));
			there = qdev_pci_find(pci, id, slot, sizeof(slot));
			addr = 0;
		} else {
			continue;
		}
		if (s->partition == rec->id && !there) {
			qs_unit_unwire(s);
		} else if (there && !s->partition) {
			s->partition = rec->id;	/* plugged, but not recorded */
			s->phys_addr = addr;
		}
	}
}
