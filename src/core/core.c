/* SPDX-License-Identifier: MIT */
/* The engine object: making it, taking requests, answering queries. */
#include "core/internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/names.h"

static const char *const verb_names[DHP_VERB_MAX] = {
	[DHP_VERB_CREATE] = "create",
	[DHP_VERB_DELETE] = "delete",
	[DHP_VERB_START] = "start",
	[DHP_VERB_STOP] = "stop",
	[DHP_VERB_RESTART] = "restart",
	[DHP_VERB_ADD] = "add",
	[DHP_VERB_REMOVE] = "remove",
	[DHP_VERB_REPLACE] = "replace",
	[DHP_VERB_POWER_ON] = "power-on",
	[DHP_VERB_POWER_OFF] = "power-off",
	[DHP_VERB_RESIZE] = "resize",
	[DHP_VERB_MOVE] = "move",
};

/* The backend says a partition's OS went down on its own. */
static void partition_failed(void *ctx, uint32_t partition, const struct dhp_error *why)
{
	struct dhp_core *core = ctx;
	struct dhp_partition *p = dhp_server_partition(core->server, partition);

	if (!p || p->state == DHP_PARTITION_STOPPED || p->state == DHP_PARTITION_FAILED)
		return;
	core_set_partition_state(core, p, DHP_PARTITION_FAILED,
				 why ? why->message : "its OS went down");
	core_commit(core, true, NULL);
}

static void os_ready(void *ctx, uint32_t partition, bool ready)
{
	struct dhp_core *core = ctx;
	struct dhp_partition *p = dhp_server_partition(core->server, partition);

	if (!p || p->os_ready == ready)
		return;
	p->os_ready = ready;
	core_event(core, DHP_EVENT_PARTITION, 0, p->id, NULL, "partition %s: its OS %s", p->name,
		   ready ? "takes part in online operations" : "no longer answers (no agent)");
	core_commit(core, false, NULL);
}

int dhp_core_new(const struct dhp_core_config *config, struct dhp_core **ret_core,
		 struct dhp_error *err)
{
	struct dhp_core *core;
	int r;

	if (!config->server || !config->store || !config->backend || !config->loop)
		return dhp_error_set(err, -EINVAL, "incomplete engine configuration");
	core = calloc(1, sizeof(*core));
	if (!core)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	core->server = config->server;
	core->store = config->store;
	core->backend = config->backend;
	core->loop = config->loop;
	core->listener = config->listener;
	core->deadline_ms = config->phase_deadline_ms ? config->phase_deadline_ms
						      : DHP_DEFAULT_PHASE_DEADLINE_MS;
	core->storage_fn = config->storage_full;
	core->storage_ctx = config->storage_ctx;
	r = dhp_store_load(core->store, core->server, &core->counters, err);
	if (!r && core_catchup_init(core) < 0)
		r = dhp_error_set(err, -ENOMEM, "out of memory");
	if (r < 0) {
		core_catchup_release(core);
		free(core);
		return r;
	}
	core->backend->listener = (struct dhp_backend_listener){
		.partition_failed = partition_failed, .os_ready = os_ready, .ctx = core,
	};
	*ret_core = core;
	return 0;
}

void dhp_core_free(struct dhp_core *core)
{
	if (!core)
		return;
	/* Ended operations still owe their durable commit: give it. */
	if (core->flush_timer) {
		dhp_timer_cancel(core->loop, core->flush_timer);
		core->flush_timer = NULL;
		dhp_store_commit(core->store, true, NULL);
	}
	while (core->ending) {
		struct core_op *next = core->ending->next;

		core_op_free(core->ending);
		core->ending = next;
	}
	while (core->ops) {
		struct core_op *next = core->ops->next;

		core_op_free(core->ops);
		core->ops = next;
	}
	core->backend->listener = (struct dhp_backend_listener){ 0 };
	core_catchup_release(core);
	free(core->view.units);
	free(core->view.partitions);
	free(core->unpublished);
	free(core);
}

/* Take back what a request put in the model when it cannot be journaled. */
static void forget_request(struct dhp_core *core, const struct dhp_op *op)
{
	core_hold(core, op, 0);
	if (op->kind == DHP_OP_CREATE)
		dhp_server_remove_partition(core->server, op->partition);
}

/* A created partition gets its UUID now, once: the store keeps it from
 * the create's commit on, so restarts and recovery never make another. */
static int add_partition(struct dhp_core *core, const struct dhp_op *op, struct dhp_error *err)
{
	char uuid[DHP_UUID_LEN];
	struct dhp_partition *p;
	int r = dhp_uuid_random(uuid);

	if (r < 0)
		return dhp_error_set(err, r, "cannot make the partition's UUID: %s", strerror(-r));
	p = dhp_server_add_partition(core->server, op->partition, op->partition_name, op->profile);
	if (!p)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	memcpy(p->uuid, uuid, sizeof(uuid));
	core->counters.next_partition_id++;
	return 0;
}

/*
 * Journal a request in a transaction of its own and commit it durably:
 * the first of an operation's two synchronous commits, after which it is
 * acknowledged (DESIGN.md invariant 5). Every write is checked; on any
 * failure the transaction is rolled back, so nothing of the request is in
 * the file; the store is marked failed, or full (core_note_store_error).
 * Nothing of the request is replayed when space returns: it was refused.
 */
