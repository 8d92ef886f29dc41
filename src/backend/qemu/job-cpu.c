/* SPDX-License-Identifier: MIT */
/*
 * A processor in and out of a partition's QEMU.
 *
 * In: a free vCPU slot (never a parked one), device_add of a vCPU there
 * with the unit's id, then the guest is watched until a new processor is
 * present: the agent relays the kernel's "add" uevent at once, and its
 * report is asked every PRESENT_POLL_MS in case no event comes (an agent
 * that relays none, a lost line). Its logical number is the guest's
 * (Linux numbers processors in the order they first arrive), and it is
 * what the agent is asked to online. The vCPU is then pinned to the
 * unit's host CPU, if it has one.
 *
 * Out, once the guest has taken it offline: where CPU unplug is safe
 * (probe.h), device_del and DEVICE_DELETED of its lapic; else the park
 * path: the vCPU stays, parked and fenced (never onlined again, its slot
 * never reused, not the partition's), pinned off the unit's host CPU.
 * vCPU 0 (the boot processor) never leaves: QEMU cannot remove it, and
 * Linux cannot take cpu0 offline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/pin.h"
#include "backend/qemu/unplug.h"
#include "proto/guest.h"

#define PRESENT_POLL_MS 50u

enum cpu_step {
	/* in */
	CPU_IN_BEFORE,		/* the agent's report: the processors the guest has */
	CPU_IN_ADD,		/* device_add of the vCPU */
	CPU_IN_SEEN,		/* the agent's report again (or its "add" event) */
	CPU_IN_POLL,		/* PRESENT_POLL_MS until it is asked again */
	CPU_IN_PIN,		/* query-cpus-fast: its thread to its host CPU */
	/* out */
	CPU_OUT_PARK,		/* query-cpus-fast: the parked thread off its host CPU */
	CPU_OUT_QUERY,		/* query-hotpluggable-cpus: the vCPU's device id */
	CPU_OUT_UNPLUG,		/* device_del, DEVICE_DELETED of its lapic */
};

struct cpu_job {
	struct qcall call;
	enum cpu_step step;
	const struct dhp_unit *unit;
	bool in;			/* attach; else detach */
	int slot;			/* its vCPU slot, -1 */
	bool *present;			/* in: processors present before device_add */
	int event_cpu;			/* in: cpu + 1 the agent said arrived while a
					 * report was asked; 0 */
	uint64_t until;			/* in: the deadline of CPU_IN_SEEN */
	struct qunplug unplug;		/* out */
};

static void ask_report(struct cpu_job *j, enum cpu_step next)
{
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_REPORT };

	j->step = next;
	qcall_agent(&j->call, &req, j->call.q->cpu_ms);
}

/* The processors the agent reports present: a new array, or NULL (the
 * call has failed). */
static bool *reported_present(struct qcall *c)
{
	bool *now;

	if (c->got) {
		qcall_fail_got(c);
		return NULL;
	}
	now = calloc(DHP_CPULIST_CPUS, sizeof(bool));
	if (!now || !qs_partition(&c->q->state, c->partition, false) ||
	    dhp_cpulist_parse(c->reply->state.cpus_present, now, DHP_CPULIST_CPUS) < 0) {
		free(now);
		qcall_fail(c, -EIO, "the agent of partition %u reported no processors",
			   c->partition);
		return NULL;
	}
	return now;
}

/* Recorded before device_add, so that an undo after a cancelled attach
 * finds the vCPU; taken back when QEMU refuses it. */
static void record(struct cpu_job *j, bool wired)
{
	struct qemu *q = j->call.q;
	struct qs_partition *rec = qs_partition(&q->state, j->call.partition, false);
	struct qs_unit *s = qemu_unit_state(q, j->unit);

	if (!rec)
		return;
	qs_unit_unwire(s);
	rec->slot_state[j->slot] = wired ? QS_SLOT_USED : QS_SLOT_FREE;
	rec->slot_unit[j->slot] = wired ? (int32_t)dhp_server_unit_index(q->server, j->unit) : -1;
	if (wired) {
		s->partition = j->call.partition;
		s->slot = (int16_t)j->slot;
	}
}

