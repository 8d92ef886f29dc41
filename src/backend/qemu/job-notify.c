/* SPDX-License-Identifier: MIT */
/*
 * The one-step jobs. Power is simulated (QEMU has no per-unit power): a
 * flag in the state file. A notification goes to the agent as it is
 * (notify, with the note's own name, the unit as the guest sees it); deny
 * is -EPERM, a veto. The agent's report is for tests and tools
 * (dhp_qemu_report).
 */
#include <errno.h>
#include <stdlib.h>

#include "backend/qemu/call.h"
#include "backend/qemu/devices.h"
#include "backend/qemu/job-online.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"

/* ---- power ---- */

struct power_job {
	struct qcall call;
	const struct dhp_unit *unit;
	bool on;
};

static void power_step(struct qcall *c)
{
	struct power_job *j = (struct power_job *)c;
	struct qs_unit *s = qemu_unit_state(c->q, j->unit);

	if (!j->on && s->partition && s->online && qpart_find(c->q, s->partition)) {
		qcall_fail(c, -EBUSY, "unit %s is in use by partition %u", j->unit->id,
			   s->partition);
		return;
	}
	s->powered = j->on;
	qcall_end(c, 0, NULL);
}

int qemu_power(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
	       struct dhp_backend_cb cb)
{
	struct qemu *q = to_qemu(be);
	struct power_job *j = (struct power_job *)qcall_new(q, sizeof(*j), cb,
							    qemu_unit_state(q, unit)->partition,
							    power_step);

	if (!j)
		return -ENOMEM;
	j->unit = unit;
	j->on = on;
	return 0;
}

/* ---- notifications ---- */

struct notify_job {
	struct qcall call;
	const struct dhp_unit *unit;
	enum dhp_notification note;
};

static void notify_step(struct qcall *c)
{
	struct notify_job *j = (struct notify_job *)c;
	const char *name = dhp_notification_name(j->note);
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_NOTIFY, .has_unit = true };
	const char *why = c->got_err ? c->got_err->message : "";

	if (c->wake == QCALL_AGENT) {	/* the answer */
		if (c->got == -EPERM)
			qcall_fail(c, -EPERM, "the OS of partition %u vetoed %s of %s: %s",
				   c->partition, name, j->unit->id, why);
		else if (c->got)
			qcall_fail(c, c->got, "%s of %s in partition %u: %s", name, j->unit->id,
				   c->partition, why);
		else
			qcall_end(c, 0, NULL);
		return;
	}
	/* The two enums share their words (proto/names.c). */
	if (dhp_proto_note_parse(name, &req.note) < 0) {
		qcall_fail(c, -EINVAL, "no notification \"%s\" in the agent protocol", name);
		return;
	}
	if (qpart_agent_refused(c, "notify"))
		return;
	qdev_proto_unit(c->q, c->partition, j->unit, &req.unit);
	qcall_agent(c, &req, qemu_phase_ms(c->q, j->unit));
}

int qemu_notify(struct dhp_backend *be, const struct dhp_partition *p,
		enum dhp_notification note, const struct dhp_unit *unit,
		struct dhp_backend_cb cb)
{
	struct notify_job *j = (struct notify_job *)qcall_new(to_qemu(be), sizeof(*j), cb, p->id,
							      notify_step);

	if (!j)
		return -ENOMEM;
	j->unit = unit;
	j->note = note;
	return 0;
}

/* ---- the agent's report ---- */

struct report_job {
	struct qcall call;
	dhp_qemu_report_fn fn;
	void *ctx;
	struct dhp_proto_state *state;	/* its answer */
};

static void report_step(struct qcall *c)
{
	struct report_job *j = (struct report_job *)c;
	struct dhp_proto_request req = { .op = DHP_PROTO_OP_REPORT };

	if (c->wake == QCALL_BEGIN) {
		qcall_agent(c, &req, c->q->unit_ms);
		return;
	}
	if (c->got) {
		qcall_fail_got(c);
		return;
	}
	j->state = malloc(sizeof(*j->state));
	if (!j->state) {
		qcall_fail(c, -ENOMEM, "out of memory");
		return;
	}
	*j->state = c->reply->state;
	qcall_end(c, 0, NULL);
}

static void report_answer(struct qcall *c)
{
	struct report_job *j = (struct report_job *)c;

	j->fn(j->ctx, c->rc, c->rc ? NULL : j->state, c->rc ? &c->err : NULL);
}

static void report_release(struct qcall *c)
{
	free(((struct report_job *)c)->state);
}

int dhp_qemu_report(struct dhp_backend *be, uint32_t partition, dhp_qemu_report_fn fn,
		    void *ctx)
{
	struct report_job *j;

	if (!qemu_is(be) || !fn)
		return -EINVAL;
	j = (struct report_job *)qcall_new(to_qemu(be), sizeof(*j), (struct dhp_backend_cb){ 0 },
					   partition, report_step);
	if (!j)
		return -ENOMEM;
	j->call.answer = report_answer;
	j->call.release = report_release;
	j->fn = fn;
	j->ctx = ctx;
	return 0;
}
