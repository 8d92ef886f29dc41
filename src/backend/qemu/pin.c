/* SPDX-License-Identifier: MIT */
/*
 * vCPU threads on host CPUs. A processor of a topology with host-cpus=
 * stands for that host CPU: its vCPU thread (query-cpus-fast gives the
 * thread id; TCG runs one thread per vCPU, as KVM does) is pinned to it
 * alone. A parked vCPU is pinned to the host CPUs its partition still has
 * (or left free when it has none), so that it never sits on a host CPU
 * that has gone to another partition. Units of different partitions
 * never share a host CPU: the topology maps each host CPU once, and
 * qemu_pin_check() refuses what would.
 */
#include "backend/qemu/pin.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/object.h"

int qemu_pin_check(struct qemu *q, uint32_t partition, const struct dhp_unit *u,
		   struct dhp_error *err)
{
	if (u->host_cpu < 0)
		return 0;
	if (u->host_cpu >= CPU_SETSIZE)
		return dhp_error_set(err, -EINVAL, "%s maps to host CPU %d, beyond what this "
				     "machine can address", u->id, (int)u->host_cpu);
	for (size_t i = 0; i < q->server->n_units; i++) {
		const struct dhp_unit *o = &q->server->units[i];
		uint32_t owner = q->state.units[i].partition;

		if (o != u && o->host_cpu == u->host_cpu && owner && owner != partition)
			return dhp_error_set(err, -EBUSY, "host CPU %d of %s is %s's, in partition %u",
					     (int)u->host_cpu, u->id, o->id, owner);
	}
	return 0;
}

/* The host CPUs of a partition's pinned processors; false if none. */
static bool partition_cpus(struct qemu *q, uint32_t partition, cpu_set_t *set)
{
	bool any = false;

	CPU_ZERO(set);
	for (size_t i = 0; i < q->server->n_units; i++) {
		const struct dhp_unit *u = &q->server->units[i];

		if (u->type == DHP_UNIT_PROCESSOR && u->host_cpu >= 0 &&
		    u->host_cpu < CPU_SETSIZE && q->state.units[i].partition == partition) {
			CPU_SET(u->host_cpu, set);
			any = true;
		}
	}
	return any;
}

/* Only a topology that maps processors to host CPUs pins anything. */
static bool wants_pinning(struct qemu *q)
{
	for (size_t i = 0; i < q->server->n_units; i++)
		if (q->server->units[i].type == DHP_UNIT_PROCESSOR &&
		    q->server->units[i].host_cpu >= 0)
			return true;
	return false;
}

static int pin_thread(pid_t tid, const cpu_set_t *set)
{
	return sched_setaffinity(tid, sizeof(*set), set) < 0 ? -errno : 0;
}

int qemu_pin_tid(pid_t tid, int host_cpu)
{
	cpu_set_t set;

	if (host_cpu < 0 || host_cpu >= CPU_SETSIZE)
		return -EINVAL;
	CPU_ZERO(&set);
	CPU_SET(host_cpu, &set);
	return pin_thread(tid, &set);
}

int qemu_pin_begin(struct qcall *c)
{
	if (!wants_pinning(c->q))
		return 0;
	qcall_qmp(c, "query-cpus-fast", NULL, c->q->unit_ms);
	return 1;
}

int qemu_pin_apply(struct qcall *c)
{
	struct qemu *q = c->q;
	struct qs_partition *rec = qs_partition(&q->state, c->partition, false);
	cpu_set_t mine, set;
	bool have = partition_cpus(q, c->partition, &mine);
	size_t i;
	json_t *e;
	int r;

	if (c->got || !rec) {
		r = c->got ? c->got : -EHOSTDOWN;
		qcall_fail(c, r, "cannot pin the vCPUs of partition %u: %s", c->partition,
			   c->got_err ? c->got_err->message : "it is not running");
		return r;
	}
	json_array_foreach(c->ret, i, e) {
		int slot = qdev_slot_of(e);
		pid_t tid = (pid_t)json_integer_value(json_object_get(e, "thread-id"));
		const struct dhp_unit *u;

		if (slot < 0 || slot > QS_SLOTS_MAX || tid <= 0)
			continue;
		if (rec->slot_state[slot] == QS_SLOT_PARKED) {
			if (have) {
				pin_thread(tid, &mine);
			} else {
				memset(&set, 0xff, sizeof(set));	/* anywhere */
				pin_thread(tid, &set);
			}
			continue;
		}
		if (rec->slot_state[slot] != QS_SLOT_USED || rec->slot_unit[slot] < 0)
			continue;
		u = &q->server->units[rec->slot_unit[slot]];
		if (u->host_cpu < 0)
			continue;
		r = qemu_pin_tid(tid, u->host_cpu);
		if (r < 0) {
			qcall_fail(c, r == -EINVAL ? -EINVAL : -EIO, "cannot pin the vCPU of %s to "
				   "host CPU %d: %s", u->id, (int)u->host_cpu, strerror(-r));
			return r;
		}
	}
	return 0;
}
