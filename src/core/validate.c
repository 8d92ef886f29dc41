/* SPDX-License-Identifier: MIT */
/*
 * Checking a request against the model before anything is written: the
 * rules of DESIGN.md §3 (mode, OS profile, ownership, health, minimums)
 * and the choice of operation kind for a verb. Every refusal says what was
 * wrong and what to do.
 */
#include "core/internal.h"

#include <stdio.h>
#include <string.h>

int core_find_partition(struct dhp_core *core, const char *name, struct dhp_partition **ret_p,
			struct dhp_error *err)
{
	struct dhp_partition *p = dhp_server_partition_by_name(core->server, name);

	if (!name)
		return dhp_error_set(err, -EINVAL, "no partition named in the request");
	if (!p) {
		dhp_error_set(err, -ENOENT, "no partition \"%s\"", name);
		return dhp_error_resolve(err, "list partitions to see their names");
	}
	if (p->busy_op) {
		dhp_error_set(err, -EBUSY, "partition \"%s\" is busy with operation %llu",
			      p->name, (unsigned long long)p->busy_op);
		return dhp_error_resolve(err, "wait for that operation to end, then retry");
	}
	*ret_p = p;
	return 0;
}

int core_find_unit(struct dhp_core *core, const char *id, struct dhp_unit **ret_unit,
		   struct dhp_error *err)
{
	struct dhp_unit *u = dhp_server_unit(core->server, id);

	if (!u) {
		dhp_error_set(err, -ENOENT, "no unit \"%s\" in server %s", id ? id : "",
			      core->server->name);
		return dhp_error_resolve(err, "list units to see their ids");
	}
	if (u->busy_op) {
		dhp_error_set(err, -EBUSY, "unit %s is busy with operation %llu", u->id,
			      (unsigned long long)u->busy_op);
		return dhp_error_resolve(err, "wait for that operation to end, then retry");
	}
	*ret_unit = u;
	return 0;
}

int core_need_free(struct dhp_core *core, const struct dhp_request *req,
		   const struct dhp_unit *u, struct dhp_error *err)
{
	const struct dhp_partition *owner;

	if (u->partition || u->staged_partition) {
		owner = dhp_server_partition(core->server,
					     u->partition ? u->partition : u->staged_partition);
		dhp_error_set(err, -EBUSY, "unit %s %s partition \"%s\"", u->id,
			      u->partition ? "belongs to" : "is staged to join",
			      owner ? owner->name : "?");
		return dhp_error_resolve(err, "remove it from that partition first, or pick a free unit");
	}
	if (u->health == DHP_HEALTH_FAILED)
		return dhp_error_set(err, -EIO, "unit %s has failed and cannot be used", u->id);
	return core_check_hold(core, u, req->reservation, err);
}

/*
 * The spare pool is held back for hot replaces: naming a spare in a
 * create, add or resize is refused rather than taken, so that the pool
 * never shrinks by accident; the operator takes the unit out of the pool
 * first, which is the explicit request.
 */
int core_need_usable(struct dhp_core *core, const struct dhp_request *req,
		     const struct dhp_unit *u, struct dhp_error *err)
{
	int r = core_need_free(core, req, u, err);

	if (r < 0 || !u->spare)
		return r;
	dhp_error_set(err, -EBUSY, "unit %s is in the spare pool, held back for hot replaces",
		      u->id);
	return dhp_error_resolve(err, "take it out of the spare pool first, or pick another unit");
}

