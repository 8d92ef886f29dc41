/* SPDX-License-Identifier: MIT */
/*
 * The engine's journal: events, writes and commits, and publishing events
 * to the listener once they are committed.
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
#include <time.h>

uint64_t core_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Remember the first failure of the store, with its detail. */
static void note_store_error(struct dhp_core *core, int r, const struct dhp_error *e)
{
	if (r >= 0 || core->store_error)
		return;
	core->store_error = r;
	core->store_failure = *e;
	if (!e->code)
		dhp_error_set(&core->store_failure, r, "%s", dhp_error_name(r));
}

int core_event(struct dhp_core *core, enum dhp_event_kind kind, uint64_t op,
	       uint32_t partition, const struct dhp_unit *unit, const char *fmt, ...)
{
	struct dhp_event ev = {
		.time_ms = core_wall_ms(), .kind = kind, .op = op, .partition = partition,
	};
	struct dhp_error e = { 0 };
	va_list ap;
	int r;

	if (unit)
		snprintf(ev.unit, sizeof(ev.unit), "%s", unit->id);
	va_start(ap, fmt);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	va_end(ap);
	r = dhp_store_append_event(core->store, &ev, &e);
	note_store_error(core, r, &e);
	if (r < 0)
		return r;	/* never journaled: never published either */
	if (core->n_unpublished == core->cap_unpublished) {
		size_t cap = core->cap_unpublished ? 2 * core->cap_unpublished : 32;
		struct dhp_event *v = realloc(core->unpublished, cap * sizeof(*v));

		if (!v)
			return 0;	/* journaled all the same; only the live feed misses it */
		core->unpublished = v;
		core->cap_unpublished = cap;
	}
	core->unpublished[core->n_unpublished++] = ev;
	return 0;
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

/*
 * After a failed write or commit the journal is frozen at its last good
 * commit: what follows is rolled back, never committed, and its events
 * never published. Committing later transactions would journal a state
 * that lacks the failed writes (a phase recorded as done whose unit
 * changes are missing), which start-up recovery could not tell apart from
 * the truth; from the last good commit, it drives every operation to an
 * end as after a crash. Requests are refused meanwhile (dhp_core_submit).
 */
int core_commit(struct dhp_core *core, bool durable, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r;

	if (core->store_error) {
		dhp_store_rollback(core->store);
		core->n_unpublished = 0;
		return dhp_error_set(err, core->store_error,
				     "the state store failed earlier, nothing more is journaled: %s",
				     core->store_failure.message);
	}
	r = dhp_store_commit(core->store, durable, &e);
	note_store_error(core, r, &e);
	if (!r) {
		publish(core);
		return 0;
	}
	core->n_unpublished = 0;	/* rolled back, or of unknown fate */
	r = dhp_error_set(err, r, "%s", e.message);
	if (e.resolution[0])
		dhp_error_resolve(err, "%s", e.resolution);
	return r;
}

void core_put_unit(struct dhp_core *core, const struct dhp_unit *unit)
{
	struct dhp_error e = { 0 };

	note_store_error(core, dhp_store_put_unit(core->store, unit, &e), &e);
}

void core_set_partition_state(struct dhp_core *core, struct dhp_partition *p,
			      enum dhp_partition_state state, const char *why)
{
	struct dhp_error e = { 0 };
	int r;

	if (!p || p->state == state)
		return;
	p->state = state;
	if (state != DHP_PARTITION_RUNNING)
		p->os_ready = false;
	r = dhp_store_put_partition(core->store, p, &e);
	note_store_error(core, r, &e);
	core_event(core, DHP_EVENT_PARTITION, 0, p->id, NULL, "partition %s %s%s%s", p->name,
		   dhp_partition_state_name(state), why ? ": " : "", why ? why : "");
}

void core_put_op(struct dhp_core *core, const struct dhp_op *op)
{
	struct dhp_error e = { 0 };

	note_store_error(core, dhp_store_put_op(core->store, core->server, op, &e), &e);
}

/* Retention joins the transaction of the outcomes (docs/store.md,
 * "Retention"): what it deletes goes in the same durable commit, or not
 * at all. A failure is the store's like any write's. */
static void prune(struct dhp_core *core)
{
	struct dhp_error e = { 0 };

	if (!core->store_error)
		note_store_error(core, dhp_store_prune(core->store, &e), &e);
}

/* The group commit: one durable commit for every operation that ended
 * in this turn of the loop, then their listeners. */
static void flush_fire(void *arg)
{
	struct dhp_core *core = arg;
	struct core_op *ended = core->ending;

	core->flush_timer = NULL;
	core->ending = NULL;
	prune(core);
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

void core_op_ended(struct dhp_core *core, struct core_op *cop)
{
	for (struct core_op **pp = &core->ops; *pp; pp = &(*pp)->next)
		if (*pp == cop) {
			*pp = cop->next;
			break;
		}
	cop->next = core->ending;
	core->ending = cop;
	if (!core->flush_timer)
		core->flush_timer = dhp_timer_add(core->loop, 0, flush_fire, core);
	if (!core->flush_timer)
		flush_fire(core);
}

/*
 * Like a request: a transaction of its own (pending writes of running
 * operations are committed plainly first) and a durable commit before the
 * answer. Only a finished operation the engine no longer holds.
 */
static int refuse_write(struct dhp_core *core, struct dhp_error *err)
{
	int r;

	if (!core->recovered)
		return dhp_error_set(err, -EAGAIN, "dhp is still recovering; retry shortly");
	if (core->store_error) {
		r = dhp_error_set(err, -EIO, "the state store failed, changes are refused: %s",
				  core->store_failure.message);
		dhp_error_resolve(err, "check the disk of dhpd's state directory, then restart dhpd");
		return r;
	}
	return 0;
}

int dhp_core_delete_op(struct dhp_core *core, uint64_t id, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = refuse_write(core, err);

	if (r < 0)
		return r;
	if (dhp_core_active_op(core, id)) {
		r = dhp_error_set(err, -EBUSY, "operation %llu has not finished",
				  (unsigned long long)id);
		dhp_error_resolve(err, "wait until it has ended, then delete it");
		return r;
	}
	r = core_commit(core, false, err);
	if (r < 0)
		return r;
	r = dhp_store_delete_op(core->store, id, &e);
	if (r < 0 && r != -ENOENT && r != -EBUSY) {
		/* -ENOENT and -EBUSY wrote nothing; any other failure is the
		 * store's: the journal stops at its last good commit. */
		note_store_error(core, r, &e);
		dhp_store_rollback(core->store);
	}
	if (r < 0) {
		r = dhp_error_set(err, r, "%s", e.message);
		if (e.resolution[0])
			dhp_error_resolve(err, "%s", e.resolution);
		return r;
	}
	return core_commit(core, true, err);
}

/* As dhp_core_delete_op: the write's own transaction, durable. */
int dhp_core_store_write(struct dhp_core *core, dhp_core_write_fn write, void *arg,
			 struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = refuse_write(core, err);

	if (!r)
		r = core_commit(core, false, err);
	if (r < 0)
		return r;
	r = write(core->store, arg, &e);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		note_store_error(core, r, &e);
	if (r < 0) {
		dhp_store_rollback(core->store);
		r = dhp_error_set(err, r, "%s", e.message);
		if (e.resolution[0])
			dhp_error_resolve(err, "%s", e.resolution);
		return r;
	}
	return core_commit(core, true, err);
}
