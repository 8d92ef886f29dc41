/* SPDX-License-Identifier: MIT */
/*
 * The state machine of one operation: phases forward, undo in reverse on
 * failure, and its end. The backend calls are in calls.c, the journal
 * writes and commits in journal.c.
 */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void op_step(struct core_op *cop);
static void op_fail(struct core_op *cop, int rc, const struct dhp_error *why, bool unknown);
static void undo_step(struct core_op *cop);
static void finish(struct core_op *cop, enum dhp_op_state state);

/*
 * Commit a step's record plainly. When the file system is full the
 * operation parks here, holding its units, with no backend call in
 * flight, until the journal has caught up with memory (catchup.c kicks
 * it then, and kick_fire goes on forward or backward): it never runs
 * ahead of its journal by more than the step it was in.
 */
static bool step_committed(struct core_op *cop)
{
	if (core_commit(cop->core, false, NULL) < 0 && core_journal_behind(cop->core)) {
		cop->parked = true;
		return false;
	}
	return true;
}

static void phase_done(struct core_op *cop)
{
	const struct phase_desc *ph = &cop->desc->phases[cop->op.phase];

	if (ph->run == STEP_NOTIFY && cop->sub_done)
		core_event(cop->core, DHP_EVENT_NOTIFY, cop->op.id, cop->op.partition,
			   core_call_unit(cop, ph->target), "OS told %s%s",
			   dhp_notification_name(ph->note),
			   dhp_notification_vetoable(ph->note) ? ": approved" : "");
	core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition, NULL,
		   "%s %u: phase %s done", dhp_op_kind_name(cop->op.kind), (unsigned)cop->op.phase + 1,
		   ph->name);
	cop->op.phase++;
	cop->cursor = 0;
	cop->sub_done = 0;
	core_put_op(cop->core, &cop->op);
	if (step_committed(cop))
		op_step(cop);
}

/*
 * An undo failed. A notification that did not get through changes no
 * hardware: the rollback stands. A unit whose hardware undo failed is in
 * an unknown state: it is fenced (health failed: never assigned again
 * until repaired, and the invariants no longer expect it to match) and
 * the operation ends failed.
 */
static void undo_failed(struct core_op *cop, const struct phase_desc *ph, int rc,
			const struct dhp_error *err)
{
	struct dhp_unit *u = core_call_unit(cop, ph->target);

	core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition, u,
		   "undo of phase %s failed: %s", ph->name,
		   err ? err->message : dhp_error_name(rc));
	if (ph->undo == STEP_NOTIFY)
		return;
	cop->undo_failed = true;
	if (u && u->health != DHP_HEALTH_FAILED) {
		u->health = DHP_HEALTH_FAILED;
		core_put_unit(cop->core, u);
		core_event(cop->core, DHP_EVENT_UNIT, cop->op.id, cop->op.partition, u,
			   "unit %s fenced: its state is unknown after a failed undo", u->id);
	}
}

/* The outcome of the call in flight: its answer, or its deadline. */
void core_op_result(struct core_op *cop, int rc, const struct dhp_error *err)
{
	const struct phase_desc *ph;

	if (cop->op.rolling_back) {
		ph = &cop->desc->phases[cop->op.phase - 1];
		if (rc)
			undo_failed(cop, ph, rc, err);
		else
			core_call_apply_power(cop, ph->undo, ph->target);
		cop->sub_done++;
		undo_step(cop);
		return;
	}
	ph = &cop->desc->phases[cop->op.phase];
	if (rc == -EHOSTDOWN && ph->at_target)
		cop->target_down = true;
	else if (rc == -EHOSTDOWN)
		cop->os_down = true;
	if (rc) {
		op_fail(cop, rc, err, rc == -ETIMEDOUT || cop->sub_done > 0);
		return;
	}
	core_call_apply_power(cop, ph->run, ph->target);
	cop->sub_done++;
	op_step(cop);
}