/* Collect the request's units into op, each found, not busy, not twice. */
static int collect_units(struct dhp_core *core, const struct dhp_request *req,
			 struct dhp_op *op, size_t min, struct dhp_error *err)
{
	if (req->n_units < min)
		return dhp_error_set(err, -EINVAL, "the request names no unit");
	if (req->n_units > DHP_OP_MAX_UNITS)
		return dhp_error_set(err, -EINVAL, "at most %d units per request",
				     DHP_OP_MAX_UNITS);
	for (size_t i = 0; i < req->n_units; i++) {
		struct dhp_unit *u;
		int r = core_find_unit(core, req->units[i], &u, err);

		if (r < 0)
			return r;
		for (unsigned j = 0; j < op->n_units; j++)
			if (op->units[j] == dhp_server_unit_index(core->server, u))
				return dhp_error_set(err, -EINVAL, "unit %s is named twice", u->id);
		op->units[op->n_units++] = dhp_server_unit_index(core->server, u);
	}
	return 0;
}

static struct dhp_unit *op_unit(struct dhp_core *core, const struct dhp_op *op, unsigned i)
{
	return &core->server->units[op->units[i]];
}

/* A change to a running partition: allowed online, or refused with advice. */
int core_check_online(struct dhp_core *core, const struct dhp_partition *p,
		      enum dhp_online_action action, const struct dhp_unit *u,
		      struct dhp_error *err)
{
	if (core->server->mode == DHP_MODE_STATIC) {
		dhp_error_set(err, -EROFS, "server %s is statically partitioned: running partitions "
			      "cannot change", core->server->name);
		return dhp_error_resolve(err, "stage the change with apply time on-restart");
	}
	if (!p->os_ready) {
		dhp_error_set(err, -ENOTCONN, "the OS of partition \"%s\" takes no part in online "
			      "operations (no agent is connected)", p->name);
		return dhp_error_resolve(err, "stage the change with apply time on-restart, or "
					 "wait for its agent");
	}
	if (!dhp_profile_can(p->profile, action, u->type)) {
		dhp_error_set(err, -EOPNOTSUPP, "%s cannot %s a %s", p->profile->description,
			      dhp_online_action_name(action), dhp_unit_type_name(u->type));
		return dhp_error_resolve(err, "stage the change with apply time on-restart, "
					 "or stop the partition first");
	}
	return 0;
}

/* The partition keeps at least one processor and one memory module. */
static int check_minimum(struct dhp_core *core, const struct dhp_partition *p,
			 const struct dhp_op *op, struct dhp_error *err)
{
	for (int t = DHP_UNIT_PROCESSOR; t <= DHP_UNIT_MEMORY; t++) {
		unsigned have = dhp_server_count_units(core->server, p->id, (enum dhp_unit_type)t);
		unsigned going = 0;

		for (unsigned i = 0; i < op->n_units; i++)
			going += op_unit(core, op, i)->type == (enum dhp_unit_type)t &&
				 op_unit(core, op, i)->partition == p->id;
		if (going && going >= have) {
			dhp_error_set(err, -ERANGE, "partition \"%s\" would be left without a %s",
				      p->name, dhp_unit_type_name((enum dhp_unit_type)t));
			return dhp_error_resolve(err, "add another %s first",
						 dhp_unit_type_name((enum dhp_unit_type)t));
		}
	}
	return 0;
}

static int validate_create(struct dhp_core *core, const struct dhp_request *req,
			   struct dhp_op *op, struct dhp_error *err)
{
	int r;

	if (dhp_partition_name_check(req->partition)) {
		dhp_error_set(err, -EINVAL, "invalid partition name \"%s\"",
			      req->partition ? req->partition : "");
		return dhp_error_resolve(err, "use 1-63 letters, digits, '.', '_' or '-', "
					 "starting with a letter or digit");
	}
	if (dhp_server_partition_by_name(core->server, req->partition))
		return dhp_error_set(err, -EEXIST, "a partition \"%s\" exists already",
				     req->partition);
	op->profile = dhp_profile_find(req->profile ? req->profile : "linux");
	if (!op->profile) {
		dhp_error_set(err, -EINVAL, "unknown OS profile \"%s\"", req->profile);
		return dhp_error_resolve(err, "use linux, windows-server-2003-sp1, "
					 "windows-server-2008-x86 or windows-server-2008-x64");
	}
	r = collect_units(core, req, op, 0, err);
	for (unsigned i = 0; !r && i < op->n_units; i++)
		r = core_need_usable(core, req, op_unit(core, op, i), err);
	if (r < 0)
		return r;
	op->kind = DHP_OP_CREATE;
	op->partition = core->counters.next_partition_id;
	snprintf(op->partition_name, sizeof(op->partition_name), "%s", req->partition);
	return 0;
}