/* The new processor is cpu in the guest: its number, then pinning. */
static void arrived(struct cpu_job *j, int cpu)
{
	struct qcall *c = &j->call;
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	c->listen &= ~QCALL_ON_AGENT_EVENT;
	if (rec)
		rec->guest_cpu[j->slot] = (int16_t)cpu;
	j->step = CPU_IN_PIN;
	if (qemu_pin_begin(c) == 0)
		qcall_end(c, 0, NULL);
}

/* Out: the slot is free again. A real unplug frees the slot; the guest
 * keeps the number for its APIC id, so guest_cpu stays. */
static void gone(struct cpu_job *j)
{
	struct qcall *c = &j->call;
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct qs_unit *s = qemu_unit_state(c->q, j->unit);

	if (rec && s->slot >= 0) {
		rec->slot_state[s->slot] = QS_SLOT_FREE;
		rec->slot_unit[s->slot] = -1;
	}
	qs_unit_unwire(s);
	qcall_end(c, 0, NULL);
}

static void parked(struct cpu_job *j)
{
	struct qcall *c = &j->call;

	qemu_notice(c->q, "partition %u: %s is offline and its vCPU (slot %d) parked: %s",
		    c->partition, j->unit->id, j->slot, c->q->cpu_remove_reason);
	qcall_end(c, 0, NULL);
}

/* The agent relays the kernel's "add" uevent: the new processor, unless
 * it was there before device_add. */
static void agent_event(struct cpu_job *j, const struct dhp_proto_event *ev)
{
	struct qcall *c = &j->call;

	if (ev->kind != DHP_PROTO_EVENT_ADD || !ev->has_unit ||
	    ev->unit.kind != DHP_PROTO_UNIT_PROCESSOR || ev->unit.cpu >= DHP_CPULIST_CPUS ||
	    j->present[ev->unit.cpu])
		return;
	/* A report asked is answered first: CPU_IN_SEEN takes it from there. */
	if (c->inflight) {
		j->event_cpu = (int)ev->unit.cpu + 1;
		return;
	}
	qcall_timer_stop(c);
	arrived(j, (int)ev->unit.cpu);
}

/* device_add of the vCPU in its slot, with the type QEMU gave. */
static void plug(struct cpu_job *j)
{
	struct qcall *c = &j->call;
	struct qpart *part = qcall_part(c);
	char dev_id[80];
	json_t *args;

	if (!part) {
		qcall_fail(c, -EIO, "the agent of partition %u reported no processors",
			   c->partition);
		return;
	}
	qdev_cpu_id_of(j->unit, (unsigned)j->slot, dev_id, sizeof(dev_id));
	args = qdev_cpu_args(part->cpu_type[0] ? part->cpu_type : "max-x86_64-cpu", dev_id,
			     qdev_slot_props((unsigned)j->slot));
	record(j, true);
	j->step = CPU_IN_ADD;
	qcall_qmp(c, "device_add", args, c->q->unit_ms);
}

static void cpu_in_begin(struct cpu_job *j)
{
	struct qcall *c = &j->call;
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct dhp_error e = { 0 };

	if (!qemu_attach_checks(c, j->unit))
		return;
	if (qemu_pin_check(c->q, c->partition, j->unit, &e) < 0) {
		qcall_end(c, e.code, &e);
		return;
	}
	/* A slot of the unit's socket: the node QEMU bound it to (cmdline.h). */
	j->slot = rec ? qemu_slot_pick(&c->q->sizing, j->unit->socket, rec->slot_state) : -1;
	if (rec && j->slot >= (int)rec->maxcpus)
		j->slot = -1;
	if (j->slot < 0) {
		dhp_error_set(&e, -ENOSPC, "the QEMU of partition %u has no free vCPU slot "
			      "for socket %u (%u parked)", c->partition, (unsigned)j->unit->socket,
			      rec ? qs_slots_in(rec, QS_SLOT_PARKED) : 0);
		dhp_error_resolve(&e, "restart the partition to reclaim the slots of parked vCPUs");
		qcall_end(c, e.code, &e);
		return;
	}
	/* Which processors the guest has now: the new one is the one more. */
	ask_report(j, CPU_IN_BEFORE);
}

