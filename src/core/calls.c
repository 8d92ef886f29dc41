/* SPDX-License-Identifier: MIT */
/*
 * The backend calls of a phase: which unit each acts on, issuing them with
 * a deadline, and taking their answers (or the deadline) back to the
 * engine. A token ties an answer to its call; an answer whose token is no
 * longer awaited (its deadline passed) is ignored.
 */
#include "core/internal.h"

#include <stdio.h>
#include <stdlib.h>

static void call_done(void *ctx, uint64_t token, int rc, const struct dhp_error *err);

/* The part of op.units a plan's phase visits: [*lo, *hi). */
static void set_range(const struct dhp_op *op, enum target target, unsigned *lo, unsigned *hi)
{
	*lo = target == TARGET_REMOVES ? op->n_add : 0;
	*hi = target == TARGET_ADDS ? op->n_add : op->n_units;
}

/* The next unit a phase acts on, or NULL when it has visited them all. */
static struct dhp_unit *next_target(struct core_op *cop, enum target target)
{
	struct dhp_server *server = cop->core->server;
	unsigned lo, hi;

	switch (target) {
	case TARGET_ADDS:
	case TARGET_REMOVES:
	case TARGET_ALL:
		set_range(&cop->op, target, &lo, &hi);
		if (lo + cop->cursor >= hi)
			return NULL;
		return &server->units[cop->op.units[lo + cop->cursor++]];
	case TARGET_UNIT:
	case TARGET_SPARE:
		if (cop->cursor)
			return NULL;
		cop->cursor = 1;
		return &server->units[target == TARGET_UNIT ? cop->op.units[0]
							    : (uint32_t)cop->op.spare];
	case TARGET_OWNED:
	case TARGET_NEXT:
		for (; cop->cursor < server->n_units; cop->cursor++) {
			struct dhp_unit *u = &server->units[cop->cursor];

			if (target == TARGET_OWNED ? u->partition == cop->op.partition
						   : unit_in_next(u, cop->op.partition)) {
				cop->cursor++;
				return u;
			}
		}
		return NULL;
	default:
		if (cop->cursor)
			return NULL;
		cop->cursor = 1;
		return NULL;
	}
}

static void deadline_fire(void *arg)
{
	struct core_op *cop = arg;
	const struct phase_desc *ph = &cop->desc->phases[cop->op.rolling_back ?
							 cop->op.phase - 1 : cop->op.phase];
	struct dhp_error why = { 0 };

	cop->deadline = NULL;
	cop->core->backend->ops->cancel(cop->core->backend, cop->token);
	cop->token = 0;		/* a late answer is ignored */
	dhp_error_set(&why, -ETIMEDOUT, "phase %s%s did not answer within %u ms", ph->name,
		      cop->op.rolling_back ? " (undo)" : "", cop->core->deadline_ms);
	core_op_result(cop, -ETIMEDOUT, &why);
}

static int backend_start(struct core_op *cop, struct dhp_partition *p,
			 struct dhp_backend_cb cb)
{
	struct dhp_server *server = cop->core->server;
	const struct dhp_unit **units = NULL;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < server->n_units; i++)
		n += unit_in_next(&server->units[i], p->id);
	units = calloc(n ? n : 1, sizeof(*units));
	if (!units)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < server->n_units; i++)
		if (unit_in_next(&server->units[i], p->id))
			units[n++] = &server->units[i];
	r = cop->core->backend->ops->partition_start(cop->core->backend, p, units, n, cb);
	free(units);
	return r;
}

struct dhp_partition *core_phase_partition(struct core_op *cop, const struct phase_desc *ph)
{
	return dhp_server_partition(cop->core->server,
				    ph->at_target ? cop->op.target : cop->op.partition);
}

/* Issue one backend call of a phase (or of its undo); 0 if under way, 1
 * if nothing to do. */
