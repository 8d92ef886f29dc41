/* SPDX-License-Identifier: MIT */
/*
 * dhp's plan actions on a ComputerSystem (issue 11), each one operation
 * answered 202 with its task monitor, all done or all undone:
 *
 *   #DhpComputerSystem.Resize {"Add": [links], "Remove": [links],
 *                              "@Redfish.OperationApplyTime": ...}
 *   #DhpComputerSystem.Move   {"ResourceBlocks": [links],
 *                              "TargetSystem": link}
 *
 * A bad link is 400 ResourceMissingAtURI before the engine sees the
 * request; what the engine refuses maps as every request does
 * (rf_error_from): nothing changed.
 */
#include "redfish/resources/resources.h"

#include <string.h>

#define RESIZE "DhpComputerSystem.Resize"
#define MOVE "DhpComputerSystem.Move"

const struct rf_prop rf_resize_params[] = {
	{ "Add", RF_LINKS, 0, NULL },
	{ "Remove", RF_LINKS, 0, NULL },
	{ "@Redfish.OperationApplyTime", RF_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};

const struct rf_prop rf_move_params[] = {
	{ "ResourceBlocks", RF_LINKS, RF_REQUIRED, NULL },
	{ "TargetSystem", RF_LINK, RF_REQUIRED, NULL },
	{ NULL, 0, 0, NULL },
};

/* The unit ids of an array of resource block links, into ids (room for
 * DHP_OP_MAX_UNITS); their number, or -EINVAL with a 400 in res. */
static int block_ids(struct redfish *rf, struct http_response *res, const char *action,
		     const char *param, const json_t *links, const char **ids)
{
	size_t i, n = json_array_size(links);
	json_t *link;

	if (n > DHP_OP_MAX_UNITS) {
		rf_error(res, 400, "ActionParameterValueError",
			 "Name fewer resource blocks, or split the change.",
			 "The value for the parameter %s in the action %s is invalid: at most %d "
			 "resource blocks.", param, action, DHP_OP_MAX_UNITS);
		return -EINVAL;
	}
	json_array_foreach(links, i, link) {
		struct dhp_unit *u;

		if (rf_block_ref(rf, res, link, &u) < 0)
			return -EINVAL;
		ids[i] = u->id;
	}
	return (int)n;
}

/* The partition of the action's URI, or a 404 in res. */
static struct dhp_partition *plan_partition(struct redfish *rf, const struct rf_request *req,
					    struct http_response *res)
{
	struct dhp_partition *p = rf_partition(rf, req->params[0]);

	if (!p)
		rf_not_found(res, "ComputerSystem", req->params[0]);
	return p;
}

void rf_systems_resize(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res)
{
	const char *adds[DHP_OP_MAX_UNITS], *removes[DHP_OP_MAX_UNITS];
	struct dhp_request rq = { .verb = DHP_VERB_RESIZE, .partition = req->params[0],
				  .units = adds, .remove_units = removes };
	int n_add, n_remove;

	if (!plan_partition(rf, req, res) || rf_check(res, req->body, rf_resize_params, RESIZE) < 0 ||
	    rf_apply_time(res, req->body, RESIZE, &rq.on_restart) < 0)
		return;
	n_add = block_ids(rf, res, RESIZE, "Add", json_object_get(req->body, "Add"), adds);
	if (n_add < 0)
		return;
	n_remove = block_ids(rf, res, RESIZE, "Remove", json_object_get(req->body, "Remove"),
			     removes);
	if (n_remove < 0)
		return;
	if (!n_add && !n_remove) {
		rf_error(res, 400, "ActionParameterMissing", "Name the resource blocks to add "
			 "(Add), to remove (Remove), or both.",
			 "The action %s requires the parameter Add or Remove to be present in "
			 "the request body.", RESIZE);
		return;
	}
	rq.n_units = (size_t)n_add;
	rq.n_remove = (size_t)n_remove;
	rf_submit(rf, res, &rq);
}

/* A link to a ComputerSystem of a partition: its name, or a 400. */
static const char *system_ref(struct redfish *rf, struct http_response *res, const json_t *link)
{
	const char *uri = json_string_value(json_object_get(link, "@odata.id"));
	const char *prefix = RF_SYSTEMS "/";
	struct dhp_partition *p = NULL;

	if (uri && !strncmp(uri, prefix, strlen(prefix)) && !strchr(uri + strlen(prefix), '/'))
		p = rf_partition(rf, uri + strlen(prefix));
	if (!p) {
		rf_error(res, 400, "ResourceMissingAtURI",
			 "Name the target by the @odata.id of a member of " RF_SYSTEMS ".",
			 "The resource at the URI '%.80s' was not found.", uri ? uri : "");
		return NULL;
	}
	return p->name;
}

void rf_systems_move(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	const char *ids[DHP_OP_MAX_UNITS];
	struct dhp_request rq = { .verb = DHP_VERB_MOVE, .partition = req->params[0],
				  .units = ids };
	int n;

	if (!plan_partition(rf, req, res) || rf_check(res, req->body, rf_move_params, MOVE) < 0)
		return;
	rq.target = system_ref(rf, res, json_object_get(req->body, "TargetSystem"));
	if (!rq.target)
		return;
	n = block_ids(rf, res, MOVE, "ResourceBlocks",
		      json_object_get(req->body, "ResourceBlocks"), ids);
	if (n < 0)
		return;
	rq.n_units = (size_t)n;
	rf_submit(rf, res, &rq);
}
