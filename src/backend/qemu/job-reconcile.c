/* SPDX-License-Identifier: MIT */
/*
 * What QEMU and the guests really have, for the engine (invariants,
 * recovery). Partition by partition: a QEMU that runs but that dhpd has no
 * connection to (dhpd restarted) is reconnected, QMP and agent; then
 * query-hotpluggable-cpus, query-memory-devices and query-pci say which
 * devices are there, and the agent's report which units the guest uses.
 * The state file is made to follow, and the view filled from it: power
 * from the file (it is simulated), wiring from QEMU, use from the guest.
 * A partition that cannot be asked is skipped (reported down, or as the
 * file says); the job itself fails only when a command cannot be sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/process.h"
#include "proto/guest.h"

#define REATTACH_MS 5000u	/* QMP of a QEMU found running */
#define REHELLO_MS 3000u	/* its agent's hello */

enum rec_step {
	REC_CONNECT,		/* QMP of a QEMU found running, dhpd's own gone */
	REC_HELLO,		/* its agent's hello, within REHELLO_MS */
	REC_CPUS,		/* query-hotpluggable-cpus */
	REC_MEMS,		/* query-memory-devices */
	REC_PCI,		/* query-pci */
	REC_REPORT,		/* the agent's report: what the guest uses */
};

struct rec_job {
	struct qcall call;
	enum rec_step step;
	struct dhp_backend_view *view;
	size_t iter;			/* the next partition record */
	json_t *cpus, *mems, *pci;	/* what QEMU has */
	struct qconnect connect;
};

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

