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

#include "backend/qemu/call.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/object.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/process.h"
#include "backend/qemu/reconcile-apply.h"

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
	qemu_apply_devices(j->call.q, rec, j->cpus, j->mems, j->pci);
	if (reply && reply->has_state)
		qemu_apply_use(j->call.q, rec, &reply->state);
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
