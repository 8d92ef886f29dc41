/* SPDX-License-Identifier: MIT */
/*
 * Plans run as one operation (issue 11): a resize (a set of units to add
 * and a set to remove, for one partition) and a move (units from one
 * running partition to another). Checked whole before anything changes:
 * a step the OS profile cannot do refuses the plan and names the step.
 * Their phases are in phases.c; here are the checks and the commits.
 *
 * The plan is kept in op.units, adds first: units[0..n_add) join, the
 * rest leave (a move's units all do both, from op.partition to
 * op.target).
 */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

/* Find each of ids, not busy and not named twice in the plan so far. */
static int collect(struct dhp_core *core, const char *const *ids, size_t n, struct dhp_op *op,
		   struct dhp_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct dhp_unit *u;
		uint32_t index;
		int r;

		if (op->n_units == DHP_OP_MAX_UNITS)
			return dhp_error_set(err, -EINVAL, "at most %d units per request",
					     DHP_OP_MAX_UNITS);
		r = core_find_unit(core, ids ? ids[i] : NULL, &u, err);
		if (r < 0)
			return r;
		index = dhp_server_unit_index(core->server, u);
		for (unsigned j = 0; j < op->n_units; j++)
			if (op->units[j] == index)
				return dhp_error_set(err, -EINVAL, "unit %s is named twice", u->id);
		op->units[op->n_units++] = index;
	}
	return 0;
}

static struct dhp_unit *unit_at(struct dhp_core *core, const struct dhp_op *op, unsigned i)
{
	return &core->server->units[op->units[i]];
}

/* "step 2 of 3 (remove s0-cpu1): ", to put before a step's refusal. */
static void step_prefix(const struct dhp_op *op, unsigned i, const struct dhp_unit *u,
			char *buf, size_t size)
{
	snprintf(buf, size, "step %u of %u (%s %s): ", i + 1, op->n_units,
		 i < op->n_add ? "add" : "remove", u->id);
}

/* A refusal of one step: its message prefixed with which step it is. */
static int refuse_step(const struct dhp_op *op, unsigned i, const struct dhp_unit *u,
		       struct dhp_error *err)
{
	struct dhp_error step = *err;
	char prefix[64];

	step_prefix(op, i, u, prefix, sizeof(prefix));
	dhp_error_clear(err);
	dhp_error_set(err, step.code, "%s%s", prefix, step.message);
	if (step.resolution[0])
		dhp_error_resolve(err, "%s", step.resolution);
	return step.code;
}

/*
 * Each step on its own: an add takes a free unit outside the spare pool,
 * a remove a unit of the partition (a staged add can be withdrawn only
 * offline; online, the boot memory stays).
 */
static int check_steps(struct dhp_core *core, const struct dhp_request *req,
		       const struct dhp_partition *p, const struct dhp_op *op, bool online,
		       struct dhp_error *err)
{
	for (unsigned i = 0; i < op->n_units; i++) {
		const struct dhp_unit *u = unit_at(core, op, i);
		bool add = i < op->n_add;
		int r;

		if (add)
			r = core_need_usable(core, req, u, err);
		else if (u->partition != p->id && (online || u->staged_partition != p->id))
			r = dhp_error_set(err, -EINVAL, "unit %s is not in partition \"%s\"",
					  u->id, p->name);
		else
			r = 0;
		if (!r && online)
			r = core_check_online(core, p, add ? DHP_ONLINE_ADD : DHP_ONLINE_REMOVE, u,
					      err);
		if (!r && online && !add && u->boot) {
			dhp_error_set(err, -EOPNOTSUPP, "%s is the boot memory of \"%s\" and "
				      "cannot be removed while it runs", u->id, p->name);
			r = dhp_error_resolve(err, "remove it with apply time on-restart");
		}
		if (!r && online && !add && u->staged_remove) {
			dhp_error_set(err, -EBUSY, "unit %s is staged to leave \"%s\" at its restart",
				      u->id, p->name);
			r = dhp_error_resolve(err, "leave it out of the plan, or restart first");
		}
		if (r < 0)
			return refuse_step(op, i, u, err);
	}
	return 0;
}

