/* SPDX-License-Identifier: MIT */
/*
 * dhp's plan actions on a ComputerSystem (issue 11), each one operation
 * answered 202 with its task monitor, all done or all undone:
 *
 *   #DhpComputerSystem.Resize {"Add": [links], "Remove": [links],
 *                              "@Redfish.OperationApplyTime": ...}
 *                          or {"ProcessorCount": n, "MemoryGiB": x,
 *                              "IoHostBridges": n, "Preview": bool}: the
 *                              sizes to reach; the planner (core/plan.h)
 *                              picks what to add and remove, and Preview
 *                              answers the plan (200) and changes nothing
 *   #DhpComputerSystem.Move   {"ResourceBlocks": [links],
 *                              "TargetSystem": link}
 *
 * A bad link is 400 ResourceMissingAtURI before the engine sees the
 * request; what the engine refuses maps as every request does
 * (rf_error_from): nothing changed.
 */
#include "redfish/resources/resources.h"

#include <math.h>
#include <string.h>

#define RESIZE "DhpComputerSystem.Resize"
#define MOVE "DhpComputerSystem.Move"

const struct rf_prop rf_resize_params[] = {
	{ "Add", RF_LINKS, 0, NULL },
	{ "Remove", RF_LINKS, 0, NULL },
	{ "ProcessorCount", RF_INTEGER, 0, NULL },
	{ "MemoryGiB", RF_NUMBER, 0, NULL },
	{ "IoHostBridges", RF_INTEGER, 0, NULL },
	{ "Preview", RF_BOOL, 0, NULL },
	{ "@Redfish.OperationApplyTime", RF_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};

static const char *const size_params[] = { "ProcessorCount", "MemoryGiB", "IoHostBridges" };

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

static int bad_size(struct http_response *res, const char *param, const char *why)
{
	rf_error(res, 400, "ActionParameterValueError", why,
		 "The value for the parameter %s in the action %s is invalid.", param, RESIZE);
	return -EINVAL;
}

/* The sizes of body as a plan request for partition (DHP_PLAN_KEEP for
 * those not given): 0, or -EINVAL with a 400 in res. */
static int read_targets(struct http_response *res, const json_t *body, const char *partition,
			struct dhp_plan_request *want)
{
	const json_t *procs = json_object_get(body, "ProcessorCount");
	const json_t *gib = json_object_get(body, "MemoryGiB");
	const json_t *io = json_object_get(body, "IoHostBridges");
	double mib = gib ? json_number_value(gib) * 1024.0 : 0;

	*want = (struct dhp_plan_request){ .partition = partition, .processors = DHP_PLAN_KEEP,
					   .memory_mib = DHP_PLAN_KEEP,
					   .io_bridges = DHP_PLAN_KEEP, .socket = -1 };
	if (procs && json_integer_value(procs) < 1)
		return bad_size(res, "ProcessorCount", "Ask for one processor or more.");
	if (gib && (!(mib >= 1.0) || mib > 9.0e15 || mib != floor(mib)))
		return bad_size(res, "MemoryGiB", "Ask for a positive size, a whole number of MiB.");
	if (io && json_integer_value(io) < 0)
		return bad_size(res, "IoHostBridges", "Ask for 0 or more.");
	if (procs)
		want->processors = json_integer_value(procs);
	if (gib)
		want->memory_mib = (int64_t)mib;
	if (io)
		want->io_bridges = json_integer_value(io);
	return 0;
}

/* A resize to sizes: planned, then previewed (200, the plan) or run as a
 * resize of the plan's units. */
static void resize_to_sizes(struct redfish *rf, const struct rf_request *req,
			    struct http_response *res, struct dhp_request *rq)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	struct dhp_plan_request want;
	struct dhp_error err = { 0 };
	struct dhp_plan plan;
	size_t n_add = 0, n_remove = 0;

	if (json_object_get(req->body, "Add") || json_object_get(req->body, "Remove")) {
		bad_size(res, "Add", "Name the resource blocks (Add, Remove) or ask for sizes "
			 "(ProcessorCount, MemoryGiB, IoHostBridges): not both.");
		return;
	}
	if (read_targets(res, req->body, rq->partition, &want) < 0)
		return;
	if (dhp_core_plan(rf_core(rf), &want, &plan, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	if (json_is_true(json_object_get(req->body, "Preview")) || !plan.n_units) {
		rf_send(res, 200, json_pack("{s:o}", "Plan", rf_plan_json(rf, &plan)));
		return;
	}
	for (uint32_t s = 0; s < plan.n_steps; s++)
		for (uint32_t i = 0; i < plan.steps[s].n; i++) {
			const char *id = server->units[plan.units[plan.steps[s].first + i]].id;

			if (plan.steps[s].give_back)
				((const char **)rq->remove_units)[n_remove++] = id;
			else
				((const char **)rq->units)[n_add++] = id;
		}
	rq->n_units = n_add;
	rq->n_remove = n_remove;
	rf_submit(rf, res, rq);
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
	for (size_t i = 0; i < sizeof(size_params) / sizeof(size_params[0]); i++)
		if (json_object_get(req->body, size_params[i])) {
			resize_to_sizes(rf, req, res, &rq);
			return;
		}
	if (json_object_get(req->body, "Preview")) {
		rf_error(res, 400, "ActionParameterMissing", "Preview a resize to sizes: add "
			 "ProcessorCount, MemoryGiB or IoHostBridges.",
			 "The action %s requires the parameter ProcessorCount to be present in "
			 "the request body.", RESIZE);
		return;
	}
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
