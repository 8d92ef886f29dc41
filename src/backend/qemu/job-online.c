/* SPDX-License-Identifier: MIT */
/*
 * Online and offline: the agent is asked, with the unit as the guest sees
 * it (its logical CPU number, its DIMM's address, its PCI functions). An
 * I/O host bridge goes offline function by function, the last first (its
 * functions from query-pci). The online and offline jobs, and pieces of
 * the hot replace of memory (job-move.c).
 */
#include "backend/qemu/job-online.h"

#include <errno.h>
#include <string.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"

enum online_step {
	ONLINE_PCI,		/* query-pci: a bridge's functions, to take offline */
	ONLINE_ANSWER,		/* the agent's answer (for a bridge: one function's) */
};

/*
 * Processor phases in a TCG guest take their time (DESIGN.md §9). Taking
 * memory offline migrates every page in use on it, some 35-110 MiB/s under
 * TCG, and pages may move more than once (into the module's blocks not yet
 * offline): a 2 GiB module half full took 20-30 s. So memory gets unit_ms
 * per GiB; the engine's phase deadline still bounds the whole phase.
 */
uint32_t qemu_phase_ms(struct qemu *q, const struct dhp_unit *u)
{
	uint64_t gib, ms;

	if (u && u->type == DHP_UNIT_PROCESSOR)
		return q->cpu_ms;
	if (!u || u->type != DHP_UNIT_MEMORY)
		return q->unit_ms;
	gib = (u->size_bytes + (1ULL << 30) - 1) >> 30;
	ms = (uint64_t)q->unit_ms * (gib ? gib : 1);
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

/* What the agent said it can do on this kernel (its hello). */
static bool agent_can(struct qcall *c, const struct dhp_unit *u, bool on)
{
	static const unsigned need[DHP_UNIT_TYPE_MAX][2] = {
		[DHP_UNIT_PROCESSOR] = { DHP_PROTO_CAP_OFFLINE_CPU, DHP_PROTO_CAP_ONLINE_CPU },
		[DHP_UNIT_MEMORY] = { DHP_PROTO_CAP_OFFLINE_MEMORY, DHP_PROTO_CAP_ONLINE_MEMORY },
		[DHP_UNIT_IO_HOST_BRIDGE] = { DHP_PROTO_CAP_PCI_REMOVE, DHP_PROTO_CAP_PCI_RESCAN },
	};
	struct qpart *part = qcall_part(c);
	unsigned cap = need[u->type][on];

	if (qpart_agent_refused(c, on ? "online" : "offline"))
		return false;
	if (!part || !part->agent_ready || (part->caps & cap))
		return true;	/* no agent: qcall_agent says so */
	qcall_fail(c, -EOPNOTSUPP, "the agent of partition %u cannot %s %s here (no \"%s\" "
		   "capability)", c->partition, on ? "bring online" : "take offline", u->id,
		   dhp_proto_cap_name(cap));
	return false;
}

/* The next of a bridge's functions offline, the last first. */
static void offline_next_fn(struct qcall *c, struct qonline *o)
{
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_OFFLINE, .has_unit = true };

	req.unit.kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE;
	o->n_fn_slots--;
	memcpy(req.unit.slot, o->fn_slots[o->n_fn_slots], sizeof(req.unit.slot));
	o->step = ONLINE_ANSWER;
	qcall_agent(c, &req, c->q->unit_ms);
}