/* The units the partition will own after its staged changes can start it. */
static int check_next_set(struct dhp_core *core, const struct dhp_partition *p,
			  struct dhp_error *err)
{
	unsigned n[DHP_UNIT_TYPE_MAX] = { 0 };

	for (size_t i = 0; i < core->server->n_units; i++) {
		const struct dhp_unit *u = &core->server->units[i];

		if (!unit_in_next(u, p->id))
			continue;
		if (u->health == DHP_HEALTH_FAILED)
			return dhp_error_set(err, -EIO, "unit %s of partition \"%s\" has failed",
					     u->id, p->name);
		if (u->busy_op)
			return dhp_error_set(err, -EBUSY, "unit %s is busy with operation %llu",
					     u->id, (unsigned long long)u->busy_op);
		n[u->type]++;
	}
	if (!n[DHP_UNIT_PROCESSOR] || !n[DHP_UNIT_MEMORY]) {
		dhp_error_set(err, -ERANGE, "partition \"%s\" needs at least one processor and "
			      "one memory module to start", p->name);
		return dhp_error_resolve(err, "add a %s first",
					 n[DHP_UNIT_PROCESSOR] ? "memory module" : "processor");
	}
	return 0;
}

static int validate_add(struct dhp_core *core, const struct dhp_request *req,
			struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err)
{
	bool running = p->state == DHP_PARTITION_RUNNING;
	int r = collect_units(core, req, op, 1, err);

	for (unsigned i = 0; !r && i < op->n_units; i++)
		r = core_need_usable(core, req, op_unit(core, op, i), err);
	if (r < 0)
		return r;
	if (!running || req->on_restart) {
		op->kind = DHP_OP_ASSIGN;
		op->staged = running || p->state != DHP_PARTITION_STOPPED;
		return 0;
	}
	if (op->n_units != 1)
		return dhp_error_set(err, -EINVAL, "hot add takes one unit per request");
	r = core_check_online(core, p, DHP_ONLINE_ADD, op_unit(core, op, 0), err);
	op->kind = DHP_OP_HOT_ADD;
	return r;
}

static int validate_remove(struct dhp_core *core, const struct dhp_request *req,
			   struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err)
{
	bool running = p->state == DHP_PARTITION_RUNNING;
	int r = collect_units(core, req, op, 1, err);

	for (unsigned i = 0; !r && i < op->n_units; i++) {
		const struct dhp_unit *u = op_unit(core, op, i);

		if (u->partition != p->id && u->staged_partition != p->id)
			r = dhp_error_set(err, -EINVAL, "unit %s is not in partition \"%s\"",
					  u->id, p->name);
	}
	if (r < 0)
		return r;
	if (!running || req->on_restart) {
		op->kind = DHP_OP_UNASSIGN;
		op->staged = running || p->state != DHP_PARTITION_STOPPED;
		return 0;	/* a stopped partition may go below the minimum: it won't start */
	}
	if (op->n_units != 1)
		return dhp_error_set(err, -EINVAL, "hot remove takes one unit per request");
	if (op_unit(core, op, 0)->partition != p->id)
		return dhp_error_set(err, -EINVAL, "unit %s only joins \"%s\" at its restart",
				     op_unit(core, op, 0)->id, p->name);
	r = core_check_online(core, p, DHP_ONLINE_REMOVE, op_unit(core, op, 0), err);
	if (!r && op_unit(core, op, 0)->boot) {
		dhp_error_set(err, -EOPNOTSUPP, "%s is the boot memory of \"%s\" and cannot be "
			      "removed while it runs", op_unit(core, op, 0)->id, p->name);
		r = dhp_error_resolve(err, "remove it with apply time on-restart");
	}
	if (!r)
		r = check_minimum(core, p, op, err);
	op->kind = DHP_OP_HOT_REMOVE;
	return r;
}