static void run_commit(struct core_op *cop)
{
	struct dhp_error err = { 0 };
	int r = cop->desc->commit(cop->core, &cop->op, &err);

	if (r < 0) {
		op_fail(cop, r, &err, false);
		return;
	}
	phase_done(cop);
}

static void op_step(struct core_op *cop)
{
	const struct phase_desc *ph;
	int r;

	if (cop->op.phase >= (int)cop->desc->n_phases) {
		finish(cop, DHP_OP_COMPLETED);
		return;
	}
	ph = &cop->desc->phases[cop->op.phase];
	if (ph->enter != DHP_PARTITION_STATE_MAX && !cop->sub_done && !cop->cursor)
		core_set_partition_state(cop->core, core_op_partition(cop), ph->enter, NULL);
	if (ph->run == STEP_COMMIT) {
		run_commit(cop);
		return;
	}
	r = core_call_issue(cop, ph, false);
	if (r == 1) {
		phase_done(cop);
	} else if (r < 0) {
		struct dhp_error why = { 0 };

		dhp_error_set(&why, r, "phase %s could not begin: %s", ph->name,
			      dhp_error_name(r));
		op_fail(cop, r, &why, cop->sub_done > 0);
	}
}

/* Steps only a running OS can take part in. */
static bool needs_os(enum step step)
{
	return step == STEP_NOTIFY || step == STEP_ONLINE || step == STEP_OFFLINE;
}

/* With the OS gone there is nobody to tell and nothing in use: undoing
 * its part is moot (the units' hardware is still undone). A move has two
 * OSes; the phase says whose. */
static bool os_is_down(struct core_op *cop, const struct phase_desc *ph)
{
	struct dhp_partition *p = core_phase_partition(cop, ph);

	return (ph->at_target ? cop->target_down : cop->os_down) ||
	       (p && p->state == DHP_PARTITION_FAILED);
}

static void undo_step(struct core_op *cop)
{
	const struct phase_desc *ph;
	int r;

	while (cop->op.phase > 0) {
		ph = &cop->desc->phases[cop->op.phase - 1];
		if (needs_os(ph->undo) && os_is_down(cop, ph)) {
			core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition,
				   NULL, "%s: undo of phase %s skipped: the OS is down",
				   dhp_op_kind_name(cop->op.kind), ph->name);
		} else if (ph->undo == STEP_NONE) {
			if (ph->run != STEP_COMMIT && ph->run != STEP_NOTIFY) {
				cop->undo_failed = true;
				core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id,
					   cop->op.partition, NULL,
					   "phase %s cannot be undone", ph->name);
			}
		} else {
			r = core_call_issue(cop, ph, true);
			if (r == 0)
				return;		/* call_done continues */
			if (r < 0) {
				cop->undo_failed = true;
				core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id,
					   cop->op.partition, NULL,
					   "undo of phase %s could not begin: %s", ph->name,
					   dhp_error_name(r));
			}
			core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition,
				   NULL, "%s: phase %s undone", dhp_op_kind_name(cop->op.kind),
				   ph->name);
		}
		cop->op.phase--;
		cop->cursor = 0;
		cop->sub_done = 0;
		core_put_op(cop->core, &cop->op);
		if (!step_committed(cop))
			return;
	}
	finish(cop, cop->undo_failed ? DHP_OP_FAILED : DHP_OP_ROLLED_BACK);
}

/*
 * A phase failed. Phases after the commit cannot undo the operation: the
 * failure is recorded and the operation goes on. Otherwise undo in
 * reverse, including the failed phase itself when its outcome is unknown
 * (it timed out, or it had done some of its units).
 */
