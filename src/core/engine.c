/* SPDX-License-Identifier: MIT */
/*
 * The engine's run loop for one operation: phases forward, undo in
 * reverse, deadlines, and the journal writes and commits around them.
 *
 * Durability: a request is committed durably before it is acknowledged;
 * phases are committed as they end (surviving a crash of the process, which
 * start-up recovery needs); the outcome is committed durably once more.
 * Outcomes reached in the same turn of the loop share one durable commit
 * (group commit): several partitions working at once cost less than one
 * synchronous write each.
 */
#include "core/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void op_step(struct core_op *cop);
static void op_fail(struct core_op *cop, int rc, const struct dhp_error *why, bool unknown);

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void note_store_error(struct dhp_core *core, int r)
{
	if (r < 0 && !core->store_error)
		core->store_error = r;
}

void core_event(struct dhp_core *core, enum dhp_event_kind kind, uint64_t op,
		uint32_t partition, const struct dhp_unit *unit, const char *fmt, ...)
{
	struct dhp_event ev = {
		.time_ms = wall_ms(), .kind = kind, .op = op, .partition = partition,
	};
	va_list ap;

	if (unit)
		snprintf(ev.unit, sizeof(ev.unit), "%s", unit->id);
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	note_store_error(core, dhp_store_append_event(core->store, &ev, NULL));
	if (core->n_unpublished == core->cap_unpublished) {
		size_t cap = core->cap_unpublished ? 2 * core->cap_unpublished : 32;
		struct dhp_event *v = realloc(core->unpublished, cap * sizeof(*v));

		if (!v)
			return;	/* journaled all the same; only the live feed misses it */
		core->unpublished = v;
		core->cap_unpublished = cap;
	}
	core->unpublished[core->n_unpublished++] = ev;
}

static void publish(struct dhp_core *core)
{
	/* Listeners may cause more events: take the batch first. */
	while (core->n_unpublished) {
		size_t n = core->n_unpublished;
		struct dhp_event *batch = core->unpublished;

		core->unpublished = NULL;
		core->n_unpublished = core->cap_unpublished = 0;
		for (size_t i = 0; i < n && core->listener.event; i++)
			core->listener.event(core->listener.ctx, &batch[i]);
		free(batch);
	}
}

int core_commit(struct dhp_core *core, bool durable, struct dhp_error *err)
{
	int r = dhp_store_commit(core->store, durable, err);

	note_store_error(core, r);
	if (!r)
		publish(core);
	return r;
}

void core_put_unit(struct dhp_core *core, const struct dhp_unit *unit)
{
	note_store_error(core, dhp_store_put_unit(core->store, unit, NULL));
}

void core_set_partition_state(struct dhp_core *core, struct dhp_partition *p,
			      enum dhp_partition_state state, const char *why)
{
	if (!p || p->state == state)
		return;
	p->state = state;
	note_store_error(core, dhp_store_put_partition(core->store, p, NULL));
	core_event(core, DHP_EVENT_PARTITION, 0, p->id, NULL, "partition %s %s%s%s", p->name,
		   dhp_partition_state_name(state), why ? ": " : "", why ? why : "");
}

static void put_op(struct core_op *cop)
{
	note_store_error(cop->core, dhp_store_put_op(cop->core->store, cop->core->server,
						     &cop->op, NULL));
}

static struct dhp_partition *op_partition(struct core_op *cop)
{
	return dhp_server_partition(cop->core->server, cop->op.partition);
}

/* The next unit a phase acts on, or NULL when it has visited them all. */
static struct dhp_unit *next_target(struct core_op *cop, enum target target)
{
	struct dhp_server *server = cop->core->server;

