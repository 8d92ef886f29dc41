/* SPDX-License-Identifier: MIT */
/*
 * Memory modules in and out of a partition's QEMU: a pc-dimm "<unit>" on
 * its own memory-backend-ram "mem-<unit>" (object-add, device_add), and
 * out again (device_del, DEVICE_DELETED, object-del). The attach and
 * detach jobs of memory, and two pieces of the hot replace of memory
 * (job-move.c). The guest onlines and offlines the module's blocks
 * (job-online.c); a module still online is never unplugged.
 *
 * A QEMU that is not running (a partition that crashed) takes no device:
 * then only the wiring in the state file changes, as a rollback after a
 * crash needs (the units are freed when the partition is stopped).
 */
#include "backend/qemu/job-memory.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"

enum mem_step {
	/* in */
	MEM_IN_QUERY,		/* query-memory-devices: is it plugged already? */
	MEM_IN_BACKEND,		/* object-add of its memory-backend-ram */
	MEM_IN_DIMM,		/* device_add of its pc-dimm */
	MEM_IN_RECORD,		/* query-memory-devices: its address */
	/* out */
	MEM_OUT_QUERY,		/* query-memory-devices: is it still plugged? */
	MEM_OUT_UNPLUG,		/* device_del, DEVICE_DELETED */
	MEM_OUT_OBJECT,		/* object-del of its backend */
};

/* In its socket's NUMA node, when the QEMU has nodes (cmdline.c). */
static json_t *dimm_args(const struct qemu *q, const struct dhp_unit *u, const char *obj)
{
	json_t *args = json_pack("{s:s, s:s, s:s}", "driver", "pc-dimm", "id", u->id,
				 "memdev", obj);

	if (args && q->sizing.n_nodes)
		json_object_set_new(args, "node", json_integer(u->socket));
	return args;
}

static void mem_query(struct qcall *c, struct qmem *m, enum mem_step next)
{
	m->step = next;
	qcall_qmp(c, "query-memory-devices", NULL, c->q->unit_ms);
}

/* Its address, from query-memory-devices (c->ret): plugged. */
static int mem_record(struct qcall *c, struct qmem *m)
{
	struct qs_unit *s = qemu_unit_state(c->q, m->u);
	uint64_t addr = 0, size = 0;

	if (!qdev_dimm_find(c->ret, m->u->id, &addr, &size) || !addr) {
		qcall_fail(c, -EIO, "QEMU of partition %u does not show %s after plugging it",
			   c->partition, m->u->id);
		return -EIO;
	}
	s->partition = c->partition;
	s->phys_addr = addr;
	s->online = 0;
	s->boot = 0;
	return 0;
}

int qmem_attach_begin(struct qcall *c, struct qmem *m, const struct dhp_unit *u)
{
	struct qs_unit *s = qemu_unit_state(c->q, u);

	m->u = u;
	if (s->partition && s->partition != c->partition) {
		qcall_fail(c, -EBUSY, "unit %s is wired to partition %u", u->id, s->partition);
		return -EBUSY;
	}
	if (!s->powered) {
		qcall_fail(c, -EIO, "unit %s is not powered on", u->id);
		return -EIO;
	}
	if (!qcall_part(c)) {
		/* No QEMU: only the wiring (a rollback after a crash). */
		if (!qs_partition(&c->q->state, c->partition, false)) {
			qcall_fail(c, -EHOSTDOWN, "partition %u is not running", c->partition);
			return -EHOSTDOWN;
		}
		s->partition = c->partition;
		return 0;
	}
	mem_query(c, m, MEM_IN_QUERY);
	return 1;
}

int qmem_detach_begin(struct qcall *c, struct qmem *m, const struct dhp_unit *u)
{
	struct qs_unit *s = qemu_unit_state(c->q, u);

	m->u = u;
	if (s->partition != c->partition)
		return 0;	/* detached from it already (see qemu_detach_checks) */
	if (s->boot) {
		qcall_fail(c, -EBUSY, "%s is the boot memory of partition %u", u->id, c->partition);
		return -EBUSY;
	}
	if (!qcall_part(c)) {
		qs_unit_unwire(s);
		return 0;
	}
	if (s->online) {
		qcall_fail(c, -EBUSY, "unit %s is still in use by the OS of partition %u", u->id,
			   c->partition);
		return -EBUSY;
	}
	mem_query(c, m, MEM_OUT_QUERY);
	return 1;
}