static void cpu_out_begin(struct cpu_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	struct qs_unit *s = qemu_unit_state(q, j->unit);

	if (!qemu_detach_checks(c, j->unit))
		return;
	if (!rec || s->slot < 0 || !qcall_part(c)) {
		qs_unit_unwire(s);
		qcall_end(c, 0, NULL);
		return;
	}
	if (s->boot) {
		qcall_fail(c, -EOPNOTSUPP, "%s is vCPU 0 of partition %u, which QEMU cannot remove",
			   j->unit->id, c->partition);
		return;
	}
	j->slot = s->slot;
	if (q->cpu_remove == DHP_QEMU_CPU_REMOVE_PARK) {
		rec->slot_state[s->slot] = QS_SLOT_PARKED;
		qs_unit_unwire(s);
		j->step = CPU_OUT_PARK;	/* off the host CPU it no longer has */
		if (qemu_pin_begin(c) == 0)
			parked(j);
		return;
	}
	j->step = CPU_OUT_QUERY;
	qcall_qmp(c, "query-hotpluggable-cpus", NULL, q->unit_ms);
}

static void cpu_step(struct qcall *c)
{
	struct cpu_job *j = (struct cpu_job *)c;
	const char *id;
	bool *now;
	int r;

	if (c->wake == QCALL_BEGIN) {
		if (j->in)
			cpu_in_begin(j);
		else
			cpu_out_begin(j);
		return;
	}
	if (c->wake == QCALL_AGENT_EVENT) {	/* while CPU_IN_SEEN or CPU_IN_POLL */
		agent_event(j, c->agent_event);
		return;
	}

	switch (j->step) {
	case CPU_IN_BEFORE:
		j->present = reported_present(c);
		if (j->present)
			plug(j);
		return;

	case CPU_IN_ADD:
		if (c->got) {
			record(j, false);
			qcall_qmp_failed(c);
			return;
		}
		j->until = dhp_loop_now(c->q->loop) + c->q->cpu_ms;
		c->listen |= QCALL_ON_AGENT_EVENT;
		ask_report(j, CPU_IN_SEEN);
		return;

	case CPU_IN_SEEN:
		if (j->event_cpu && !c->got) {
			arrived(j, j->event_cpu - 1);
			return;
		}
		now = reported_present(c);
		if (!now)
			return;
		for (int cpu = 0; cpu < DHP_CPULIST_CPUS; cpu++)
			if (now[cpu] && !j->present[cpu]) {
				free(now);
				arrived(j, cpu);
				return;
			}
		free(now);
		if (dhp_loop_now(c->q->loop) >= j->until) {
			qcall_fail(c, -ETIMEDOUT, "the guest of partition %u did not see %s within "
				   "%u ms", c->partition, j->unit->id, c->q->cpu_ms);
			return;
		}
		j->step = CPU_IN_POLL;
		qcall_after(c, PRESENT_POLL_MS);
		return;

	case CPU_IN_POLL:
		ask_report(j, CPU_IN_SEEN);
		return;

	case CPU_IN_PIN:
		if (qemu_pin_apply(c) == 0)
			qcall_end(c, 0, NULL);
		return;

	case CPU_OUT_PARK:
		if (qemu_pin_apply(c) == 0)
			parked(j);
		return;

	case CPU_OUT_QUERY:
		if (c->got) {
			qcall_qmp_failed(c);
			return;
		}
		id = qdev_cpu_id(qdev_cpu_entry(c->ret, (unsigned)j->slot));
		if (!id) {	/* not in QEMU (any more) */
			gone(j);
			return;
		}
		/* The id it was plugged with, which a hot replace may have handed on. */
		j->step = CPU_OUT_UNPLUG;
		qunplug_begin(c, &j->unplug, id);
		return;

	case CPU_OUT_UNPLUG:
		r = qunplug_step(c, &j->unplug);
		if (r == 0)
			gone(j);
		return;
	}
}

static void cpu_release(struct qcall *c)
{
	free(((struct cpu_job *)c)->present);
}

static int cpu_job(struct qemu *q, uint32_t partition, const struct dhp_unit *unit, bool in,
		   struct dhp_backend_cb cb)
{
	struct cpu_job *j = (struct cpu_job *)qcall_new(q, sizeof(*j), cb, partition, cpu_step);

	if (!j)
		return -ENOMEM;
	j->call.release = cpu_release;
	j->unit = unit;
	j->in = in;
	j->slot = -1;
	return 0;
}

int qemu_cpu_attach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		    struct dhp_backend_cb cb)
{
	return cpu_job(q, partition, unit, true, cb);
}

int qemu_cpu_detach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		    struct dhp_backend_cb cb)
{
	return cpu_job(q, partition, unit, false, cb);
}
