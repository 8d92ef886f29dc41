/* SPDX-License-Identifier: MIT */
/*
 * Processors in and out of a partition's QEMU.
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
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "proto/guest.h"

#define PRESENT_POLL_MS 50u

static void done_ok(struct qcall *c)
{
	qcall_finish(c, 0, NULL);
}

static void cpu_poll(struct qcall *c);

/* The new processor is cpu in the guest. */
static void cpu_arrived(struct qcall *c, int cpu)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);

	c->on_agent_event = NULL;
	if (rec)
		rec->guest_cpu[c->slot] = (int16_t)cpu;
	qemu_pin(c, done_ok);
}

static void cpu_event(struct qcall *c, const struct dhp_proto_event *ev)
{
	if (ev->kind != DHP_PROTO_EVENT_ADD || !ev->has_unit ||
	    ev->unit.kind != DHP_PROTO_UNIT_PROCESSOR || ev->unit.cpu >= DHP_CPULIST_CPUS ||
	    c->present[ev->unit.cpu])
		return;
	/* A report asked is answered first: cpu_seen takes it from here. */
	if (c->inflight) {
		c->event_cpu = (int)ev->unit.cpu + 1;
		return;
	}
	qcall_timer_stop(c);
	cpu_arrived(c, (int)ev->unit.cpu);
}

static void cpu_seen(struct qcall *c, int rc, const struct dhp_proto_reply *reply,
		     const struct dhp_error *err)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	bool *now;

	if (rc) {
		qcall_fail(c, rc, "%s", err->message);
		return;
	}
	if (c->event_cpu) {
		cpu_arrived(c, c->event_cpu - 1);
		return;
	}
	now = calloc(DHP_CPULIST_CPUS, sizeof(bool));
	if (!now || !rec || dhp_cpulist_parse(reply->state.cpus_present, now,
					      DHP_CPULIST_CPUS) < 0) {
		free(now);
		qcall_fail(c, -EIO, "the agent of partition %u reported no processors",
			   c->partition);
		return;
	}
	for (int cpu = 0; cpu < DHP_CPULIST_CPUS; cpu++)
		if (now[cpu] && !c->present[cpu]) {
			free(now);
			cpu_arrived(c, cpu);
			return;
		}
	free(now);
	if (dhp_loop_now(c->q->loop) >= c->until) {
		qcall_fail(c, -ETIMEDOUT, "the guest of partition %u did not see %s within %u ms",
			   c->partition, c->unit->id, c->q->cpu_ms);
		return;
	}
	qcall_after(c, PRESENT_POLL_MS, cpu_poll);
}

static void cpu_poll(struct qcall *c)
{
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_REPORT };

	qcall_agent(c, &req, c->q->cpu_ms, cpu_seen);
}

/* Recorded before device_add, so that an undo after a cancelled attach
 * finds the vCPU; taken back when QEMU refuses it. */
static void cpu_record(struct qcall *c, bool wired)
{
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	struct qs_unit *s = qemu_unit_state(q, c->unit);

	if (!rec)
		return;
	qs_unit_unwire(s);
	rec->slot_state[c->slot] = wired ? QS_SLOT_USED : QS_SLOT_FREE;
	rec->slot_unit[c->slot] = wired ? (int32_t)dhp_server_unit_index(q->server, c->unit) : -1;
	if (wired) {
		s->partition = c->partition;
		s->slot = (int16_t)c->slot;
	}
}

static void cpu_added(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	(void)ret;
	if (rc) {
		cpu_record(c, false);
		qemu_qmp_failed(c, err);
		return;
	}
	c->until = dhp_loop_now(c->q->loop) + c->q->cpu_ms;
	c->on_agent_event = cpu_event;
	cpu_poll(c);
}

