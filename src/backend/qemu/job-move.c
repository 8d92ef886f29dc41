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
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/job-memory.h"
#include "backend/qemu/job-online.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/pin.h"

enum move_step {
	MOVE_CPU_THREAD,	/* query-cpus-fast: the vCPU's thread, re-pinned */
	MOVE_MEM_ATTACH,	/* the spare's DIMM plugged */
	MOVE_MEM_ONLINE,	/* the spare online (movable) */
	MOVE_MEM_OFFLINE,	/* the old module offline: the guest migrates its pages */
	MOVE_MEM_DETACH,	/* the old DIMM unplugged */
	/* undo, in reverse */
	MOVE_UNDO_ONLINE,	/* the old module online again */
	MOVE_UNDO_OFFLINE,	/* the spare offline */
	MOVE_UNDO_DETACH,	/* the spare unplugged */
	MOVE_DONE,
	MOVE_STEP_MAX
};

/* The memory steps in order, and where a failure in each starts undoing. */
static const enum move_step next_of[MOVE_STEP_MAX] = {
	[MOVE_MEM_ATTACH] = MOVE_MEM_ONLINE,
	[MOVE_MEM_ONLINE] = MOVE_MEM_OFFLINE,
	[MOVE_MEM_OFFLINE] = MOVE_MEM_DETACH,
	[MOVE_MEM_DETACH] = MOVE_DONE,
	[MOVE_UNDO_ONLINE] = MOVE_UNDO_OFFLINE,
	[MOVE_UNDO_OFFLINE] = MOVE_UNDO_DETACH,
	[MOVE_UNDO_DETACH] = MOVE_DONE,
};
static const enum move_step undo_of[MOVE_STEP_MAX] = {
	[MOVE_MEM_ATTACH] = MOVE_DONE,
	[MOVE_MEM_ONLINE] = MOVE_UNDO_DETACH,
	[MOVE_MEM_OFFLINE] = MOVE_UNDO_OFFLINE,
	[MOVE_MEM_DETACH] = MOVE_UNDO_ONLINE,
};

struct move_job {
	struct qcall call;
	enum move_step step;
	const struct dhp_unit *from, *to;
	uint64_t t0, t_offline, offline_ms;	/* memory: for the notice */
	struct qmem mem;
	struct qonline online;
};

static double since_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* ---- processor ---- */

/* The slot, and the vCPU in it, are the spare's from now on. */
static void cpu_hand_on(struct move_job *j)
{
	struct qcall *c = &j->call;
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	struct qs_unit *from = qemu_unit_state(q, j->from), *to = qemu_unit_state(q, j->to);
	int slot = from->slot;

	qs_unit_unwire(to);
	to->partition = c->partition;
	to->slot = (int16_t)slot;
	to->online = from->online;
	to->boot = from->boot;
	if (rec && slot >= 0)
		rec->slot_unit[slot] = (int32_t)dhp_server_unit_index(q->server, j->to);
	qs_unit_unwire(from);
}

static void cpu_move(struct move_job *j)
{
	struct qcall *c = &j->call;
	struct dhp_error e = { 0 };

	if (qemu_pin_check(c->q, c->partition, j->to, &e) < 0) {
		qcall_end(c, e.code, &e);
		return;
	}
	if (j->to->host_cpu >= 0 && qcall_part(c)) {
		j->step = MOVE_CPU_THREAD;
		qcall_qmp(c, "query-cpus-fast", NULL, c->q->unit_ms);
		return;
	}
	cpu_hand_on(j);
	qemu_notice(c->q, "hot replace %s -> %s in partition %u: no host CPU to move the vCPU "
		    "to; it carries on unchanged (pause 0)", j->from->id, j->to->id,
		    c->partition);
	qcall_end(c, 0, NULL);
}

