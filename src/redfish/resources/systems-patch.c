/* SPDX-License-Identifier: MIT */
/*
 * PATCH /redfish/v1/Systems/{name}: Links.ResourceBlocks, with DSP0266's
 * semantics of a PATCH on an array: it patches the list a GET shows
 * element by element (a link, {} to keep, null to remove; a shorter array
 * drops the rest), so sending the full new list is one case of it. The
 * difference between the list it makes and the current one is one add or
 * one remove request to the engine (hot, offline, or staged with
 * @Redfish.OperationApplyTime OnReset). A change that both adds and
 * removes is refused: it would be two operations, and the first could
 * succeed while the second fails, which a single PATCH cannot report.
 */
#include "redfish/resources/resources.h"

#include <stdlib.h>
#include <string.h>

static const struct rf_prop patch_links[] = {
	{ "ResourceBlocks", RF_LINKS_PATCH, 0, NULL },
	{ "ResourceBlocks@odata.count", RF_STRING, RF_READONLY, NULL },
	{ "Chassis", RF_LINKS, RF_READONLY, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop patch_props[] = {
	{ "Links", RF_OBJECT, 0, patch_links },
	{ "@Redfish.OperationApplyTime", RF_STRING, 0, NULL },
	{ "Name", RF_STRING, RF_READONLY, NULL },
	{ "Oem", RF_OBJECT, RF_READONLY, NULL },
	RF_SYSTEM_READONLY,
	{ NULL, 0, 0, NULL },
};

/* The units the system's Links.ResourceBlocks lists now, in its order
 * (the server's, as systems-json.c lists them), as unit indexes into ret
 * (room for every unit); their number. */
static size_t current_units(struct dhp_core *core, const struct dhp_partition *p, uint32_t *ret)
{
	struct dhp_server *server = dhp_core_server(core);
	size_t n = 0;

	for (size_t i = 0; i < server->n_units; i++)
		if (rf_unit_system(core, &server->units[i]) == p->id)
			ret[n++] = (uint32_t)i;
	return n;
}

/* Unit ix is in the new list; a unit there twice is refused (the engine
 * would refuse it too, less clearly). */
static int want(struct redfish *rf, struct http_response *res, unsigned char *wanted, uint32_t ix)
{
	if (wanted[ix]) {
		rf_error(res, 400, "PropertyValueIncorrect", "Name each resource block once.",
			 "The property 'Links/ResourceBlocks' with the requested value of '%s' "
			 "could not be written because the value is not acceptable for the "
			 "property (it is named twice).",
			 dhp_core_server(rf_core(rf))->units[ix].id);
		return -EINVAL;
	}
	wanted[ix] = 1;
	return 0;
}

/*
 * The new list, as marks in wanted[unit index]: the patch applied to the
 * current list element by element (DSP0266). A link replaces the element
 * at its place, or is added past the end; {} keeps the element; null
 * removes it; current elements past the patch's end are removed. {} or
 * null past the end add nothing. (DSP0266's order, modifications, then
 * removals, then additions, makes the same set.)
 */
static int apply_patch(struct redfish *rf, struct http_response *res,
		       const struct dhp_partition *p, const json_t *blocks, unsigned char *wanted)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_server *server = dhp_core_server(core);
	uint32_t *cur = calloc(server->n_units ? server->n_units : 1, sizeof(*cur));
	size_t n_cur;
	int r = 0;

	if (!cur) {
		rf_send(res, 500, NULL);
		return -ENOMEM;
	}
	n_cur = current_units(core, p, cur);
	for (size_t i = 0; !r && i < json_array_size(blocks); i++) {
		const json_t *el = json_array_get(blocks, i);
		struct dhp_unit *u;

		if (json_is_null(el))
			continue;
		if (!json_object_size(el)) {
			if (i < n_cur)
				r = want(rf, res, wanted, cur[i]);
			continue;
		}
		r = rf_block_ref(rf, res, el, &u);
		if (!r)
			r = want(rf, res, wanted, dhp_server_unit_index(server, u));
	}
	free(cur);
	return r;
}

struct diff {
	const char *add[DHP_OP_MAX_UNITS], *remove[DHP_OP_MAX_UNITS];
	size_t n_add, n_remove;
	bool only_staged_adds;	/* every unit removed is one staged to join */
};

static int diff_units(struct redfish *rf, struct http_response *res, const struct dhp_partition *p,
		      const unsigned char *wanted, struct diff *d)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_server *server = dhp_core_server(core);

	d->only_staged_adds = true;
	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];
		bool linked = rf_unit_system(core, u) == p->id;

		if (wanted[i] == linked)
			continue;
		if ((wanted[i] ? d->n_add : d->n_remove) == DHP_OP_MAX_UNITS) {
			rf_error(res, 400, "PropertyValueIncorrect",
				 "Change fewer resource blocks per request.",
				 "The property 'Links/ResourceBlocks' could not be written because "
				 "the value is not acceptable for the property (more than %d "
				 "changes).", DHP_OP_MAX_UNITS);
			return -EINVAL;
		}
		if (wanted[i]) {
			d->add[d->n_add++] = u->id;
		} else {
			d->remove[d->n_remove++] = u->id;
			d->only_staged_adds &= u->staged_partition == p->id;
		}
	}
	if (d->n_add && d->n_remove) {
		rf_error(res, 400, "PropertyValueConflict",
			 "Add resource blocks and remove others in separate requests.",
			 "The property 'Links/ResourceBlocks' could not be written because its "
			 "value would conflict with the value of the 'Links/ResourceBlocks' "
			 "property (it both adds and removes resource blocks).");
		return -EINVAL;
	}
	return 0;
}