static void op_fail(struct core_op *cop, int rc, const struct dhp_error *why, bool unknown)
{
	const struct phase_desc *ph = &cop->desc->phases[cop->op.phase];
	struct dhp_error *e = &cop->op.error;

	if ((unsigned)cop->op.phase > op_commit_phase(cop->desc)) {
		core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition, NULL,
			   "phase %s failed after the commit: %s", ph->name,
			   why ? why->message : dhp_error_name(rc));
		phase_done(cop);
		return;
	}
	dhp_error_clear(e);
	dhp_error_set(e, rc, "%s failed at phase %s: %s", dhp_op_kind_name(cop->op.kind),
		      ph->name, why && why->message[0] ? why->message : dhp_error_name(rc));
	if (why && why->resolution[0])
		dhp_error_resolve(e, "%s", why->resolution);
	core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition, NULL,
		   "%s: phase %s failed: %s", dhp_op_kind_name(cop->op.kind), ph->name,
		   why && why->message[0] ? why->message : dhp_error_name(rc));
	cop->op.rolling_back = true;
	if (unknown)
		cop->op.phase++;	/* undo it too: undos are idempotent */
	cop->cursor = 0;
	cop->sub_done = 0;
	core_put_op(cop->core, &cop->op);
	if (step_committed(cop))
		undo_step(cop);
}

static void finish(struct core_op *cop, enum dhp_op_state state)
{
	struct dhp_core *core = cop->core;
	struct dhp_partition *p = core_op_partition(cop);

	if (state == DHP_OP_ROLLED_BACK && p && p->state != DHP_PARTITION_FAILED) {
		if (cop->desc->undo_state != DHP_PARTITION_STATE_MAX)
			core_set_partition_state(core, p, cop->desc->undo_state, "rolled back");
	} else if (state == DHP_OP_FAILED && p && cop->desc->begin_state != DHP_PARTITION_STATE_MAX) {
		core_set_partition_state(core, p, DHP_PARTITION_FAILED, cop->op.error.message);
	}
	if (state == DHP_OP_ROLLED_BACK && cop->op.kind == DHP_OP_CREATE && p)
		dhp_server_remove_partition(core->server, cop->op.partition);
	cop->op.state = state;
	cop->op.rolling_back = false;
	cop->op.ended_ms = core_wall_ms();
	core_hold(core, &cop->op, 0);
	core_put_op(cop->core, &cop->op);
	if (state == DHP_OP_COMPLETED)
		core_event(core, DHP_EVENT_OP_STATE, cop->op.id, cop->op.partition, NULL,
			   "operation %llu %s: completed", (unsigned long long)cop->op.id,
			   dhp_op_kind_name(cop->op.kind));
	else
		core_event(core, DHP_EVENT_OP_STATE, cop->op.id, cop->op.partition, NULL,
			   "operation %llu %s: %s: %s", (unsigned long long)cop->op.id,
			   dhp_op_kind_name(cop->op.kind), dhp_op_state_name(state),
			   cop->op.error.message);
	core_op_ended(core, cop);
}

static void kick_fire(void *arg)
{
	struct core_op *cop = arg;
	struct dhp_partition *p = core_op_partition(cop);

	cop->kick = NULL;
	if (cop->op.rolling_back) {
		undo_step(cop);
		return;
	}
	if (cop->op.state == DHP_OP_QUEUED) {
		cop->op.state = DHP_OP_RUNNING;
		if (cop->desc->begin_state != DHP_PARTITION_STATE_MAX && p)
			core_set_partition_state(cop->core, p, cop->desc->begin_state, NULL);
		core_put_op(cop->core, &cop->op);
	}
	op_step(cop);
}

struct core_op *core_op_new(struct dhp_core *core, const struct dhp_op *op)
{
	struct core_op *cop = calloc(1, sizeof(*cop));

	if (!cop)
		return NULL;
	cop->op = *op;
	cop->core = core;
	cop->desc = op_desc(op->kind);
	cop->next = core->ops;
	core->ops = cop;
	return cop;
}

/* Run the operation from the next turn of the loop. */
void core_op_start(struct core_op *cop)
{
	cop->kick = dhp_timer_add(cop->core->loop, 0, kick_fire, cop);
	if (!cop->kick)
		kick_fire(cop);
}

void core_op_free(struct core_op *cop)
{
	if (!cop)
		return;
	dhp_timer_cancel(cop->core->loop, cop->deadline);
	dhp_timer_cancel(cop->core->loop, cop->kick);
	free(cop);
}