static void apply_use(struct rec_job *j, struct qs_partition *rec,
		      const struct dhp_proto_state *st)
{
	struct qcall *c = &j->call;
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

static void apply_devices(struct rec_job *j, struct qs_partition *rec)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	char id[DHP_UNIT_ID_MAX + 8], slot[DHP_PROTO_SLOT_MAX];
	uint64_t addr, size;

	for (unsigned k = 0; k < rec->maxcpus && k <= QS_SLOTS_MAX; k++) {
		json_t *e = qdev_cpu_entry(j->cpus, k);
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
			there = qdev_dimm_find(j->mems, u->id, &addr, &size);
		} else if (u->type == DHP_UNIT_IO_HOST_BRIDGE && u->devices && *u->devices) {
			qdev_fn_id(u, 0, id, sizeof(id));
			there = qdev_pci_find(j->pci, id, slot, sizeof(slot));
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

/* ---- partition by partition ---- */

static void unreachable(struct rec_job *j);

static void query(struct rec_job *j)
{
	struct qcall *c = &j->call;

	c->listen = 0;
	qcall_timer_stop(c);
	json_decref(j->cpus);
	json_decref(j->mems);
	json_decref(j->pci);
	j->cpus = j->mems = j->pci = NULL;
	j->step = REC_CPUS;
	qcall_qmp(c, "query-hotpluggable-cpus", NULL, c->q->unit_ms);
}

/* Fill the view from the state file; the job's end. */
static void answer(struct rec_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;

	c->partition = 0;
	for (size_t i = 0; i < q->state.n_units && i < j->view->n_units; i++) {
		const struct qs_unit *s = &q->state.units[i];

		j->view->units[i] = (struct dhp_unit_view){
			.partition = s->partition, .powered = s->powered, .online = s->online,
		};
	}
	for (size_t i = 0; i < j->view->n_partitions; i++) {
		struct dhp_partition_view *pv = &j->view->partitions[i];
		struct qpart *part = qpart_find(q, pv->id);

		pv->running = part && part->up;
		pv->os_ready = part && part->up && part->agent_ready;
	}
	qcall_end(c, 0, NULL);
}

/* The next partition that runs: queried, or reconnected first. */
static void next_partition(struct rec_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;

	c->listen = 0;
	while (j->iter < q->state.n_partitions) {
		struct qs_partition *rec = &q->state.partitions[j->iter++];
		struct qpart *part;

		if (!rec->id)
			continue;
		c->partition = rec->id;
		if (qcall_part(c)) {
			query(j);
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
		j->step = REC_CONNECT;
		if (qpart_connect_begin(c, &j->connect, REATTACH_MS) < 0)
			unreachable(j);
		return;
	}
	answer(j);
}

/* A QEMU found running does not answer QMP: it counts as down. */
static void unreachable(struct rec_job *j)
{
	struct qcall *c = &j->call;
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct qpart *part = qpart_find(c->q, c->partition);

	qemu_notice(c->q, "partition %u: %s; it counts as down", c->partition,
		    j->connect.err.message);
	if (part)
		qpart_release(part);
	if (rec)
		rec->running = 0;
	next_partition(j);
}

/* What the partition has, into the state file; reply NULL: the guest
 * could not be asked. */
static void apply(struct rec_job *j, const struct dhp_proto_reply *reply)
{
	struct qs_partition *rec = qs_partition(&j->call.q->state, j->call.partition, false);

	if (!rec)
		return;
	apply_devices(j, rec);
	if (reply && reply->has_state)
		apply_use(j, rec, &reply->state);
}

static void rec_step(struct qcall *c)
{
	struct rec_job *j = (struct rec_job *)c;
	struct qpart *part = qcall_part(c);
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_REPORT };
	int r;

	if (c->wake == QCALL_BEGIN) {
		next_partition(j);
		return;
	}
	switch (j->step) {
	case REC_CONNECT:
		r = qpart_connect_step(c, &j->connect);
		if (r < 0)
			unreachable(j);
		if (r)
			return;
		part = qcall_part(c);
		if (part && part->agent_ready) {
			query(j);
			return;
		}
		j->step = REC_HELLO;
		c->listen = QCALL_ON_HELLO | QCALL_ON_DOWN;
		qcall_after(c, REHELLO_MS);
		return;

	case REC_HELLO:
		if (c->wake == QCALL_DOWN) {	/* it ended while its agent was awaited */
			qcall_timer_stop(c);
			next_partition(j);
			return;
		}
		query(j);	/* its hello, or none: QEMU is asked all the same */
		return;

	case REC_CPUS:
	case REC_MEMS:
		if (c->got) {
			next_partition(j);
			return;
		}
		if (j->step == REC_CPUS) {
			j->cpus = json_incref(c->ret);
			j->step = REC_MEMS;
			qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms);
		} else {
			j->mems = json_incref(c->ret);
			j->step = REC_PCI;
			qcall_qmp(c, "query-pci", NULL, c->q->unit_ms);
		}
		return;

	case REC_PCI:
		if (c->got || !part) {
			next_partition(j);	/* it went away meanwhile: reported down */
			return;
		}
		j->pci = json_incref(c->ret);
		if (!part->agent_ready) {
			apply(j, NULL);
			next_partition(j);
			return;
		}
		j->step = REC_REPORT;
		qcall_agent(c, &req, c->q->unit_ms);
		return;

	case REC_REPORT:
		apply(j, c->got ? NULL : c->reply);
		next_partition(j);
		return;
	}
}

static void rec_release(struct qcall *c)
{
	struct rec_job *j = (struct rec_job *)c;

	json_decref(j->cpus);
	json_decref(j->mems);
	json_decref(j->pci);
}

int qemu_reconcile(struct dhp_backend *be, struct dhp_backend_view *view,
		   struct dhp_backend_cb cb)
{
	struct qemu *q = to_qemu(be);
	struct rec_job *j;

	if (view->n_units != q->server->n_units)
		return -EINVAL;
	j = (struct rec_job *)qcall_new(q, sizeof(*j), cb, 0, rec_step);
	if (!j)
		return -ENOMEM;
	j->call.release = rec_release;
	j->view = view;
	return 0;
}