/*
 * The unit to take for old: a free, healthy, identical one, from the
 * spare pool first, on old's socket first (its memory is local to the
 * same processors), then any other free identical unit, again on the
 * same socket first. Lowest rank wins; ties go to the first in the
 * topology, so the pick is deterministic.
 */
static struct dhp_unit *pick_spare(struct dhp_core *core, const struct dhp_unit *old)
{
	struct dhp_unit *best = NULL;
	int best_rank = 4;

	for (size_t i = 0; i < core->server->n_units; i++) {
		struct dhp_unit *u = &core->server->units[i];
		int rank;

		if (u == old || !dhp_unit_is_free(u) || u->health != DHP_HEALTH_OK ||
		    !dhp_unit_identical(u, old) ||
		    dhp_unit_held(u, dhp_loop_now(core->loop), 0))
			continue;
		rank = (u->spare ? 0 : 2) + (u->socket == old->socket ? 0 : 1);
		if (rank < best_rank) {
			best = u;
			best_rank = rank;
		}
	}
	return best;
}

static int validate_replace(struct dhp_core *core, const struct dhp_request *req,
			    struct dhp_partition *p, struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_unit *old, *spare;
	int r = collect_units(core, req, op, 1, err);

	if (r < 0)
		return r;
	if (op->n_units != 1)
		return dhp_error_set(err, -EINVAL, "hot replace takes one unit per request");
	old = op_unit(core, op, 0);
	if (old->partition != p->id)
		return dhp_error_set(err, -EINVAL, "unit %s is not in partition \"%s\"", old->id,
				     p->name);
	if (p->state != DHP_PARTITION_RUNNING) {
		dhp_error_set(err, -ENOTCONN, "partition \"%s\" is not running", p->name);
		return dhp_error_resolve(err, "while it is stopped, remove the unit and add another");
	}
	r = core_check_online(core, p, DHP_ONLINE_REPLACE, old, err);
	if (r < 0)
		return r;
	if (req->spare) {
		r = core_find_unit(core, req->spare, &spare, err);
		if (!r)
			r = core_need_free(core, req, spare, err);
		if (!r && (spare == old || !dhp_unit_identical(spare, old)))
			r = dhp_error_set(err, -EINVAL, "unit %s is not identical to %s (same type, "
					  "model and capacity)", spare->id, old->id);
		if (r < 0)
			return r;
	} else {
		spare = pick_spare(core, old);
		if (!spare) {
			dhp_error_set(err, -ENOSPC, "no free unit identical to %s", old->id);
			return dhp_error_resolve(err, "free an identical unit, or name a spare");
		}
	}
	op->spare = (int32_t)dhp_server_unit_index(core->server, spare);
	op->kind = DHP_OP_HOT_REPLACE;
	return 0;
}

static int validate_power(struct dhp_core *core, const struct dhp_request *req,
			  struct dhp_op *op, struct dhp_error *err)
{
	int r = collect_units(core, req, op, 1, err);

	if (r < 0)
		return r;
	if (op->n_units != 1)
		return dhp_error_set(err, -EINVAL, "power one unit per request");
	if (op_unit(core, op, 0)->partition)
		return dhp_error_set(err, -EBUSY, "unit %s belongs to a partition: its power "
				     "follows the partition", op_unit(core, op, 0)->id);
	op->kind = req->verb == DHP_VERB_POWER_ON ? DHP_OP_POWER_ON : DHP_OP_POWER_OFF;
	return 0;
}