/*
 * A unit brought online in an OS that cannot hot remove its type cannot
 * be taken back (the Windows profiles): undoing that online would fail.
 * So such a unit can only be the whole plan, its online the last phase
 * before the commit; a plan of several is refused, not half-undone. The
 * adds (a move's units, at p its target) are units[0..n).
 */
static int check_undoable(const struct dhp_partition *p, const struct dhp_op *op,
			  struct dhp_core *core, unsigned n, struct dhp_error *err)
{
	for (unsigned i = 0; i < n && op->n_units > 1; i++) {
		const struct dhp_unit *u = unit_at(core, op, i);

		if (dhp_profile_can(p->profile, DHP_ONLINE_REMOVE, u->type))
			continue;
		dhp_error_set(err, -EOPNOTSUPP, "%s cannot take back a %s once it is online "
			      "(no hot remove), so a plan of %u units could not be undone if a "
			      "later step failed", p->profile->description,
			      dhp_unit_type_name(u->type), op->n_units);
		dhp_error_resolve(err, "add the units one request at a time, or stage the plan "
				  "with apply time on-restart");
		return refuse_step(op, i, u, err);
	}
	return 0;
}

/* After the plan, a running partition still has a processor and memory
 * (the adds come first, so it never has fewer on the way). */
static int check_minimum_after(struct dhp_core *core, const struct dhp_partition *p,
			       const struct dhp_op *op, unsigned first_removed,
			       struct dhp_error *err)
{
	for (int t = DHP_UNIT_PROCESSOR; t <= DHP_UNIT_MEMORY; t++) {
		long have = dhp_server_count_units(core->server, p->id, (enum dhp_unit_type)t);

		for (unsigned i = 0; i < op->n_units; i++)
			if (unit_at(core, op, i)->type == (enum dhp_unit_type)t)
				have += i < first_removed ? 1 : -1;
		if (have < 1) {
			dhp_error_set(err, -ERANGE, "partition \"%s\" would be left without a %s",
				      p->name, dhp_unit_type_name((enum dhp_unit_type)t));
			return dhp_error_resolve(err, "add another %s in the plan, or remove fewer",
						 dhp_unit_type_name((enum dhp_unit_type)t));
		}
	}
	return 0;
}

int core_validate_resize(struct dhp_core *core, const struct dhp_request *req,
			 struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err)
{
	bool running = p->state == DHP_PARTITION_RUNNING;
	bool online = running && !req->on_restart;
	int r;

	if (!req->n_units && !req->n_remove) {
		dhp_error_set(err, -EINVAL, "the resize names no unit to add or remove");
		return dhp_error_resolve(err, "name the units to add, to remove, or both");
	}
	if (req->n_units + req->n_remove > DHP_OP_MAX_UNITS)
		return dhp_error_set(err, -EINVAL, "at most %d units per request",
				     DHP_OP_MAX_UNITS);
	r = collect(core, req->units, req->n_units, op, err);
	op->n_add = op->n_units;
	if (!r)
		r = collect(core, req->remove_units, req->n_remove, op, err);
	if (!r)
		r = check_steps(core, req, p, op, online, err);
	if (!r && online)
		r = check_minimum_after(core, p, op, op->n_add, err);
	if (!r && online)
		r = check_undoable(p, op, core, op->n_add, err);
	if (r < 0)
		return r;
	op->kind = online ? DHP_OP_HOT_RESIZE : DHP_OP_RESIZE;
	op->staged = !online && p->state != DHP_PARTITION_STOPPED;
	return 0;
}

static int find_target(struct dhp_core *core, const struct dhp_request *req,
		       const struct dhp_partition *p, struct dhp_partition **ret_t,
		       struct dhp_error *err)
{
	struct dhp_partition *t = NULL;
	int r;