	switch (target) {
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

static void call_done(void *ctx, uint64_t token, int rc, const struct dhp_error *err);
static void call_result(struct core_op *cop, int rc, const struct dhp_error *err);

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
	call_result(cop, -ETIMEDOUT, &why);
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

/* Issue one backend call of a phase; 0 if under way, 1 if nothing to do. */
static int issue(struct core_op *cop, enum step step, enum dhp_notification note,
		 enum target target)
{
	struct dhp_core *core = cop->core;
	struct dhp_backend *be = core->backend;
	const struct dhp_backend_ops *ops = be->ops;
	struct dhp_partition *p = op_partition(cop);
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
static struct dhp_unit *current_unit(struct core_op *cop, enum target target)
{
	struct dhp_server *server = cop->core->server;

	switch (target) {
	case TARGET_UNIT:	return &server->units[cop->op.units[0]];
	case TARGET_SPARE:	return &server->units[cop->op.spare];
	case TARGET_OWNED:
	case TARGET_NEXT:	return cop->cursor ? &server->units[cop->cursor - 1] : NULL;
	default:		return NULL;
	}
}

static void apply_power(struct core_op *cop, enum step step, enum target target)
{
	struct dhp_unit *u = current_unit(cop, target);
	bool on = step == STEP_POWER_ON;

	if ((step != STEP_POWER_ON && step != STEP_POWER_OFF) || !u || u->powered == on)
		return;
	u->powered = on;
	core_put_unit(cop->core, u);
	core_event(cop->core, DHP_EVENT_UNIT, cop->op.id, u->partition, u, "unit %s powered %s",
		   u->id, on ? "on" : "off");
}

static void undo_step(struct core_op *cop);

static void finish(struct core_op *cop, enum dhp_op_state state);

static void phase_done(struct core_op *cop)
{
	const struct phase_desc *ph = &cop->desc->phases[cop->op.phase];

	if (ph->run == STEP_NOTIFY)
		core_event(cop->core, DHP_EVENT_NOTIFY, cop->op.id, cop->op.partition,
			   current_unit(cop, ph->target), "OS told %s%s",
			   dhp_notification_name(ph->note),
			   dhp_notification_vetoable(ph->note) ? ": approved" : "");
	core_event(cop->core, DHP_EVENT_OP_PHASE, cop->op.id, cop->op.partition, NULL,
		   "%s %u: phase %s done", dhp_op_kind_name(cop->op.kind), (unsigned)cop->op.phase + 1,
		   ph->name);
	cop->op.phase++;
	cop->cursor = 0;
	cop->sub_done = 0;
	put_op(cop);
	core_commit(cop->core, false, NULL);
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
	struct dhp_unit *u = current_unit(cop, ph->target);

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
	call_result(cop, rc, err);
}

/* The outcome of the call in flight: its answer, or its deadline. */
static void call_result(struct core_op *cop, int rc, const struct dhp_error *err)
{
	const struct phase_desc *ph;

	if (cop->op.rolling_back) {
		ph = &cop->desc->phases[cop->op.phase - 1];
		if (rc)
			undo_failed(cop, ph, rc, err);
		else
			apply_power(cop, ph->undo, ph->target);
		cop->sub_done++;
		undo_step(cop);
		return;
	}
	ph = &cop->desc->phases[cop->op.phase];
	if (rc == -EHOSTDOWN)
		cop->os_down = true;
	if (rc) {
		op_fail(cop, rc, err, rc == -ETIMEDOUT || cop->sub_done > 0);
		return;
	}
	apply_power(cop, ph->run, ph->target);
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
		core_set_partition_state(cop->core, op_partition(cop), ph->enter, NULL);
	if (ph->run == STEP_COMMIT) {
		run_commit(cop);
		return;
	}
	r = issue(cop, ph->run, ph->note, ph->target);
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
 * its part is moot (the units' hardware is still undone). */
static bool os_is_down(struct core_op *cop)
{
	struct dhp_partition *p = op_partition(cop);

	return cop->os_down || (p && p->state == DHP_PARTITION_FAILED);
}

static void undo_step(struct core_op *cop)
{
	const struct phase_desc *ph;
	int r;

	while (cop->op.phase > 0) {
		ph = &cop->desc->phases[cop->op.phase - 1];
		if (needs_os(ph->undo) && os_is_down(cop)) {
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
			r = issue(cop, ph->undo, ph->undo_note, ph->target);
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
		put_op(cop);
		core_commit(cop->core, false, NULL);
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
	put_op(cop);
	core_commit(cop->core, false, NULL);
	undo_step(cop);
}

static void flush_fire(void *arg)
{
	struct dhp_core *core = arg;
	struct core_op *ended = core->ending;

	core->flush_timer = NULL;
	core->ending = NULL;
	core_commit(core, true, NULL);
	while (ended) {
		struct core_op *next = ended->next;

		if (core->listener.op_end)
			core->listener.op_end(core->listener.ctx, &ended->op);
		core_op_free(ended);
		ended = next;
	}
	core_recovery_progress(core);
}

static void unlink_op(struct dhp_core *core, struct core_op *cop)
{
	for (struct core_op **pp = &core->ops; *pp; pp = &(*pp)->next)
		if (*pp == cop) {
			*pp = cop->next;
			cop->next = NULL;
			return;
		}
}

static void finish(struct core_op *cop, enum dhp_op_state state)
{
	struct dhp_core *core = cop->core;
	struct dhp_partition *p = op_partition(cop);

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
	cop->op.ended_ms = wall_ms();
	core_hold(core, &cop->op, 0);
	put_op(cop);
	if (state == DHP_OP_COMPLETED)
		core_event(core, DHP_EVENT_OP_STATE, cop->op.id, cop->op.partition, NULL,
			   "operation %llu %s: completed", (unsigned long long)cop->op.id,
			   dhp_op_kind_name(cop->op.kind));
	else
		core_event(core, DHP_EVENT_OP_STATE, cop->op.id, cop->op.partition, NULL,
			   "operation %llu %s: %s: %s", (unsigned long long)cop->op.id,
			   dhp_op_kind_name(cop->op.kind), dhp_op_state_name(state),
			   cop->op.error.message);
	unlink_op(core, cop);
	cop->next = core->ending;
	core->ending = cop;
	if (!core->flush_timer)
		core->flush_timer = dhp_timer_add(core->loop, 0, flush_fire, core);
	if (!core->flush_timer)
		flush_fire(core);
}

static void kick_fire(void *arg)
{
	struct core_op *cop = arg;
	struct dhp_partition *p = op_partition(cop);

	cop->kick = NULL;
	if (cop->op.rolling_back) {
		undo_step(cop);
		return;
	}
	if (cop->op.state == DHP_OP_QUEUED) {
		cop->op.state = DHP_OP_RUNNING;
		if (cop->desc->begin_state != DHP_PARTITION_STATE_MAX && p)
			core_set_partition_state(cop->core, p, cop->desc->begin_state, NULL);
		put_op(cop);
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