int qmem_step(struct qcall *c, struct qmem *m)
{
	struct qs_unit *s = qemu_unit_state(c->q, m->u);
	char obj[DHP_UNIT_ID_MAX + 8];
	uint64_t addr, size;
	int r;

	qdev_mem_object(m->u, obj, sizeof(obj));
	switch ((enum mem_step)m->step) {
	case MEM_IN_QUERY:
		if (c->got) {
			qcall_qmp_failed(c);
			return c->got;
		}
		if (qdev_dimm_find(c->ret, m->u->id, &addr, &size))
			return mem_record(c, m);	/* plugged already */
		/* Wired before it is plugged, so that an undo after a cancelled
		 * attach looks for it; unwired again when QEMU refuses it. */
		s->partition = c->partition;
		m->step = MEM_IN_BACKEND;
		qcall_qmp(c, "object-add", json_pack("{s:s, s:s, s:I}", "qom-type",
						     "memory-backend-ram", "id", obj, "size",
						     (json_int_t)m->u->size_bytes),
			  c->q->unit_ms);
		return 1;

	case MEM_IN_BACKEND:
		/* One left by a plug that failed half way is used as it is. */
		if (c->got && !(c->got_err && strstr(c->got_err->message, "exists")) &&
		    !(c->got_err && strstr(c->got_err->message, "uplicate"))) {
			qs_unit_unwire(s);
			qcall_fail(c, c->got == -EIO ? -ENOMEM : c->got,
				   "cannot back %s with host memory: %s", m->u->id,
				   c->got_err ? c->got_err->message : "");
			return -ENOMEM;
		}
		m->step = MEM_IN_DIMM;
		qcall_qmp(c, "device_add", dimm_args(c->q, m->u, obj), c->q->unit_ms);
		return 1;

	case MEM_IN_DIMM:
		if (c->got) {
			/* Leave nothing behind: its memory backend goes too. */
			qs_unit_unwire(s);
			qcall_fail(c, c->got == -EIO ? -ENOSPC : c->got,
				   "cannot plug %s into partition %u: %s", m->u->id, c->partition,
				   c->got_err ? c->got_err->message : "");
			qcall_qmp_forget(c, "object-del", json_pack("{s:s}", "id", obj));
			return -ENOSPC;
		}
		mem_query(c, m, MEM_IN_RECORD);
		return 1;

	case MEM_IN_RECORD:
		if (c->got) {
			qcall_qmp_failed(c);
			return c->got;
		}
		return mem_record(c, m);

	case MEM_OUT_QUERY:
		if (c->got) {
			qcall_qmp_failed(c);
			return c->got;
		}
		if (qdev_dimm_find(c->ret, m->u->id, &addr, &size)) {
			m->step = MEM_OUT_UNPLUG;
			qunplug_begin(c, &m->unplug, m->u->id);
			return 1;
		}
		break;	/* not in QEMU (any more): its backend may be */

	case MEM_OUT_UNPLUG:
		r = qunplug_step(c, &m->unplug);
		if (r)
			return r;
		break;

	case MEM_OUT_OBJECT:
		/* Its answer does not matter: already gone is gone. */
		qs_unit_unwire(s);
		return 0;
	}
	m->step = MEM_OUT_OBJECT;
	qcall_qmp(c, "object-del", json_pack("{s:s}", "id", obj), c->q->unit_ms);
	return 1;
}

/* ---- the attach and detach jobs of a memory module ---- */

struct mem_job {
	struct qcall call;
	const struct dhp_unit *unit;
	bool in;
	struct qmem m;
};

static void mem_job_step(struct qcall *c)
{
	struct mem_job *j = (struct mem_job *)c;
	int r;

	if (c->wake == QCALL_BEGIN)
		r = j->in ? qmem_attach_begin(c, &j->m, j->unit) : qmem_detach_begin(c, &j->m, j->unit);
	else
		r = qmem_step(c, &j->m);
	if (r == 0)
		qcall_end(c, 0, NULL);
}

static int mem_job(struct qemu *q, uint32_t partition, const struct dhp_unit *unit, bool in,
		   struct dhp_backend_cb cb)
{
	struct mem_job *j = (struct mem_job *)qcall_new(q, sizeof(*j), cb, partition, mem_job_step);

	if (!j)
		return -ENOMEM;
	j->unit = unit;
	j->in = in;
	return 0;
}

int qemu_memory_attach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb)
{
	return mem_job(q, partition, unit, true, cb);
}

int qemu_memory_detach(struct qemu *q, uint32_t partition, const struct dhp_unit *unit,
		       struct dhp_backend_cb cb)
{
	return mem_job(q, partition, unit, false, cb);
}