int qonline_begin(struct qcall *c, struct qonline *o, const struct dhp_unit *u, bool on)
{
	struct qemu *q = c->q;
	struct qs_unit *s = qemu_unit_state(q, u);
	struct dhp_proto_request req = { .op = on ? DHP_PROTO_OP_ONLINE : DHP_PROTO_OP_OFFLINE,
					 .has_unit = true };

	o->u = u;
	o->on = on;
	if (s->partition != c->partition) {
		if (!on)
			return 0;	/* not there: nothing uses it */
		qcall_fail(c, -EIO, "unit %s is not wired to partition %u", u->id, c->partition);
		return -EIO;
	}
	if (s->boot && u->type == DHP_UNIT_MEMORY) {
		if (on)
			return 0;
		qcall_fail(c, -EAGAIN, "%s is the boot memory of partition %u", u->id, c->partition);
		return -EAGAIN;
	}
	qdev_proto_unit(q, c->partition, u, &req.unit);
	if (u->type == DHP_UNIT_PROCESSOR && s->boot && !on) {
		qcall_fail(c, -EOPNOTSUPP, "%s is vCPU 0 of partition %u (the guest's cpu0), which "
			   "Linux cannot take offline", u->id, c->partition);
		return -EOPNOTSUPP;
	}
	if (!agent_can(c, u, on))
		return -EOPNOTSUPP;
	if (u->type == DHP_UNIT_IO_HOST_BRIDGE && !on) {
		o->step = ONLINE_PCI;
		qcall_qmp(c, "query-pci", NULL, q->unit_ms);
		return 1;
	}
	o->step = ONLINE_ANSWER;
	qcall_agent(c, &req, qemu_phase_ms(q, u));
	return 1;
}

int qonline_step(struct qcall *c, struct qonline *o)
{
	const struct dhp_unit *u = o->u;
	const char *what = o->on ? "bring" : "take", *where = o->on ? "online" : "offline";
	const char *why = c->got_err ? c->got_err->message : "";
	char id[DHP_UNIT_ID_MAX + 8];
	int rc = c->got;

	switch ((enum online_step)o->step) {
	case ONLINE_PCI:
		if (rc) {
			qcall_fail_got(c);
			return rc;
		}
		o->n_fn_slots = 0;
		for (unsigned f = 0; f < QEMU_FNS_MAX; f++) {
			qdev_fn_id(u, f, id, sizeof(id));
			if (qdev_pci_find(c->ret, id, o->fn_slots[o->n_fn_slots], DHP_PROTO_SLOT_MAX))
				o->n_fn_slots++;
		}
		if (!o->n_fn_slots)
			break;	/* nothing left in the guest */
		offline_next_fn(c, o);
		return 1;

	case ONLINE_ANSWER:
		if (rc == -EHOSTDOWN || rc == -ENOTCONN || rc == -ETIMEDOUT) {
			qcall_fail(c, rc, "%s", why);
			return rc;
		}
		if (rc == -EOPNOTSUPP) {
			qcall_fail(c, rc, "the OS of partition %u cannot %s %s %s: %s", c->partition,
				   what, u->id, where, why);
			return rc;
		}
		if (rc && u->type == DHP_UNIT_MEMORY && !o->on) {
			qcall_fail(c, -EAGAIN, "memory module %s is still in use: its pages could not "
				   "be migrated (%s)", u->id, why);
			return -EAGAIN;
		}
		if (rc) {
			qcall_fail(c, -EAGAIN, "the OS of partition %u could not %s %s %s: %s",
				   c->partition, what, u->id, where, why);
			return -EAGAIN;
		}
		if (u->type == DHP_UNIT_IO_HOST_BRIDGE && !o->on && o->n_fn_slots) {
			offline_next_fn(c, o);
			return 1;
		}
		break;
	}
	qemu_unit_state(c->q, u)->online = o->on;
	return 0;
}

/* ---- the online and offline jobs ---- */

struct online_job {
	struct qcall call;
	const struct dhp_unit *unit;
	struct qonline o;
};

static void online_job_step(struct qcall *c)
{
	struct online_job *j = (struct online_job *)c;
	int r;

	if (c->wake == QCALL_BEGIN)
		r = qonline_begin(c, &j->o, j->unit, j->o.on);
	else
		r = qonline_step(c, &j->o);
	if (r == 0)
		qcall_end(c, 0, NULL);
}

static int online_job(struct dhp_backend *be, const struct dhp_partition *p,
		      const struct dhp_unit *unit, bool on, struct dhp_backend_cb cb)
{
	struct online_job *j = (struct online_job *)qcall_new(to_qemu(be), sizeof(*j), cb, p->id,
							      online_job_step);

	if (!j)
		return -ENOMEM;
	j->unit = unit;
	j->o.on = on;
	return 0;
}

int qemu_online(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return online_job(be, p, unit, true, cb);
}

int qemu_offline(struct dhp_backend *be, const struct dhp_partition *p,
		 const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return online_job(be, p, unit, false, cb);
}
