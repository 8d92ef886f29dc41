/* SPDX-License-Identifier: MIT */
/*
 * Power, notifications, online and offline. Power is simulated (QEMU has
 * no per-unit power): a flag in the state file. The other three are the
 * agent's: a request with the unit as the guest sees it (its logical CPU
 * number, its DIMM's address, its PCI functions).
 */
#include "backend/qemu/internal.h"

#include <stdio.h>
#include <string.h>

/*
 * Processor phases in a TCG guest take their time (DESIGN.md §9). Taking
 * memory offline migrates every page in use on it, some 35-110 MiB/s under
 * TCG, and pages may move more than once (into the module's blocks not yet
 * offline): a 2 GiB module half full took 20-30 s. So memory gets unit_ms
 * per GiB; the engine's phase deadline still bounds the whole phase.
 */
static uint32_t phase_ms(struct qemu *q, const struct dhp_unit *u)
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

/* ---- power ---- */

static void power_run(struct qcall *c)
{
	struct qs_unit *s = qemu_unit_state(c->q, c->unit);

	if (!c->on && s->partition && s->online && qpart_find(c->q, s->partition)) {
		qcall_fail(c, -EBUSY, "unit %s is in use by partition %u", c->unit->id,
			   s->partition);
		return;
	}
	s->powered = c->on;
	qcall_finish(c, 0, NULL);
}

int qemu_power(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
	       struct dhp_backend_cb cb)
{
	struct qemu *q = to_qemu(be);
	struct qcall *c = qcall_new(q, cb, qemu_unit_state(q, unit)->partition, unit);

	if (!c)
		return -ENOMEM;
	c->on = on;
	qcall_after(c, 0, power_run);
	return 0;
}

/* ---- notifications ---- */

static void notified(struct qcall *c, int rc, const struct dhp_proto_reply *reply,
		     const struct dhp_error *err)
{
	const char *note = dhp_notification_name((enum dhp_notification)c->note);

	(void)reply;
	if (rc == -EPERM)
		qcall_fail(c, -EPERM, "the OS of partition %u vetoed %s of %s: %s", c->partition,
			   note, c->unit->id, err->message);
	else if (rc)
		qcall_fail(c, rc, "%s of %s in partition %u: %s", note, c->unit->id, c->partition,
			   err->message);
	else
		qcall_finish(c, 0, NULL);
}

static void notify_run(struct qcall *c)
{
	const char *name = dhp_notification_name((enum dhp_notification)c->note);
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_NOTIFY, .has_unit = true };

	/* The two enums share their words (proto/names.c). */
	if (dhp_proto_note_parse(name, &req.note) < 0) {
		qcall_fail(c, -EINVAL, "no notification \"%s\" in the agent protocol", name);
		return;
	}
	if (qpart_agent_refused(c, "notify"))
		return;
	qdev_proto_unit(c->q, c->partition, c->unit, &req.unit);
	qcall_agent(c, &req, phase_ms(c->q, c->unit), notified);
}

int qemu_notify(struct dhp_backend *be, const struct dhp_partition *p,
		enum dhp_notification note, const struct dhp_unit *unit,
		struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, unit);

	if (!c)
		return -ENOMEM;
	c->note = (int)note;
	qcall_after(c, 0, notify_run);
	return 0;
}

/* ---- online and offline ---- */

static void set_next(struct qcall *c);

static void set_answer(struct qcall *c, int rc, const struct dhp_proto_reply *reply,
		       const struct dhp_error *err)
{
	const struct dhp_unit *u = c->cur;
	const char *what = c->on ? "bring" : "take";
	const char *where = c->on ? "online" : "offline";
	qcall_fn then;

	(void)reply;
	if (rc == -EHOSTDOWN || rc == -ENOTCONN || rc == -ETIMEDOUT) {
		qcall_fail(c, rc, "%s", err->message);
		return;
	}
	if (rc == -EOPNOTSUPP) {
		qcall_fail(c, rc, "the OS of partition %u cannot %s %s %s: %s", c->partition, what,
			   u->id, where, err->message);
		return;
	}
	if (rc && u->type == DHP_UNIT_MEMORY && !c->on) {
		qcall_fail(c, -EAGAIN, "memory module %s is still in use: its pages could not be "
			   "migrated (%s)", u->id, err->message);
		return;
	}
	if (rc) {
		qcall_fail(c, -EAGAIN, "the OS of partition %u could not %s %s %s: %s",
			   c->partition, what, u->id, where, err->message);
		return;
	}
	if (u->type == DHP_UNIT_IO_HOST_BRIDGE && !c->on && c->n_fn_slots) {
		set_next(c);	/* the next PCI function */
		return;
	}
	qemu_unit_state(c->q, u)->online = c->on;
	then = c->then;
	c->then = NULL;
	then(c);
}