void rf_systems_patch(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	struct dhp_partition *p = rf_partition(rf, req->params[0]);
	struct dhp_request rq = { .partition = req->params[0] };
	const json_t *blocks;
	unsigned char *wanted;
	struct diff d = { .n_add = 0 };
	int r;

	if (!p) {
		if (!strcmp(req->params[0], RF_CAPS_ID))
			rf_not_allowed(res, "GET");
		else
			rf_not_found(res, "ComputerSystem", req->params[0]);
		return;
	}
	/* Preconditions first: a stale ETag is 412 whatever the body says. */
	if (rf_precondition(res, req->if_match, rf_system_json(rf, p)) < 0 ||
	    rf_no_operation(res, req->body) < 0 ||
	    rf_check(res, req->body, patch_props, NULL) < 0 ||
	    rf_apply_time(res, req->body, NULL, &rq.on_restart) < 0)
		return;
	blocks = json_object_get(json_object_get(req->body, "Links"), "ResourceBlocks");
	if (!blocks) {
		rf_send(res, 200, rf_system_json(rf, p));	/* nothing to change */
		return;
	}
	wanted = calloc(server->n_units ? server->n_units : 1, 1);
	if (!wanted) {
		rf_send(res, 500, NULL);
		return;
	}
	r = apply_patch(rf, res, p, blocks, wanted);
	if (!r)
		r = diff_units(rf, res, p, wanted, &d);
	free(wanted);
	if (r < 0)
		return;
	if (!d.n_add && !d.n_remove) {
		rf_send(res, 200, rf_system_json(rf, p));
		return;
	}
	rq.verb = d.n_add ? DHP_VERB_ADD : DHP_VERB_REMOVE;
	rq.units = d.n_add ? d.add : d.remove;
	rq.n_units = d.n_add ? d.n_add : d.n_remove;
	/* Withdrawing units that only wait to join touches nothing that
	 * runs: it is a staged change whatever apply time was asked (the
	 * engine refuses it as a hot remove). */
	if (d.n_remove && d.only_staged_adds)
		rq.on_restart = true;
	rf_submit(rf, res, &rq);
}
