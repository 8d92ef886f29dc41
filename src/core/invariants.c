/* SPDX-License-Identifier: MIT */
/*
 * The invariants of DESIGN.md §2 as one checker. Tests call it after every
 * operation, fault and recovery, with the backend's own view of the
 * hardware, so that the journal is checked against what really is there.
 */
#include "core/internal.h"

#include <stdlib.h>

#define BROKEN(err, ...) dhp_error_set(err, -EPROTO, __VA_ARGS__)

static const struct dhp_partition_view *view_partition(const struct dhp_backend_view *view,
							uint32_t id)
{
	for (size_t i = 0; i < view->n_partitions; i++)
		if (view->partitions[i].id == id)
			return &view->partitions[i];
	return NULL;
}

/* 1. A unit belongs to at most one partition, which exists; staging is
 * coherent; the backend wires it to its owner only. */
static int check_ownership(struct dhp_core *core, const struct dhp_backend_view *view,
			   struct dhp_error *err)
{
	struct dhp_server *server = core->server;

	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];
		const struct dhp_unit_view *uv = &view->units[i];
		const struct dhp_partition *owner = u->partition ?
			dhp_server_partition(server, u->partition) : NULL;

		if (u->health == DHP_HEALTH_FAILED)
			continue;	/* fenced: see undo_failed() in engine.c */
		if (u->partition && !owner)
			return BROKEN(err, "unit %s belongs to missing partition %u", u->id,
				      u->partition);
		if (u->staged_partition && (u->partition ||
					    !dhp_server_partition(server, u->staged_partition)))
			return BROKEN(err, "unit %s is staged for partition %u but not free",
				      u->id, u->staged_partition);
		if (u->staged_remove && !u->partition)
			return BROKEN(err, "unit %s is staged to leave no partition", u->id);
		/* The pool holds free units only: a replace that takes a
		 * spare takes it out of the pool (commit_hot_replace). */
		if (u->spare && (u->partition || u->staged_partition))
			return BROKEN(err, "unit %s is in the spare pool but not free", u->id);
		if (u->boot && (!owner || u->type != DHP_UNIT_MEMORY))
			return BROKEN(err, "unit %s is boot memory of no partition", u->id);
		if (uv->partition && uv->partition != u->partition)
			return BROKEN(err, "unit %s is wired to partition %u in the backend but "
				      "belongs to %u in the store", u->id, uv->partition, u->partition);
		if (owner && owner->state == DHP_PARTITION_RUNNING && uv->partition != u->partition)
			return BROKEN(err, "unit %s of running partition %s is not wired to it",
				      u->id, owner->name);
		if (owner && owner->state == DHP_PARTITION_STOPPED && uv->partition)
			return BROKEN(err, "unit %s of stopped partition %s is still wired",
				      u->id, owner->name);
		/* A failed partition's OS is in an unknown state: it may still
		 * use its units until it is stopped. */
		if (uv->online && (!owner || (owner->state != DHP_PARTITION_RUNNING &&
					      owner->state != DHP_PARTITION_FAILED)))
			return BROKEN(err, "unit %s is in use by an OS that should not have it",
				      u->id);
	}
	return 0;
}

/* 2. The store equals what the backend really gives each partition. */
static int check_backend(struct dhp_core *core, const struct dhp_backend_view *view,
			 struct dhp_error *err)
{
	struct dhp_server *server = core->server;

	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];
		const struct dhp_partition *owner = u->partition ?
			dhp_server_partition(server, u->partition) : NULL;

		if (u->health == DHP_HEALTH_FAILED)
			continue;
		if (u->powered != view->units[i].powered)
			return BROKEN(err, "unit %s is powered %s in the store but %s in the backend",
				      u->id, u->powered ? "on" : "off",
				      view->units[i].powered ? "on" : "off");
		if (owner && owner->state == DHP_PARTITION_RUNNING &&
		    (!u->powered || !view->units[i].online))
			return BROKEN(err, "unit %s of running partition %s is not in use", u->id,
				      owner->name);
	}
	for (size_t i = 0; i < server->n_partitions; i++) {
		const struct dhp_partition *p = server->partitions[i];
		const struct dhp_partition_view *pv = view_partition(view, p->id);
		bool running = p->state == DHP_PARTITION_RUNNING;

		if (pv && pv->running != running && p->state != DHP_PARTITION_FAILED)
			return BROKEN(err, "partition %s is %s in the store but %s in the backend",
				      p->name, dhp_partition_state_name(p->state),
				      pv->running ? "running" : "down");
	}
	return 0;
}

/* 3, 4, 5: nothing half-done, and running partitions can run. */
static int check_partitions(struct dhp_core *core, struct dhp_error *err)
{
	struct dhp_server *server = core->server;

	for (size_t i = 0; i < server->n_units; i++)
		if (server->units[i].busy_op)
			return BROKEN(err, "unit %s is held by ended operation %llu",
				      server->units[i].id,
				      (unsigned long long)server->units[i].busy_op);
	for (size_t i = 0; i < server->n_partitions; i++) {
		const struct dhp_partition *p = server->partitions[i];
		unsigned boot = 0;

		if (p->busy_op)
			return BROKEN(err, "partition %s is held by ended operation %llu", p->name,
				      (unsigned long long)p->busy_op);
		if (p->state == DHP_PARTITION_STARTING || p->state == DHP_PARTITION_STOPPING)
			return BROKEN(err, "partition %s is left %s", p->name,
				      dhp_partition_state_name(p->state));
		if (p->state != DHP_PARTITION_RUNNING)
			continue;
		if (!dhp_server_count_units(server, p->id, DHP_UNIT_PROCESSOR) ||
		    !dhp_server_count_units(server, p->id, DHP_UNIT_MEMORY))
			return BROKEN(err, "running partition %s lacks a processor or memory",
				      p->name);
		for (size_t u = 0; u < server->n_units; u++)
			boot += server->units[u].partition == p->id && server->units[u].boot;
		if (boot != 1)
			return BROKEN(err, "running partition %s has %u boot memory modules",
				      p->name, boot);
	}
	return 0;
}

static int check_journal(struct dhp_core *core, struct dhp_error *err)
{
	struct dhp_op *ops = NULL;
	size_t n = 0;
	int r = dhp_store_unfinished_ops(core->store, core->server, &ops, &n, err);

	if (r < 0)
		return r;
	free(ops);
	if (n)
		return BROKEN(err, "%zu operations are unfinished in the journal while idle", n);
	return 0;
}

int dhp_core_check_invariants(struct dhp_core *core, const struct dhp_backend_view *view,
			      struct dhp_error *err)
{
	int r;

	if (!dhp_core_idle(core))
		return BROKEN(err, "the engine is not idle");
	if (view->n_units != core->server->n_units)
		return dhp_error_set(err, -EINVAL, "the view is of another server");
	r = check_ownership(core, view, err);
	if (!r)
		r = check_backend(core, view, err);
	if (!r)
		r = check_partitions(core, err);
	if (!r)
		r = check_journal(core, err);
	return r;
}