int core_call_issue(struct core_op *cop, const struct phase_desc *ph, bool undo)
{
	struct dhp_core *core = cop->core;
	struct dhp_backend *be = core->backend;
	const struct dhp_backend_ops *ops = be->ops;
	struct dhp_partition *p = core_phase_partition(cop, ph);
	enum step step = undo ? ph->undo : ph->run;
	enum dhp_notification note = undo ? ph->undo_note : ph->note;
	enum target target = ph->target;
	struct dhp_unit *unit = next_target(cop, target);
	struct dhp_unit *spare = cop->op.spare >= 0 ? &core->server->units[cop->op.spare] : NULL;
	struct dhp_backend_cb cb = { call_done, core, ++core->next_token };
	int r;

	if (target != TARGET_PARTITION && !unit)
		return 1;
	if (target == TARGET_PARTITION && cop->cursor > 1)
		return 1;
	if (target == TARGET_PARTITION)
		cop->cursor = 2;
	cop->token = cb.token;
	switch (step) {
	case STEP_POWER_ON:	r = ops->power(be, unit, true, cb); break;
	case STEP_POWER_OFF:	r = ops->power(be, unit, false, cb); break;
	case STEP_NOTIFY:	r = ops->notify(be, p, note, unit, cb); break;
	case STEP_ATTACH:	r = ops->attach(be, p, unit, cb); break;
	case STEP_DETACH:	r = ops->detach(be, p, unit, cb); break;
	case STEP_ONLINE:	r = ops->online(be, p, unit, cb); break;
	case STEP_OFFLINE:	r = ops->offline(be, p, unit, cb); break;
	case STEP_MOVE:		r = ops->move(be, p, unit, spare, cb); break;
	case STEP_MOVE_BACK:	r = ops->move(be, p, spare, unit, cb); break;
	case STEP_BOOT:		r = backend_start(cop, p, cb); break;
	case STEP_SHUTDOWN:	r = ops->partition_stop(be, p, cb); break;
	default:		r = -EINVAL; break;
	}
	if (r < 0) {
		cop->token = 0;
		return r;
	}
	cop->deadline = dhp_timer_add(core->loop, core->deadline_ms, deadline_fire, cop);
	return 0;
}

/* The unit the call in flight acted on (for the model's power flags). */
struct dhp_unit *core_call_unit(struct core_op *cop, enum target target)
{
	struct dhp_server *server = cop->core->server;
	unsigned lo, hi;

	switch (target) {
	case TARGET_ADDS:
	case TARGET_REMOVES:
	case TARGET_ALL:
		set_range(&cop->op, target, &lo, &hi);
		return cop->cursor ? &server->units[cop->op.units[lo + cop->cursor - 1]] : NULL;
	case TARGET_UNIT:	return &server->units[cop->op.units[0]];
	case TARGET_SPARE:	return &server->units[cop->op.spare];
	case TARGET_OWNED:
	case TARGET_NEXT:	return cop->cursor ? &server->units[cop->cursor - 1] : NULL;
	default:		return NULL;
	}
}

void core_call_apply_power(struct core_op *cop, enum step step, enum target target)
{
	struct dhp_unit *u = core_call_unit(cop, target);
	bool on = step == STEP_POWER_ON;

	if ((step != STEP_POWER_ON && step != STEP_POWER_OFF) || !u || u->powered == on)
		return;
	u->powered = on;
	core_put_unit(cop->core, u);
	core_event(cop->core, DHP_EVENT_UNIT, cop->op.id, u->partition, u, "unit %s powered %s",
		   u->id, on ? "on" : "off");
}

static void call_done(void *ctx, uint64_t token, int rc, const struct dhp_error *err)
{
	struct dhp_core *core = ctx;
	struct core_op *cop;

	for (cop = core->ops; cop; cop = cop->next)
		if (token && cop->token == token)
			break;
	if (!cop)
		return;	/* an answer after its deadline: the phase was already given up */
	dhp_timer_cancel(core->loop, cop->deadline);
	cop->deadline = NULL;
	cop->token = 0;
	core_op_result(cop, rc, err);
}
