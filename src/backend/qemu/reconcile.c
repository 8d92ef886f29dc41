/* SPDX-License-Identifier: MIT */
/*
 * What QEMU and the guests really have, for the engine (invariants,
 * recovery). Partition by partition: a QEMU that runs but that dhpd has no
 * connection to (dhpd restarted) is reconnected, QMP and agent; then
 * query-hotpluggable-cpus, query-memory-devices and query-pci say which
 * devices are there, and the agent's report which units the guest uses.
 * The state file is made to follow, and the view filled from it: power
 * from the file (it is simulated), wiring from QEMU, use from the guest.
 */
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/guest.h"

#define REATTACH_MS 5000u	/* QMP of a QEMU found running */
#define REHELLO_MS 3000u	/* its agent's hello */

static void rec_next(struct qcall *c);

/* ---- the guest's use ---- */

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

static void apply_use(struct qcall *c, struct qs_partition *rec, const struct dhp_proto_state *st)
{
	struct qemu *q = c->q;
	bool *online = calloc(DHP_CPULIST_CPUS, sizeof(bool));

	if (!online || dhp_cpulist_parse(st->cpus_online, online, DHP_CPULIST_CPUS) < 0) {
		free(online);
		return;
	}
	for (size_t i = 0; i < q->server->n_units; i++) {
		const struct dhp_unit *u = &q->server->units[i];
		struct qs_unit *s = &q->state.units[i];

		if (s->partition != c->partition)
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
				    "inside the guest: it is not the partition's", c->partition, k,
				    rec->guest_cpu[k]);
	free(online);
}

/* ---- QEMU's devices ---- */

static void apply_devices(struct qcall *c, struct qs_partition *rec)
{
	struct qemu *q = c->q;
	char id[DHP_UNIT_ID_MAX + 8], slot[DHP_PROTO_SLOT_MAX];
	uint64_t addr, size;

	for (unsigned k = 0; k < rec->maxcpus && k <= QS_SLOTS_MAX; k++) {
		json_t *e = qdev_cpu_entry(c->j_cpus, k);
		bool there = json_object_get(e, "qom-path") != NULL;

		if (rec->slot_state[k] == QS_SLOT_USED && !there) {
			if (rec->slot_unit[k] >= 0)
				qs_unit_unwire(&q->state.units[rec->slot_unit[k]]);
			rec->slot_state[k] = QS_SLOT_FREE;
			rec->slot_unit[k] = -1;
		} else if (rec->slot_state[k] == QS_SLOT_FREE && there) {
			/* A vCPU dhp did not record is nobody's: fence it. */
			rec->slot_state[k] = QS_SLOT_PARKED;
			qemu_notice(q, "partition %u: unknown vCPU in slot %u fenced", c->partition, k);
		}
	}
	for (size_t i = 0; i < q->server->n_units; i++) {
		const struct dhp_unit *u = &q->server->units[i];
		struct qs_unit *s = &q->state.units[i];
		bool there;

		if (u->type == DHP_UNIT_MEMORY) {
			if (s->boot)
				continue;
			there = qdev_dimm_find(c->j_mems, u->id, &addr, &size);
		} else if (u->type == DHP_UNIT_IO_HOST_BRIDGE && u->devices && *u->devices) {
			qdev_fn_id(u, 0, id, sizeof(id));
			there = qdev_pci_find(c->j_pci, id, slot, sizeof(slot));
			addr = 0;
		} else {
			continue;
		}
		if (s->partition == c->partition && !there) {
			qs_unit_unwire(s);
		} else if (there && !s->partition) {
			s->partition = c->partition;	/* plugged, but not recorded */
			s->phys_addr = addr;
		}
	}
}

/* ---- one partition ---- */

static void rec_report(struct qcall *c, int rc, const struct dhp_proto_reply *reply,
		       const struct dhp_error *err)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	(void)err;
	if (rec) {
		apply_devices(c, rec);
		if (!rc && reply && reply->has_state)
			apply_use(c, rec, &reply->state);
	}
	rec_next(c);
}

static void rec_pci(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	struct qpart *part = qcall_part(c);
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_REPORT };

	(void)err;
	if (rc || !part) {
		rec_next(c);	/* it went away meanwhile: reported down */
		return;
	}
	c->j_pci = json_incref(ret);
	if (!part->agent_ready) {
		rec_report(c, -ENOTCONN, NULL, NULL);
		return;
	}
	c->otherwise = NULL;
	qcall_agent(c, &req, c->q->unit_ms, rec_report);
}