static int validate_partition_verb(struct dhp_core *core, const struct dhp_request *req,
				   struct dhp_op *op, struct dhp_error *err)
{
	struct dhp_partition *p = NULL;
	int r = core_find_partition(core, req->partition, &p, err);

	if (r < 0)
		return r;
	op->partition = p->id;
	snprintf(op->partition_name, sizeof(op->partition_name), "%s", p->name);
	switch (req->verb) {
	case DHP_VERB_DELETE:
		if (p->state != DHP_PARTITION_STOPPED) {
			dhp_error_set(err, -EBUSY, "partition \"%s\" is %s", p->name,
				      dhp_partition_state_name(p->state));
			return dhp_error_resolve(err, "stop it first");
		}
		op->kind = DHP_OP_DELETE;
		return 0;
	case DHP_VERB_START:
		if (p->state != DHP_PARTITION_STOPPED && p->state != DHP_PARTITION_FAILED)
			return dhp_error_set(err, -EBUSY, "partition \"%s\" is %s", p->name,
					     dhp_partition_state_name(p->state));
		/* What is left of a failed OS is stopped first: a restart. */
		op->kind = p->state == DHP_PARTITION_FAILED ? DHP_OP_RESTART : DHP_OP_START;
		return check_next_set(core, p, err);
	case DHP_VERB_STOP:
		if (p->state != DHP_PARTITION_RUNNING && p->state != DHP_PARTITION_FAILED)
			return dhp_error_set(err, -EBUSY, "partition \"%s\" is %s", p->name,
					     dhp_partition_state_name(p->state));
		op->kind = DHP_OP_STOP;
		return 0;
	case DHP_VERB_RESTART:
		if (p->state != DHP_PARTITION_RUNNING)
			return dhp_error_set(err, -EBUSY, "partition \"%s\" is %s", p->name,
					     dhp_partition_state_name(p->state));
		op->kind = DHP_OP_RESTART;
		return check_next_set(core, p, err);
	case DHP_VERB_ADD:
		return validate_add(core, req, p, op, err);
	case DHP_VERB_REMOVE:
		return validate_remove(core, req, p, op, err);
	case DHP_VERB_REPLACE:
		return validate_replace(core, req, p, op, err);
	case DHP_VERB_RESIZE:
		return core_validate_resize(core, req, p, op, err);
	case DHP_VERB_MOVE:
		return core_validate_move(core, req, p, op, err);
	default:
		return dhp_error_set(err, -EINVAL, "unknown request");
	}
}

int core_validate(struct dhp_core *core, const struct dhp_request *req, struct dhp_op *op,
		  struct dhp_error *err)
{
	struct dhp_error local = { 0 };

	/* The checks return dhp_error_resolve(), which needs an err. */
	if (!err)
		err = &local;
	memset(op, 0, sizeof(*op));
	op->spare = -1;
	switch (req->verb) {
	case DHP_VERB_CREATE:
		return validate_create(core, req, op, err);
	case DHP_VERB_POWER_ON:
	case DHP_VERB_POWER_OFF:
		return validate_power(core, req, op, err);
	default:
		if ((unsigned)req->verb >= DHP_VERB_MAX)
			return dhp_error_set(err, -EINVAL, "unknown request");
		return validate_partition_verb(core, req, op, err);
	}
}

void core_hold(struct dhp_core *core, const struct dhp_op *op, uint64_t holder)
{
	struct dhp_partition *p = dhp_server_partition(core->server, op->partition);

	if (p)
		p->busy_op = holder;
	p = op->target ? dhp_server_partition(core->server, op->target) : NULL;
	if (p)
		p->busy_op = holder;
	for (unsigned i = 0; i < op->n_units; i++)
		core->server->units[op->units[i]].busy_op = holder;
	if (op->spare >= 0)
		core->server->units[op->spare].busy_op = holder;
}