/* An I/O host bridge goes offline function by function, the last first. */
static void set_next(struct qcall *c)
{
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_OFFLINE, .has_unit = true };

	req.unit.kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE;
	c->n_fn_slots--;
	memcpy(req.unit.slot, c->fn_slots[c->n_fn_slots], sizeof(req.unit.slot));
	qcall_agent(c, &req, c->q->unit_ms, set_answer);
}

static void got_pci(struct qcall *c, int rc, json_t *ret, const struct dhp_error *err)
{
	char id[DHP_UNIT_ID_MAX + 8];

	if (rc) {
		qcall_fail(c, rc, "%s", err->message);
		return;
	}
	c->n_fn_slots = 0;
	for (unsigned f = 0; f < QEMU_FNS_MAX; f++) {
		qdev_fn_id(c->cur, f, id, sizeof(id));
		if (qdev_pci_find(ret, id, c->fn_slots[c->n_fn_slots], DHP_PROTO_SLOT_MAX))
			c->n_fn_slots++;
	}
	if (!c->n_fn_slots) {	/* nothing left in the guest */
		struct dhp_proto_reply none = { .result = DHP_PROTO_OK };

		set_answer(c, 0, &none, NULL);
		return;
	}
	set_next(c);
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

void qemu_unit_set(struct qcall *c, const struct dhp_unit *u, bool on, qcall_fn then)
{
	struct qemu *q = c->q;
	struct qs_unit *s = qemu_unit_state(q, u);
	struct dhp_proto_request req = { .op = on ? DHP_PROTO_OP_ONLINE : DHP_PROTO_OP_OFFLINE,
					 .has_unit = true };

	c->cur = u;
	c->on = on;
	c->then = then;
	if (s->partition != c->partition) {
		if (on)
			qcall_fail(c, -EIO, "unit %s is not wired to partition %u", u->id,
				   c->partition);
		else
			then(c);	/* not there: nothing uses it */
		return;
	}
	if (s->boot && u->type == DHP_UNIT_MEMORY) {
		if (on)
			then(c);
		else
			qcall_fail(c, -EAGAIN, "%s is the boot memory of partition %u", u->id,
				   c->partition);
		return;
	}
	qdev_proto_unit(q, c->partition, u, &req.unit);
	if (u->type == DHP_UNIT_PROCESSOR && s->boot && !on) {
		qcall_fail(c, -EOPNOTSUPP, "%s is vCPU 0 of partition %u (the guest's cpu0), which "
			   "Linux cannot take offline", u->id, c->partition);
		return;
	}
	if (!agent_can(c, u, on))
		return;
	if (u->type == DHP_UNIT_IO_HOST_BRIDGE && !on) {
		qcall_qmp(c, "query-pci", NULL, q->unit_ms, got_pci);
		return;
	}
	qcall_agent(c, &req, phase_ms(q, u), set_answer);
}

static void set_done(struct qcall *c)
{
	qcall_finish(c, 0, NULL);
}

static void set_run(struct qcall *c)
{
	qemu_unit_set(c, c->unit, c->on, set_done);
}

static int set_call(struct dhp_backend *be, const struct dhp_partition *p,
		    const struct dhp_unit *unit, bool on, struct dhp_backend_cb cb)
{
	struct qcall *c = qcall_new(to_qemu(be), cb, p->id, unit);

	if (!c)
		return -ENOMEM;
	c->on = on;
	qcall_after(c, 0, set_run);
	return 0;
}

int qemu_online(struct dhp_backend *be, const struct dhp_partition *p,
		const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return set_call(be, p, unit, true, cb);
}

int qemu_offline(struct dhp_backend *be, const struct dhp_partition *p,
		 const struct dhp_unit *unit, struct dhp_backend_cb cb)
{
	return set_call(be, p, unit, false, cb);
}