static void rec_mems(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)err;
	if (rc) {
		rec_next(c);
		return;
	}
	c->j_mems = json_incref(ret);
	qcall_qmp(c, "query-pci", NULL, c->q->unit_ms, rec_pci);
}

static void rec_cpus(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)err;
	if (rc) {
		rec_next(c);
		return;
	}
	c->j_cpus = json_incref(ret);
	qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms, rec_mems);
}

static void rec_query(struct qcall *c)
{
	c->on_hello = NULL;
	qcall_timer_stop(c);
	json_decref(c->j_cpus);
	json_decref(c->j_mems);
	json_decref(c->j_pci);
	c->j_cpus = c->j_mems = c->j_pci = NULL;
	qcall_qmp(c, "query-hotpluggable-cpus", NULL, c->q->unit_ms, rec_cpus);
}

static void rec_unreachable(struct qcall *c)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct qpart *part = qpart_find(c->q, c->partition);

	qemu_notice(c->q, "partition %u: %s; it counts as down", c->partition, c->err.message);
	dhp_error_clear(&c->err);
	if (part)
		qpart_release(part);
	if (rec)
		rec->running = 0;
	rec_next(c);
}

/* It ended while its agent was awaited. */
static void rec_down(struct qcall *c)
{
	c->on_hello = NULL;
	c->on_down = NULL;
	qcall_timer_stop(c);
	rec_next(c);
}

static void rec_hello(struct qcall *c)
{
	c->on_down = NULL;
	rec_query(c);
}

static void rec_reattached(struct qcall *c)
{
	struct qpart *part = qcall_part(c);

	if (part && part->agent_ready) {
		rec_query(c);
		return;
	}
	c->on_hello = rec_hello;
	c->on_down = rec_down;
	qcall_after(c, REHELLO_MS, rec_hello);
}

static void rec_next(struct qcall *c)
{
	struct qemu *q = c->q;

	while (c->iter < q->state.n_partitions) {
		struct qs_partition *rec = &q->state.partitions[c->iter++];
		struct qpart *part;

		if (!rec->id)
			continue;
		c->partition = rec->id;
		if (qcall_part(c)) {
			rec_query(c);
			return;
		}
		if (!rec->running)
			continue;
		if (!qemu_pid_alive(rec->pid, rec->start_time)) {
			/* It ended while dhpd was away: units stay wired, unused. */
			rec->running = 0;
			for (size_t i = 0; i < q->state.n_units; i++)
				if (q->state.units[i].partition == rec->id)
					q->state.units[i].online = 0;
			qemu_notice(q, "partition %u: its QEMU (pid %d) ended while dhpd was away",
				    rec->id, (int)rec->pid);
			continue;
		}
		part = qpart_find(q, rec->id);
		if (!part)
			part = qpart_new(q, rec->id);
		if (!part)
			continue;
		part->started = true;
		c->otherwise = rec_unreachable;
		qpart_connect(c, part, REATTACH_MS, rec_reattached);
		return;
	}
	c->partition = 0;
	for (size_t i = 0; i < q->state.n_units && i < c->view->n_units; i++) {
		const struct qs_unit *s = &q->state.units[i];

		c->view->units[i] = (struct dhp_unit_view){
			.partition = s->partition, .powered = s->powered, .online = s->online,
		};
	}
	for (size_t i = 0; i < c->view->n_partitions; i++) {
		struct dhp_partition_view *pv = &c->view->partitions[i];
		struct qpart *part = qpart_find(q, pv->id);

		pv->running = part && part->up;
		pv->os_ready = part && part->up && part->agent_ready;
	}
	qcall_finish(c, 0, NULL);
}

int qemu_reconcile(struct dhp_backend *be, struct dhp_backend_view *view,
		   struct dhp_backend_cb cb)
{
	struct qemu *q = to_qemu(be);
	struct qcall *c;

	if (view->n_units != q->server->n_units)
		return -EINVAL;
	c = qcall_new(q, cb, 0, NULL);
	if (!c)
		return -ENOMEM;
	c->view = view;
	c->iter = 0;
	qcall_after(c, 0, rec_next);
	return 0;
}
