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

/*
 * Remember a failure of the store. A full file system passes when space
 * returns, and the journal catches up then (catchup.c): it is told once,
 * not latched. Any other failure (an I/O error, corruption) is latched
 * with its detail: the first one is kept.
 */
void core_note_store_error(struct dhp_core *core, int r, const struct dhp_error *e)
{
	if (r >= 0 || core->store_error)
		return;
	if (r == -EDQUOT) {
		core_storage_full(core, true, e);
		return;
	}
	core->store_error = r;
	core->store_failure = *e;
	if (!e->code)
		dhp_error_set(&core->store_failure, r, "%s", dhp_error_name(r));
	/* Latched: nothing will be committed, so nothing is worth waiting for. */
	if (core->behind)
		core_unpark_all(core);
}

/* Keep an appended event until its commit publishes it (or a replay
 * appends it again). */
static int queue_event(struct dhp_core *core, const struct dhp_event *ev)
{
	if (core->n_unpublished == core->cap_unpublished) {
		size_t cap = core->cap_unpublished ? 2 * core->cap_unpublished : 32;
		struct dhp_event *v = realloc(core->unpublished, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		core->unpublished = v;
		core->cap_unpublished = cap;
	}
	core->unpublished[core->n_unpublished++] = *ev;
	return 0;
}

/* request: the detail of a failure goes to *request, nothing else is
 * done about it. */
static int event_v(struct dhp_core *core, struct dhp_error *request, enum dhp_event_kind kind,
		   uint64_t op, uint32_t partition, const struct dhp_unit *unit, const char *fmt,
		   va_list ap)
{
	struct dhp_event ev = {
		.time_ms = core_wall_ms(), .kind = kind, .op = op, .partition = partition,
	};
	struct dhp_error e = { 0 };
	int r = 0;

	if (unit)
		snprintf(ev.unit, sizeof(ev.unit), "%s", unit->id);
	vsnprintf(ev.text, sizeof(ev.text), fmt, ap);
	if (!request)
		core->n_writes++;
	if (!core->behind)	/* behind: the replay appends it */
		r = dhp_store_append_event(core->store, &ev, &e);
	if (r < 0 && request) {
		*request = e;	/* the request is refused: nothing of it is kept */
		return r;
	}
	if (r < 0)
		core_note_store_error(core, r, &e);
	if (r == -EDQUOT)
		core_fall_behind(core);
	else if (r < 0)
		return r;	/* never journaled: never published either */
	if (queue_event(core, &ev) < 0 && (r < 0 || core->behind)) {
		/* Only the replay would have journaled it: it is lost. */
		struct dhp_error lost = { 0 };

		dhp_error_set(&lost, -ENOMEM, "out of memory keeping an event until space returns");
		core_note_store_error(core, -ENOMEM, &lost);
	}
	return r;	/* journaled, or kept for the replay; only the live feed may miss it */
}

int core_event(struct dhp_core *core, enum dhp_event_kind kind, uint64_t op,
	       uint32_t partition, const struct dhp_unit *unit, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = event_v(core, NULL, kind, op, partition, unit, fmt, ap);
	va_end(ap);
	return r;
}

int core_request_event(struct dhp_core *core, struct dhp_error *err, enum dhp_event_kind kind,
		       uint64_t op, uint32_t partition, const struct dhp_unit *unit,
		       const char *fmt, ...)
{
	struct dhp_error e = { 0 };
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = event_v(core, &e, kind, op, partition, unit, fmt, ap);
	if (r < 0 && err && !err->code)
		*err = e;
	va_end(ap);
	return r;
}

void core_publish(struct dhp_core *core)
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

int core_copy_error(struct dhp_error *err, int r, const struct dhp_error *e)
{
	r = dhp_error_set(err, r, "%s", e->message[0] ? e->message : dhp_error_name(r));
	if (e->resolution[0])
		dhp_error_resolve(err, "%s", e->resolution);
	return r;
}

/*
 * After a failed write or commit the journal is frozen at its last good
 * commit: what follows is rolled back, never committed, and its events
 * never published. Committing later transactions would journal a state
 * that lacks the failed writes (a phase recorded as done whose unit
 * changes are missing), which start-up recovery could not tell apart from
 * the truth; from the last good commit, it drives every operation to an
 * end as after a crash. Requests are refused meanwhile (dhp_core_submit).
 *
 * A full file system is the exception: the failed transaction's writes
 * are tracked, so they are replayed whole before anything later is
 * committed (catchup.c), and the journal never lacks them.
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
	if (core->behind)
		return core_catchup(core, err);
	r = dhp_store_commit(core->store, durable, &e);
	if (!r) {
		core_committed(core);
		return 0;
	}
	core_note_store_error(core, r, &e);
	if (r == -EDQUOT)
		core_fall_behind(core);		/* kept, to be replayed */
	else
		core->n_unpublished = 0;	/* rolled back, or of unknown fate */
	return core_copy_error(err, r, &e);
}

int core_commit_request(struct dhp_core *core, size_t n_unpublished, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = dhp_store_commit(core->store, true, &e);

	if (!r) {
		core_committed(core);
		return 0;
	}
	dhp_store_rollback(core->store);
	core->n_unpublished = n_unpublished;
	core_note_store_error(core, r, &e);
	return core_copy_error(err, r, &e);
}

void core_put_unit(struct dhp_core *core, const struct dhp_unit *unit)
{
	struct dhp_error e = { 0 };
	int r;

	core_mark_unit(core, unit);
	if (core->behind)
		return;
	r = dhp_store_put_unit(core->store, unit, &e);
	core_note_store_error(core, r, &e);
	if (r == -EDQUOT)
		core_fall_behind(core);
}

