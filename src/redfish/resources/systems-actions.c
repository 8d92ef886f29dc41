/* SPDX-License-Identifier: MIT */
/*
 * The actions of a ComputerSystem: Reset (start, stop, restart), Add and
 * RemoveResourceBlock (one unit, the same requests as a PATCH of
 * Links.ResourceBlocks) and dhp's own Replace. Each is one operation,
 * answered 202 with its task monitor.
 */
#include "redfish/resources/resources.h"

#include <string.h>

#define RESET "ComputerSystem.Reset"
#define ADD "ComputerSystem.AddResourceBlock"
#define REMOVE "ComputerSystem.RemoveResourceBlock"
#define REPLACE "DhpComputerSystem.Replace"

/* The partition of an action's URI, or a 404 in res. */
static struct dhp_partition *action_partition(struct redfish *rf, const struct rf_request *req,
					      struct http_response *res)
{
	struct dhp_partition *p = rf_partition(rf, req->params[0]);

	if (!p)
		rf_not_found(res, "ComputerSystem", req->params[0]);
	return p;
}

/*
 * ComputerSystemETag and ResourceBlockETag: a mismatch is 428, as the
 * schema of these actions says (a PATCH's If-Match mismatch is 412).
 */
static int check_etags(struct redfish *rf, struct http_response *res, const json_t *body,
		       const struct dhp_partition *p, const struct dhp_unit *u)
{
	const char *want = json_string_value(json_object_get(body, "ComputerSystemETag"));
	char etag[128] = "";
	json_t *block;

	if (want && !rf_system_etag(rf, p, etag, sizeof(etag)))
		goto oom;
	if (want && strcmp(want, etag))
		goto mismatch;
	want = json_string_value(json_object_get(body, "ResourceBlockETag"));
	if (want && u) {
		block = rf_block_json(rf, u);
		if (!block)
			goto oom;
		http_etag(block, etag, sizeof(etag));
		json_decref(block);
		if (strcmp(want, etag))
			goto mismatch;
	}
	return 0;
oom:
	rf_send(res, 500, NULL);
	return -ENOMEM;
mismatch:
	rf_error(res, 428, "PreconditionFailed", "GET the resource for its current ETag, then retry.",
		 "The ETag supplied did not match the ETag required to change this resource.");
	return -EINVAL;
}

static const struct rf_prop reset_props[] = {
	{ "ResetType", RF_STRING, RF_REQUIRED, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct {
	const char *name;
	enum dhp_verb verb;
} reset_types[] = {
	{ "On", DHP_VERB_START },
	{ "ForceOff", DHP_VERB_STOP },
	{ "GracefulShutdown", DHP_VERB_STOP },
	{ "ForceRestart", DHP_VERB_RESTART },
	{ "GracefulRestart", DHP_VERB_RESTART },
};

void rf_systems_reset(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_partition *p = action_partition(rf, req, res);
	struct dhp_request rq = { .partition = req->params[0] };
	const char *type;

	if (!p || rf_check(res, req->body, reset_props, RESET) < 0)
		return;
	type = json_string_value(json_object_get(req->body, "ResetType"));
	for (size_t i = 0; i < sizeof(reset_types) / sizeof(reset_types[0]); i++)
		if (!strcmp(type, reset_types[i].name)) {
			rq.verb = reset_types[i].verb;
			rf_submit(rf, res, &rq);
			return;
		}
	rf_bad_value(res, RESET, "ResetType", type);
}

static const struct rf_prop block_props[] = {
	{ "ResourceBlock", RF_LINK, RF_REQUIRED, NULL },
	{ "ComputerSystemETag", RF_STRING, 0, NULL },
	{ "ResourceBlockETag", RF_STRING, 0, NULL },
	{ "@Redfish.OperationApplyTime", RF_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};

static void block_action(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res, enum dhp_verb verb, const char *action)
{
	struct dhp_partition *p = action_partition(rf, req, res);
	struct dhp_request rq = { .verb = verb, .partition = req->params[0], .n_units = 1 };
	struct dhp_unit *u;
	const char *id;

	if (!p || rf_check(res, req->body, block_props, action) < 0 ||
	    rf_apply_time(res, req->body, action, &rq.on_restart) < 0 ||
	    rf_block_ref(rf, res, json_object_get(req->body, "ResourceBlock"), &u) < 0 ||
	    check_etags(rf, res, req->body, p, u) < 0)
		return;
	id = u->id;
	rq.units = &id;
	/* As in a PATCH: withdrawing a unit that only waits to join is a
	 * staged change whatever the apply time. */
	if (verb == DHP_VERB_REMOVE && u->staged_partition == p->id)
		rq.on_restart = true;
	rf_submit(rf, res, &rq);
}

void rf_systems_add_block(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res)
{
	block_action(rf, req, res, DHP_VERB_ADD, ADD);
}

void rf_systems_remove_block(struct redfish *rf, const struct rf_request *req,
			     struct http_response *res)
{
	block_action(rf, req, res, DHP_VERB_REMOVE, REMOVE);
}

const struct rf_prop rf_replace_params[] = {
	{ "ResourceBlock", RF_LINK, RF_REQUIRED, NULL },
	{ "Spare", RF_LINK, 0, NULL },
	{ "ComputerSystemETag", RF_STRING, 0, NULL },
	{ NULL, 0, 0, NULL },
};

void rf_systems_replace(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct dhp_partition *p = action_partition(rf, req, res);
	struct dhp_request rq = { .verb = DHP_VERB_REPLACE, .partition = req->params[0],
				  .n_units = 1 };
	const json_t *spare_link;
	struct dhp_unit *old, *spare;
	const char *id;

	if (!p || rf_check(res, req->body, rf_replace_params, REPLACE) < 0 ||
	    rf_block_ref(rf, res, json_object_get(req->body, "ResourceBlock"), &old) < 0 ||
	    check_etags(rf, res, req->body, p, NULL) < 0)
		return;
	spare_link = json_object_get(req->body, "Spare");
	if (spare_link) {
		if (rf_block_ref(rf, res, spare_link, &spare) < 0)
			return;
		rq.spare = spare->id;
	}
	id = old->id;
	rq.units = &id;
	rf_submit(rf, res, &rq);
}