	if (!req->target || !*req->target) {
		dhp_error_set(err, -EINVAL, "the move names no target partition");
		return dhp_error_resolve(err, "name the partition that receives the units");
	}
	if (!strcmp(req->target, p->name)) {
		dhp_error_set(err, -EINVAL, "cannot move units from \"%s\" to itself", p->name);
		return dhp_error_resolve(err, "name another partition as the target");
	}
	r = core_find_partition(core, req->target, &t, err);
	if (r < 0)
		return r;
	for (int i = 0; i < 2; i++) {
		const struct dhp_partition *q = i ? t : p;

		if (q->state != DHP_PARTITION_RUNNING) {
			dhp_error_set(err, -ENOTCONN, "partition \"%s\" is %s: a move is between "
				      "two running partitions", q->name,
				      dhp_partition_state_name(q->state));
			return dhp_error_resolve(err, "start it first, or remove the units and add "
						 "them with apply time on-restart");
		}
	}
	*ret_t = t;
	return 0;
}

int core_validate_move(struct dhp_core *core, const struct dhp_request *req,
		       struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_partition *t = NULL;
	int r;

	if (req->on_restart) {
		dhp_error_set(err, -EINVAL, "a move cannot be staged");
		return dhp_error_resolve(err, "stage a remove and an add with apply time on-restart");
	}
	if (!req->n_units)
		return dhp_error_set(err, -EINVAL, "the move names no unit");
	r = find_target(core, req, p, &t, err);
	if (!r)
		r = collect(core, req->units, req->n_units, op, err);
	if (r < 0)
		return r;
	/* As a remove from p, then as an add to t: each names its own step. */
	op->n_add = 0;
	r = check_steps(core, req, p, op, true, err);
	if (!r)
		r = check_minimum_after(core, p, op, 0, err);
	for (unsigned i = 0; !r && i < op->n_units; i++) {
		r = core_check_online(core, t, DHP_ONLINE_ADD, unit_at(core, op, i), err);
		if (r < 0) {
			op->n_add = op->n_units;	/* name it an add */
			r = refuse_step(op, i, unit_at(core, op, i), err);
		}
	}
	if (!r) {
		op->n_add = op->n_units;	/* a refusal names an add */
		r = check_undoable(t, op, core, op->n_units, err);
	}
	if (r < 0)
		return r;
	op->n_add = 0;
	op->kind = DHP_OP_HOT_MOVE;
	op->target = t->id;
	return 0;
}

/* Stopped (or staged): an assign of the adds and an unassign of the
 * removes, in one commit. */
int core_commit_resize(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)err;
	for (unsigned i = 0; i < op->n_units; i++) {
		struct dhp_unit *u = unit_at(core, op, i);

		if (i < op->n_add && op->staged)
			u->staged_partition = op->partition;
		else if (i < op->n_add)
			u->partition = op->partition;
		else if (u->staged_partition == op->partition)
			u->staged_partition = DHP_NO_PARTITION;	/* a staged add withdrawn */
		else if (op->staged)
			u->staged_remove = true;
		else
			core_unit_release(u);
		core_put_unit(core, u);
	}
	return 0;
}

int core_commit_hot_resize(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)err;
	for (unsigned i = 0; i < op->n_units; i++) {
		struct dhp_unit *u = unit_at(core, op, i);

		if (i < op->n_add)
			u->partition = op->partition;
		else
			core_unit_release(u);
		core_put_unit(core, u);
	}
	return 0;
}

int core_commit_hot_move(struct dhp_core *core, struct dhp_op *op, struct dhp_error *err)
{
	(void)err;
	for (unsigned i = 0; i < op->n_units; i++) {
		struct dhp_unit *u = unit_at(core, op, i);

		core_unit_release(u);
		u->partition = op->target;
		core_put_unit(core, u);
	}
	return 0;
}
