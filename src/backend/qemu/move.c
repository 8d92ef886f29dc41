/* SPDX-License-Identifier: MIT */
/*
 * Hot replace: a running unit's state moves to an identical spare.
 *
 * Processor: the partition's logical processor keeps running on the same
 * vCPU; what moves is the host CPU under it (the topology's host-cpus=):
 * its thread is pinned from the old unit's host CPU to the spare's, and
 * the vCPU slot is the spare's from then on. The pause is the time the
 * re-pinning takes; a processor mapped to no host CPU has nothing to move
 * (pause 0), which is said too.
 *
 * Memory: the spare's pc-dimm is plugged and onlined movable, then the
 * guest takes the old module's blocks offline, migrating the pages in use
 * onto the rest of its memory (the spare included), and the old pc-dimm is
 * unplugged. The size, time and throughput are reported. A failure puts
 * everything back in reverse (the spare leaves, the old module comes back
 * online), so the partition is as before.
 *
 * The boot memory (QEMU's -m) cannot be unplugged, so it cannot be
 * replaced while its partition runs; I/O host bridges are not replaced
 * (no OS profile does it).
 */
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define TO_ATTACHED 1
#define TO_ONLINE 2
#define FROM_OFFLINE 4

static double since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- processor ---- */

static void cpu_move_state(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	struct qs_unit *from = qemu_unit_state(q, c->unit), *to = qemu_unit_state(q, c->unit2);
	int slot = from->slot;

	qs_unit_unwire(to);
	to->partition = c->partition;
	to->slot = (int16_t)slot;
	to->online = from->online;
	to->boot = from->boot;
	if (rec && slot >= 0)
		rec->slot_unit[slot] = (int32_t)dhp_server_unit_index(q->server, c->unit2);
	qs_unit_unwire(from);
	c->slot = slot;
}