static int journal_request(struct dhp_core *core, const struct dhp_op *op,
			   struct dhp_error *err)
{
	size_t n_unpublished = core->n_unpublished;
	struct dhp_error e = { 0 };
	int r;

	r = dhp_store_put_counters(core->store, &core->counters, &e);
	if (!r)
		r = dhp_store_put_op(core->store, core->server, op, &e);
	if (!r)
		r = core_request_event(core, &e, DHP_EVENT_OP_STATE, op->id, op->partition, NULL,
				       "operation %llu %s: queued (%s%s)",
				       (unsigned long long)op->id, dhp_op_kind_name(op->kind),
				       op->partition_name[0] ? op->partition_name : "-",
				       op->staged ? ", on restart" : "");
	if (r < 0) {
		dhp_store_rollback(core->store);
		core_note_store_error(core, r, &e);
		r = dhp_error_set(err, r, "%s", e.message[0] ? e.message : dhp_error_name(r));
		if (e.resolution[0])
			dhp_error_resolve(err, "%s", e.resolution);
		return r;
	}
	return core_commit_request(core, n_unpublished, err);
}

/* A request the store could not take: nothing was changed. */
static int refuse_unjournaled(int r, const struct dhp_error *e, struct dhp_error *err)
{
	const char *why = e->message[0] ? e->message : dhp_error_name(r);

	if (r == -EDQUOT) {
		/* Passes by itself: no restart, and not "the store failed". */
		r = dhp_error_set(err, -EDQUOT, "the request could not be journaled, so it was "
				  "not accepted: %s", why);
		dhp_error_resolve(err, "nothing was changed; %s; dhpd takes changes again by "
				  "itself once a write succeeds (no restart)",
				  e->resolution[0] ? e->resolution
						   : "free space on the state directory's file system");
		return r;
	}
	/* Whatever else the store said (a constraint, a busy file), for the
	 * client this is the store failing: -EIO (docs/errors.md). */
	r = dhp_error_set(err, r == -ENOMEM ? -ENOMEM : -EIO,
			  "the request could not be journaled, so it was not accepted: %s", why);
	dhp_error_resolve(err, "nothing was changed; the state store refuses further changes: "
			  "check the disk of dhpd's state directory, then restart dhpd");
	return r;
}

int dhp_core_submit(struct dhp_core *core, const struct dhp_request *req,
		    uint64_t *ret_op_id, struct dhp_error *err)
{
	struct dhp_store_counters counters = core->counters;
	struct dhp_error e = { 0 };
	struct core_op *cop;
	struct dhp_op op;
	int r;

	if (!req)
		return dhp_error_set(err, -EINVAL, "no request");
	if (!core->recovered)
		return dhp_error_set(err, -EAGAIN, "dhp is still recovering; retry shortly");
	if (core->store_error) {
		r = dhp_error_set(err, -EIO, "the state store failed, changes are refused: %s",
				  core->store_failure.message);
		dhp_error_resolve(err, "check the disk of dhpd's state directory, then restart dhpd");
		return r;
	}
	/*
	 * Writes of running operations not committed yet (a phase under way
	 * wrote its start) are committed first, plainly: the request then
	 * has a transaction of its own, and its failure rolls back nothing
	 * but the request. No fsync: the request's durable commit covers it.
	 * While the journal is behind (a full disk), this is its replay: a
	 * request is taken only once the journal has caught up.
	 */
	r = core_commit(core, false, &e);
	if (r < 0)
		goto journal_failed;
	r = core_validate(core, req, &op, err);
	if (r < 0)
		return r;
	op.id = core->counters.next_op_id++;
	op.state = DHP_OP_QUEUED;
	op.created_ms = core_wall_ms();
	if (op.kind == DHP_OP_CREATE) {
		r = add_partition(core, &op, err);
		if (r < 0) {
			core->counters = counters;
			return r;
		}
	}
	core_hold(core, &op, op.id);
	cop = core_op_new(core, &op);
	if (!cop) {
		forget_request(core, &op);
		core->counters = counters;
		return dhp_error_set(err, -ENOMEM, "out of memory");
	}
	r = journal_request(core, &op, &e);
	if (r < 0)
		goto free_op;
	core_op_start(cop);
	if (ret_op_id)
		*ret_op_id = op.id;
	return 0;

free_op:
	core->ops = cop->next;	/* core_op_new put it first */
	core_op_free(cop);
	forget_request(core, &op);
	core->counters = counters;
journal_failed:
	return refuse_unjournaled(r, &e, err);
}

const struct dhp_op *dhp_core_active_op(struct dhp_core *core, uint64_t id)
{
	for (struct core_op *cop = core->ops; cop; cop = cop->next)
		if (cop->op.id == id)
			return &cop->op;
	for (struct core_op *cop = core->ending; cop; cop = cop->next)
		if (cop->op.id == id)
			return &cop->op;
	return NULL;
}

bool dhp_core_idle(const struct dhp_core *core)
{
	return core->recovered && !core->ops && !core->ending;
}

struct dhp_server *dhp_core_server(struct dhp_core *core)
{
	return core->server;
}

struct dhp_store *dhp_core_store(struct dhp_core *core)
{
	return core->store;
}

struct dhp_backend *dhp_core_backend(struct dhp_core *core)
{
	return core->backend;
}

DHP_NAMES_DEFINE(dhp_verb, enum dhp_verb, verb_names, DHP_VERB_MAX)
