/* SPDX-License-Identifier: MIT */
/*
 * The spare pool (issue 11): free units the operator holds back for hot
 * replaces. Being a spare is a setting of a unit, not a change of the
 * hardware, so it is no operation: a durable write of the unit and an
 * event, like a request, and refused while an operation holds the unit.
 * The rules of use are in validate.c (core_need_usable, pick_spare).
 */
#include "core/internal.h"

static int check_spare(struct dhp_core *core, const struct dhp_unit *u, bool spare,
		       struct dhp_error *err)
{
	const struct dhp_partition *owner;

	if (u->busy_op) {
		dhp_error_set(err, -EBUSY, "unit %s is busy with operation %llu", u->id,
			      (unsigned long long)u->busy_op);
		return dhp_error_resolve(err, "wait for that operation to end, then retry");
	}
	if (!spare)
		return 0;
	if (u->partition || u->staged_partition) {
		owner = dhp_server_partition(core->server,
					     u->partition ? u->partition : u->staged_partition);
		dhp_error_set(err, -EBUSY, "unit %s %s partition \"%s\": only a free unit can be "
			      "a spare", u->id, u->partition ? "belongs to" : "is staged to join",
			      owner ? owner->name : "?");
		return dhp_error_resolve(err, "remove it from that partition first");
	}
	if (u->health == DHP_HEALTH_FAILED) {
		dhp_error_set(err, -EIO, "unit %s has failed and cannot be a spare", u->id);
		return dhp_error_resolve(err, "repair or replace it first");
	}
	return 0;
}

int dhp_core_set_spare(struct dhp_core *core, const char *id, bool spare,
		       struct dhp_error *err)
{
	struct dhp_unit *u = dhp_server_unit(core->server, id);
	struct dhp_error e = { 0 };
	size_t n_unpublished;
	int r = core_refuse_write(core, err);

	if (r < 0)
		return r;
	if (!u) {
		dhp_error_set(err, -ENOENT, "no unit \"%s\" in server %s", id ? id : "",
			      core->server->name);
		return dhp_error_resolve(err, "list units to see their ids");
	}
	r = check_spare(core, u, spare, err);
	if (r < 0 || u->spare == spare)
		return r;
	/* A transaction of its own, as a request's (dhp_core_submit). */
	r = core_commit(core, false, err);
	if (r < 0)
		return r;
	n_unpublished = core->n_unpublished;
	u->spare = spare;
	r = dhp_store_put_unit(core->store, u, &e);
	if (!r)
		r = core_request_event(core, &e, DHP_EVENT_UNIT, 0, DHP_NO_PARTITION, u,
				       "unit %s %s the spare pool", u->id,
				       spare ? "joined" : "left");
	if (r < 0) {
		dhp_store_rollback(core->store);
		core->n_unpublished = n_unpublished;
		core_note_store_error(core, r, &e);
		u->spare = !spare;
		return core_copy_error(err, r, &e);
	}
	r = core_commit_request(core, n_unpublished, err);
	if (r < 0)
		u->spare = !spare;
	return r;
}
