/* SPDX-License-Identifier: MIT */
/*
 * Composition reservations: units held for a later compose (Redfish's
 * Compose action with PreviewReserve). The hold is two runtime fields of
 * the unit (reserved_by, reserved_until), so that every path that takes a
 * unit (create, hot add, a replace's spare, the planner) sees it through
 * need_free() and dhp_unit_held(), whoever asks: the API, dhp-sim, a test.
 * A hold ends by itself at its time, on the engine's clock: no timer,
 * nothing to clean up for correctness. It is not journaled: a restart
 * drops every hold (docs/engine.md, "Reservations").
 */
#include "core/internal.h"

#include <string.h>

uint64_t dhp_core_now(struct dhp_core *core)
{
	return dhp_loop_now(core->loop);
}

int core_check_hold(struct dhp_core *core, const struct dhp_unit *u, uint64_t mine,
		    struct dhp_error *err)
{
	uint64_t now = dhp_core_now(core);

	if (!dhp_unit_held(u, now, mine))
		return 0;
	dhp_error_set(err, -EBUSY, "unit %s is held by composition reservation %llu for %llu "
		      "more seconds", u->id, (unsigned long long)u->reserved_by,
		      (unsigned long long)((u->reserved_until - now + 999) / 1000));
	return dhp_error_resolve(err, "apply or delete that reservation "
				 "(/redfish/v1/CompositionService/CompositionReservations/%llu), "
				 "or pick another unit", (unsigned long long)u->reserved_by);
}

int dhp_core_reserve(struct dhp_core *core, uint64_t id, const uint32_t *units, size_t n,
		     uint64_t until_ms, struct dhp_error *err)
{
	struct dhp_server *server = core->server;
	struct dhp_error local = { 0 };

	if (!err)
		err = &local;
	if (!id)
		return dhp_error_set(err, -EINVAL, "reservation 0 is not an id");
	/* Check every unit before holding any: all or nothing. */
	for (size_t i = 0; i < n; i++) {
		const struct dhp_unit *u;
		int r;

		if (units[i] >= server->n_units)
			return dhp_error_set(err, -EINVAL, "no unit number %u", units[i]);
		u = &server->units[units[i]];
		for (size_t j = 0; j < i; j++)
			if (units[j] == units[i])
				return dhp_error_set(err, -EINVAL, "unit %s is named twice", u->id);
		if (!dhp_unit_is_free(u))
			return dhp_error_set(err, -EBUSY, "unit %s is not free", u->id);
		if (u->health == DHP_HEALTH_FAILED)
			return dhp_error_set(err, -EIO, "unit %s has failed and cannot be used",
					     u->id);
		r = core_check_hold(core, u, id, err);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		server->units[units[i]].reserved_by = id;
		server->units[units[i]].reserved_until = until_ms;
	}
	return 0;
}

void dhp_core_unreserve(struct dhp_core *core, uint64_t id)
{
	for (size_t i = 0; id && i < core->server->n_units; i++)
		if (core->server->units[i].reserved_by == id) {
			core->server->units[i].reserved_by = 0;
			core->server->units[i].reserved_until = 0;
		}
}

int dhp_core_plan(struct dhp_core *core, const struct dhp_plan_request *req,
		  struct dhp_plan *ret_plan, struct dhp_error *err)
{
	struct dhp_plan_request at = *req;

	at.now_ms = dhp_core_now(core);
	return dhp_plan_compute(core->server, &at, ret_plan, err);
}