static void cpu_repinned(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	json_t *e = qdev_cpu_entry(ret, (unsigned)c->slot);
	pid_t tid = (pid_t)json_integer_value(json_object_get(e, "thread-id"));
	struct timespec t0;
	double pause;
	int r;

	if (rc || tid <= 0) {
		qcall_fail(c, rc ? rc : -EIO, "cannot find the vCPU thread of %s: %s", c->unit->id,
			   err ? err->message : "no such vCPU");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = qemu_pin_tid(tid, c->unit2->host_cpu);
	pause = since_ms(&t0);
	if (r < 0) {
		qcall_fail(c, r, "cannot pin the vCPU of %s to host CPU %d: %s", c->unit2->id,
			   (int)c->unit2->host_cpu, strerror(-r));
		return;
	}
	cpu_move_state(c);
	qemu_notice(c->q, "hot replace %s -> %s in partition %u: vCPU thread %d moved from host "
		    "CPU %d to %d while running; pause %.3f ms", c->unit->id, c->unit2->id,
		    c->partition, (int)tid, (int)c->unit->host_cpu, (int)c->unit2->host_cpu, pause);
	qcall_finish(c, 0, NULL);
}

static void cpu_move(struct qcall *c)
{
	struct dhp_error e = { 0 };

	if (qemu_pin_check(c->q, c->partition, c->unit2, &e) < 0) {
		qcall_finish(c, e.code, &e);
		return;
	}
	c->slot = qemu_unit_state(c->q, c->unit)->slot;
	if (c->unit2->host_cpu >= 0 && qcall_part(c)) {
		qcall_qmp(c, "query-cpus-fast", NULL, c->q->unit_ms, cpu_repinned);
		return;
	}
	cpu_move_state(c);
	qemu_notice(c->q, "hot replace %s -> %s in partition %u: no host CPU to move the vCPU "
		    "to; it carries on unchanged (pause 0)", c->unit->id, c->unit2->id,
		    c->partition);
	qcall_finish(c, 0, NULL);
}

/* ---- memory ---- */

static void mem_from_gone(struct qcall *c)
{
	struct qs_unit *to = qemu_unit_state(c->q, c->unit2);
	double total = (double)(dhp_loop_now(c->q->loop) - c->until);
	double mib = (double)c->unit->size_bytes / (1024.0 * 1024.0);
	double offline = (double)c->iter;

	to->boot = 0;
	qemu_notice(c->q, "hot replace %s -> %s in partition %u: %.0f MiB offlined (the guest "
		    "migrated the pages in use) in %.0f ms, %.0f MiB/s; %.0f ms in all",
		    c->unit->id, c->unit2->id, c->partition, mib, offline,
		    offline > 0 ? mib * 1000.0 / offline : 0.0, total);
	c->on_fail = NULL;
	qcall_finish(c, 0, NULL);
}

static void mem_from_offline(struct qcall *c)
{
	c->step |= FROM_OFFLINE;
	c->iter = (size_t)(dhp_loop_now(c->q->loop) - c->t0);
	qemu_memory_detach(c, c->unit, mem_from_gone);
}

static void mem_to_online(struct qcall *c)
{
	c->step |= TO_ONLINE;
	c->t0 = dhp_loop_now(c->q->loop);
	qemu_unit_set(c, c->unit, false, mem_from_offline);
}

static void mem_to_attached(struct qcall *c)
{
	c->step |= TO_ATTACHED;
	qemu_unit_set(c, c->unit2, true, mem_to_online);
}

/* Put back what was done, in reverse. */
static void mem_unwind(struct qcall *c)
{
	if (c->step & FROM_OFFLINE) {
		c->step &= ~FROM_OFFLINE;
		qemu_unit_set(c, c->unit, true, mem_unwind);
	} else if (c->step & TO_ONLINE) {
		c->step &= ~TO_ONLINE;
		qemu_unit_set(c, c->unit2, false, mem_unwind);
	} else if (c->step & TO_ATTACHED) {
		c->step &= ~TO_ATTACHED;
		qemu_memory_detach(c, c->unit2, mem_unwind);
	} else {
		qcall_finish(c, 0, NULL);	/* ends with the first failure */
	}
}

static void mem_move(struct qcall *c)
{
	if (qemu_unit_state(c->q, c->unit)->boot) {
		qcall_fail(c, -EOPNOTSUPP, "%s is the boot memory of partition %u (QEMU's -m), "
			   "which cannot be unplugged, so not replaced while it runs", c->unit->id,
			   c->partition);
		return;
	}
	c->until = dhp_loop_now(c->q->loop);
	c->step = 0;
	c->on_fail = mem_unwind;
	qemu_memory_attach(c, c->unit2, mem_to_attached);
}

/* ---- the call ---- */

static void move_run(struct qcall *c)
{
	struct qs_unit *from = qemu_unit_state(c->q, c->unit), *to = qemu_unit_state(c->q, c->unit2);

	if (to->partition == c->partition && from->partition != c->partition) {
		qcall_finish(c, 0, NULL);	/* moved already */
		return;
	}
	if (from->partition != c->partition) {
		qcall_fail(c, -EIO, "unit %s is not in partition %u", c->unit->id, c->partition);
		return;
	}
	if (!to->powered || (to->partition && to->partition != c->partition)) {
		qcall_fail(c, -EIO, "unit %s is not a powered, free spare", c->unit2->id);
		return;
	}
	switch (c->unit->type) {
	case DHP_UNIT_PROCESSOR:
		cpu_move(c);
		break;
	case DHP_UNIT_MEMORY:
		mem_move(c);
		break;
	default:
		qcall_fail(c, -EOPNOTSUPP, "the QEMU backend does not hot replace I/O host bridges");
		break;
	}
}

int qemu_move(struct dhp_backend *be, const struct dhp_partition *p,
	      const struct dhp_unit *from, const struct dhp_unit *to,
	      struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, from);

	if (!c)
		return -ENOMEM;
	c->unit2 = to;
	qcall_after(c, 0, move_run);
	return 0;
}
