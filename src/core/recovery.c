/* SPDX-License-Identifier: MIT */
/*
 * Start-up recovery (DESIGN.md §6). Ask the backend what really is there,
 * then drive every operation the journal left unfinished to an end:
 * committed ones are completed, STOP and RESTART are finished (their
 * phases are idempotent and there is no going back to a half-stopped OS),
 * everything else is undone: every phase before its commit, as the phase
 * in flight (and, after a power loss, the last ones recorded) may have
 * happened. Each decision is an event.
 */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

static void recovery_end(struct dhp_core *core, int rc, const struct dhp_error *err)
{
	dhp_core_done_fn done = core->recover_done;

	core->recover_done = NULL;
	core->recovered = rc == 0;
	core_commit(core, true, NULL);
	if (done)
		done(core->recover_ctx, rc, err);
}

static bool any_recovering(const struct dhp_core *core)
{
	for (const struct core_op *cop = core->ops; cop; cop = cop->next)
		if (cop->recovering)
			return true;
	for (const struct core_op *cop = core->ending; cop; cop = cop->next)
		if (cop->recovering)
			return true;
	return false;
}

/*
 * Partitions the journal has running but whose OS is down crashed while
 * dhp was away. They are marked failed before any operation resumes, so
 * the rollback of an operation on them skips what needs their OS.
 * Partitions starting or stopping are left to their operation.
 */
static void mark_down_partitions(struct dhp_core *core)
{
	for (size_t i = 0; i < core->view.n_partitions; i++) {
		struct dhp_partition *p = dhp_server_partition(core->server,
							       core->view.partitions[i].id);

		if (p)
			p->os_ready = core->view.partitions[i].os_ready;
		if (!p || p->state != DHP_PARTITION_RUNNING || core->view.partitions[i].running)
			continue;
		core_event(core, DHP_EVENT_RECOVERY, 0, p->id, NULL,
			   "partition %s was running but its OS is down", p->name);
		core_set_partition_state(core, p, DHP_PARTITION_FAILED, "found down at start-up");
	}
}

void core_recovery_progress(struct dhp_core *core)
{
	if (core->recovered || !core->recover_done || core->recover_token || any_recovering(core))
		return;
	recovery_end(core, 0, NULL);
}

/* Power is the hardware's to say: the journal follows it. */
static void reconcile_power(struct dhp_core *core)
{
	for (size_t i = 0; i < core->server->n_units; i++) {
		struct dhp_unit *u = &core->server->units[i];

		if (u->powered == core->view.units[i].powered)
			continue;
		u->powered = core->view.units[i].powered;
		core_put_unit(core, u);
		core_event(core, DHP_EVENT_RECOVERY, 0, u->partition, u,
			   "unit %s found powered %s", u->id, u->powered ? "on" : "off");
	}
}

static void resume_op(struct dhp_core *core, const struct dhp_op *op)
{
	const struct op_desc *desc = op_desc(op->kind);
	unsigned commit = op_commit_phase(desc);
	const char *at = op->phase < (int)desc->n_phases ? desc->phases[op->phase].name : "end";
	struct core_op *cop = core_op_new(core, op);

	if (!cop)
		return;
	cop->recovering = true;
	core_hold(core, &cop->op, op->id);
	cop->op.state = DHP_OP_RUNNING;
	if (op->rolling_back) {
		core_event(core, DHP_EVENT_RECOVERY, op->id, op->partition, NULL,
			   "operation %llu was rolling back: finishing the rollback",
			   (unsigned long long)op->id);
	} else if ((unsigned)op->phase > commit || desc->recover_forward) {
		core_event(core, DHP_EVENT_RECOVERY, op->id, op->partition, NULL,
			   "operation %llu was at phase %s: finishing it",
			   (unsigned long long)op->id, at);
	} else {
		dhp_error_set(&cop->op.error, -ECANCELED, "dhp stopped %s phase %s; the operation "
			      "was rolled back", op->state == DHP_OP_QUEUED ? "before" : "during", at);
		/* Phase records are plain commits, which a power loss may take
		 * (and with them the queued -> running step): undo every phase
		 * before the commit, not only those recorded. Undos are
		 * idempotent, so those that never ran change nothing. */
		cop->op.rolling_back = true;
		cop->op.phase = (int)commit;
		core_event(core, DHP_EVENT_RECOVERY, op->id, op->partition, NULL,
			   "operation %llu was at phase %s: rolling back",
			   (unsigned long long)op->id, at);
	}
	core_op_start(cop);
}

static void reconciled(void *ctx, uint64_t token, int rc, const struct dhp_error *err)
{
	struct dhp_core *core = ctx;
	struct dhp_op *ops = NULL;
	struct dhp_error e = { 0 };
	size_t n = 0;
	int r;

	if (token != core->recover_token)
		return;
	core->recover_token = 0;
	if (rc) {
		recovery_end(core, rc, err);
		return;
	}
	reconcile_power(core);
	mark_down_partitions(core);
	r = dhp_store_unfinished_ops(core->store, core->server, &ops, &n, &e);
	if (r < 0) {
		recovery_end(core, r, &e);
		return;
	}
	for (size_t i = 0; i < n; i++)
		resume_op(core, &ops[i]);
	free(ops);
	core_commit(core, false, NULL);
	core_recovery_progress(core);
}

int dhp_core_recover(struct dhp_core *core, dhp_core_done_fn done, void *ctx)
{
	struct dhp_backend_view *view = &core->view;
	struct dhp_backend_cb cb = { reconciled, core, ++core->next_token };
	int r;

	if (core->recovered || core->recover_done)
		return -EALREADY;
	view->n_units = core->server->n_units;
	view->units = calloc(view->n_units ? view->n_units : 1, sizeof(*view->units));
	view->n_partitions = core->server->n_partitions;
	view->partitions = calloc(view->n_partitions ? view->n_partitions : 1,
				  sizeof(*view->partitions));
	if (!view->units || !view->partitions)
		return -ENOMEM;
	for (size_t i = 0; i < view->n_partitions; i++)
		view->partitions[i].id = core->server->partitions[i]->id;
	core->recover_done = done;
	core->recover_ctx = ctx;
	core->recover_token = cb.token;
	r = core->backend->ops->reconcile(core->backend, view, cb);
	if (r < 0) {
		core->recover_done = NULL;
		core->recover_token = 0;
	}
	return r;
}