int core_put_partition(struct dhp_core *core, uint32_t id, struct dhp_error *err)
{
	const struct dhp_partition *p = dhp_server_partition(core->server, id);
	struct dhp_error e = { 0 };
	int r;

	if (!core_mark_partition(core, id) || core->behind)
		return 0;
	r = p ? dhp_store_put_partition(core->store, p, &e)
	      : dhp_store_delete_partition(core->store, id, &e);
	core_note_store_error(core, r, &e);
	if (r == -EDQUOT) {
		core_fall_behind(core);
		return 0;
	}
	return r < 0 ? core_copy_error(err, r, &e) : 0;
}

void core_set_partition_state(struct dhp_core *core, struct dhp_partition *p,
			      enum dhp_partition_state state, const char *why)
{
	if (!p || p->state == state)
		return;
	p->state = state;
	if (state != DHP_PARTITION_RUNNING)
		p->os_ready = false;
	core_put_partition(core, p->id, NULL);
	core_event(core, DHP_EVENT_PARTITION, 0, p->id, NULL, "partition %s %s%s%s", p->name,
		   dhp_partition_state_name(state), why ? ": " : "", why ? why : "");
}

/* Active operations are all put again by a replay: nothing to track. */
void core_put_op(struct dhp_core *core, const struct dhp_op *op)
{
	struct dhp_error e = { 0 };
	int r;

	core->n_writes++;
	if (core->behind)
		return;
	r = dhp_store_put_op(core->store, core->server, op, &e);
	core_note_store_error(core, r, &e);
	if (r == -EDQUOT)
		core_fall_behind(core);
}

/* Retention joins the transaction of the outcomes (docs/store.md,
 * "Retention"): what it deletes goes in the same durable commit, or not
 * at all. A failure is the store's like any write's; behind, it waits
 * for a commit that can hold it. */
static void prune(struct dhp_core *core)
{
	struct dhp_error e = { 0 };
	int r;

	if (core->store_error || core->behind)
		return;
	r = dhp_store_prune(core->store, &e);
	core_note_store_error(core, r, &e);
	if (r == -EDQUOT)
		core_fall_behind(core);
}

/*
 * The group commit: one durable commit for every operation that ended
 * in this turn of the loop, then their listeners. An outcome is told
 * only once durable: when the disk is full, the ended operations wait in
 * core->ending (where the replay finds them) and the replay that
 * succeeds arms this again.
 */
static void flush_fire(void *arg)
{
	struct dhp_core *core = arg;
	struct core_op *ended;

	core->flush_timer = NULL;
	prune(core);
	if (core_commit(core, true, NULL) < 0 && core_journal_behind(core))
		return;
	ended = core->ending;
	core->ending = NULL;
	while (ended) {
		struct core_op *next = ended->next;

		if (core->listener.op_end)
			core->listener.op_end(core->listener.ctx, &ended->op);
		core_op_free(ended);
		ended = next;
	}
	core_recovery_progress(core);
}

void core_flush_later(struct dhp_core *core)
{
	if (!core->flush_timer)
		core->flush_timer = dhp_timer_add(core->loop, 0, flush_fire, core);
	if (!core->flush_timer)
		flush_fire(core);
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
	core_flush_later(core);
}

/* The refusal of a change once the store has failed (latched). */
static int refuse_change(struct dhp_core *core, struct dhp_error *err)
{
	int r = dhp_error_set(err, -EIO, "the state store failed, changes are refused: %s",
			      core->store_failure.message);

	dhp_error_resolve(err, "check the disk of dhpd's state directory, then restart dhpd");
	return r;
}

/* Whether the engine takes a change now: recovered, and a store that has
 * not failed for good. */
int core_refuse_write(struct dhp_core *core, struct dhp_error *err)
{
	if (!core->recovered)
		return dhp_error_set(err, -EAGAIN, "dhp is still recovering; retry shortly");
	if (core->store_error)
		return refuse_change(core, err);
	return 0;
}

/*
 * Like a request: a transaction of its own (pending writes of running
 * operations are committed plainly first) and a durable commit before the
 * answer. Only a finished operation the engine no longer holds.
 */
int dhp_core_delete_op(struct dhp_core *core, uint64_t id, struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = core_refuse_write(core, err);

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
		 * store's: the journal stops at its last good commit, or
		 * (a full disk) this request is refused and nothing else. */
		core_note_store_error(core, r, &e);
		dhp_store_rollback(core->store);
	}
	if (r < 0)
		return core_copy_error(err, r, &e);
	return core_commit_request(core, core->n_unpublished, err);
}

/* As dhp_core_delete_op: the write's own transaction, durable. */
int dhp_core_store_write(struct dhp_core *core, dhp_core_write_fn write, void *arg,
			 struct dhp_error *err)
{
	struct dhp_error e = { 0 };
	int r = core_refuse_write(core, err);

	if (!r)
		r = core_commit(core, false, err);
	if (r < 0)
		return r;
	r = write(core->store, arg, &e);
	if (r < 0) {
		/* -ENOENT and -EINVAL are the caller's; anything else is the
		 * store's, as in dhp_core_delete_op. */
		if (r != -ENOENT && r != -EINVAL)
			core_note_store_error(core, r, &e);
		dhp_store_rollback(core->store);
		return core_copy_error(err, r, &e);
	}
	return core_commit_request(core, core->n_unpublished, err);
}