/* query-cpus-fast's answer: the thread of the slot moves host CPU. */
static void cpu_repin(struct move_job *j)
{
	struct qcall *c = &j->call;
	int slot = qemu_unit_state(c->q, j->from)->slot;
	json_t *e = qdev_cpu_entry(c->ret, (unsigned)slot);
	pid_t tid = (pid_t)json_integer_value(json_object_get(e, "thread-id"));
	struct timespec t0;
	double pause;
	int r;

	if (c->got || tid <= 0) {
		qcall_fail(c, c->got ? c->got : -EIO, "cannot find the vCPU thread of %s: %s",
			   j->from->id, c->got_err ? c->got_err->message : "no such vCPU");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = qemu_pin_tid(tid, j->to->host_cpu);
	pause = since_ms(&t0);
	if (r < 0) {
		qcall_fail(c, r, "cannot pin the vCPU of %s to host CPU %d: %s", j->to->id,
			   (int)j->to->host_cpu, strerror(-r));
		return;
	}
	cpu_hand_on(j);
	qemu_notice(c->q, "hot replace %s -> %s in partition %u: vCPU thread %d moved from host "
		    "CPU %d to %d while running; pause %.3f ms", j->from->id, j->to->id,
		    c->partition, (int)tid, (int)j->from->host_cpu, (int)j->to->host_cpu, pause);
	qcall_end(c, 0, NULL);
}

/* ---- memory ---- */

static void mem_done(struct move_job *j)
{
	struct qcall *c = &j->call;
	double total = (double)(dhp_loop_now(c->q->loop) - j->t0);
	double mib = (double)j->from->size_bytes / (1024.0 * 1024.0);
	double offline = (double)j->offline_ms;

	if (c->unwinding) {
		qcall_end(c, 0, NULL);	/* ends with the first failure */
		return;
	}
	qemu_unit_state(c->q, j->to)->boot = 0;
	qemu_notice(c->q, "hot replace %s -> %s in partition %u: %.0f MiB offlined (the guest "
		    "migrated the pages in use) in %.0f ms, %.0f MiB/s; %.0f ms in all",
		    j->from->id, j->to->id, c->partition, mib, offline,
		    offline > 0 ? mib * 1000.0 / offline : 0.0, total);
	c->undo = false;
	qcall_end(c, 0, NULL);
}

/* Begin memory step j->step: 1 awaited (or the job has ended), 0 done
 * at once, <0 the call failed. */
static int mem_begin(struct move_job *j)
{
	struct qcall *c = &j->call;
	uint64_t now = dhp_loop_now(c->q->loop);

	switch (j->step) {
	case MOVE_MEM_ATTACH:
		return qmem_attach_begin(c, &j->mem, j->to);
	case MOVE_MEM_ONLINE:
		return qonline_begin(c, &j->online, j->to, true);
	case MOVE_MEM_OFFLINE:
		j->t_offline = now;
		return qonline_begin(c, &j->online, j->from, false);
	case MOVE_MEM_DETACH:
		j->offline_ms = now - j->t_offline;
		return qmem_detach_begin(c, &j->mem, j->from);
	case MOVE_UNDO_ONLINE:
		return qonline_begin(c, &j->online, j->from, true);
	case MOVE_UNDO_OFFLINE:
		return qonline_begin(c, &j->online, j->to, false);
	case MOVE_UNDO_DETACH:
		return qmem_detach_begin(c, &j->mem, j->to);
	default:
		mem_done(j);
		return 1;
	}
}

/* The memory step at hand is done: the next ones, as long as they are
 * done at once. */
static void move_step_on(struct move_job *j)
{
	do
		j->step = next_of[j->step];
	while (mem_begin(j) == 0);
}

/* ---- the job ---- */

static void move_begin(struct move_job *j)
{
	struct qcall *c = &j->call;
	struct qs_unit *from = qemu_unit_state(c->q, j->from), *to = qemu_unit_state(c->q, j->to);

	if (to->partition == c->partition && from->partition != c->partition) {
		qcall_end(c, 0, NULL);	/* moved already */
		return;
	}
	if (from->partition != c->partition) {
		qcall_fail(c, -EIO, "unit %s is not in partition %u", j->from->id, c->partition);
		return;
	}
	if (!to->powered || (to->partition && to->partition != c->partition)) {
		qcall_fail(c, -EIO, "unit %s is not a powered, free spare", j->to->id);
		return;
	}
	switch (j->from->type) {
	case DHP_UNIT_PROCESSOR:
		cpu_move(j);
		return;
	case DHP_UNIT_MEMORY:
		if (from->boot) {
			qcall_fail(c, -EOPNOTSUPP, "%s is the boot memory of partition %u (QEMU's "
				   "-m), which cannot be unplugged, so not replaced while it runs",
				   j->from->id, c->partition);
			return;
		}
		j->t0 = dhp_loop_now(c->q->loop);
		c->undo = true;
		j->step = MOVE_MEM_ATTACH;
		if (mem_begin(j) == 0)
			move_step_on(j);
		return;
	default:
		qcall_fail(c, -EOPNOTSUPP, "the QEMU backend does not hot replace I/O host bridges");
		return;
	}
}

static void move_step(struct qcall *c)
{
	struct move_job *j = (struct move_job *)c;
	int r;

	switch (c->wake) {
	case QCALL_BEGIN:
		move_begin(j);
		return;
	case QCALL_UNDO:
		/* Put back what was done, in reverse. */
		j->step = undo_of[j->step];
		r = mem_begin(j);
		break;
	default:
		if (j->step == MOVE_CPU_THREAD) {
			cpu_repin(j);
			return;
		}
		if (j->step == MOVE_MEM_ATTACH || j->step == MOVE_MEM_DETACH ||
		    j->step == MOVE_UNDO_DETACH)
			r = qmem_step(c, &j->mem);
		else
			r = qonline_step(c, &j->online);
		break;
	}
	if (r == 0)
		move_step_on(j);
}

int qemu_move(struct dhp_backend *be, const struct dhp_partition *p,
	      const struct dhp_unit *from, const struct dhp_unit *to,
	      struct dhp_backend_cb cb)
{
	struct move_job *j = (struct move_job *)qcall_new(to_qemu(be), sizeof(*j), cb, p->id,
							  move_step);

	if (!j)
		return -ENOMEM;
	j->from = from;
	j->to = to;
	return 0;
}