static void cpu_before(struct qcall *c, int rc, const struct dhp_proto_reply *reply,
		       const struct dhp_error *err)
{
	struct qpart *part = qcall_part(c);
	json_t *args;

	if (rc) {
		qcall_fail(c, rc, "%s", err->message);
		return;
	}
	c->present = calloc(DHP_CPULIST_CPUS, sizeof(bool));
	if (!c->present || !part ||
	    dhp_cpulist_parse(reply->state.cpus_present, c->present, DHP_CPULIST_CPUS) < 0) {
		qcall_fail(c, -EIO, "the agent of partition %u reported no processors",
			   c->partition);
		return;
	}
	qdev_cpu_id_of(c->unit, (unsigned)c->slot, c->dev_id, sizeof(c->dev_id));
	args = qdev_cpu_args(part->cpu_type[0] ? part->cpu_type : "max-x86_64-cpu",
			     c->dev_id, qdev_slot_props((unsigned)c->slot));
	cpu_record(c, true);
	qcall_qmp(c, "device_add", args, c->q->unit_ms, cpu_added);
}

void qemu_cpu_attach(struct qcall *c)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_REPORT };
	struct dhp_error e = { 0 };

	if (qemu_pin_check(c->q, c->partition, c->unit, &e) < 0) {
		qcall_finish(c, e.code, &e);
		return;
	}
	for (unsigned k = 1; rec && k < rec->maxcpus && k <= QS_SLOTS_MAX; k++)
		if (rec->slot_state[k] == QS_SLOT_FREE) {
			c->slot = (int)k;
			break;
		}
	if (c->slot < 0) {
		dhp_error_set(&e, -ENOSPC, "the QEMU of partition %u has no free vCPU slot "
			      "(%u parked)", c->partition, rec ? qs_slots_in(rec, QS_SLOT_PARKED) : 0);
		dhp_error_resolve(&e, "restart the partition to reclaim the slots of parked vCPUs");
		qcall_finish(c, e.code, &e);
		return;
	}
	/* Which processors the guest has now: the new one is the one more. */
	qcall_agent(c, &req, c->q->cpu_ms, cpu_before);
}

static void cpu_gone(struct qcall *c)
{
	struct qs_partition *rec = qs_partition(&c->q->state, c->partition, false);
	struct qs_unit *s = qemu_unit_state(c->q, c->unit);

	/* A real unplug frees the slot; the guest keeps the number for its
	 * APIC id, so guest_cpu stays. */
	if (rec && s->slot >= 0) {
		rec->slot_state[s->slot] = QS_SLOT_FREE;
		rec->slot_unit[s->slot] = -1;
	}
	qs_unit_unwire(s);
	qcall_finish(c, 0, NULL);
}

static void cpu_parked(struct qcall *c)
{
	qemu_notice(c->q, "partition %u: %s is offline and its vCPU (slot %d) parked: %s",
		    c->partition, c->unit->id, c->slot, c->q->cpu_remove_reason);
	qcall_finish(c, 0, NULL);
}

static void cpu_have_id(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	const char *id = qdev_cpu_id(qdev_cpu_entry(ret, (unsigned)c->slot));

	if (rc) {
		qemu_qmp_failed(c, err);
		return;
	}
	if (!id) {	/* not in QEMU (any more) */
		cpu_gone(c);
		return;
	}
	/* The id it was plugged with, which a hot replace may have handed on. */
	snprintf(c->dev_id, sizeof(c->dev_id), "%s", id);
	qemu_unplug(c, cpu_gone);
}

void qemu_cpu_detach(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	struct qs_unit *s = qemu_unit_state(q, c->unit);

	if (!rec || s->slot < 0 || !qcall_part(c)) {
		qs_unit_unwire(s);
		qcall_finish(c, 0, NULL);
		return;
	}
	if (s->boot) {
		qcall_fail(c, -EOPNOTSUPP, "%s is vCPU 0 of partition %u, which QEMU cannot remove",
			   c->unit->id, c->partition);
		return;
	}
	c->slot = s->slot;
	if (q->cpu_remove == DHP_QEMU_CPU_REMOVE_PARK) {
		rec->slot_state[s->slot] = QS_SLOT_PARKED;
		qs_unit_unwire(s);
		qemu_pin(c, cpu_parked);	/* off the host CPU it no longer has */
		return;
	}
	qcall_qmp(c, "query-hotpluggable-cpus", NULL, q->unit_ms, cpu_have_id);
}

