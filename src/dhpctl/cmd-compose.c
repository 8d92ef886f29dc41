/* SPDX-License-Identifier: MIT */
/*
 * Changing a partition's units: `add`, `remove` and `replace`.
 *
 * One unit is one action (ComputerSystem.AddResourceBlock or
 * RemoveResourceBlock). Several units go as one PATCH of the system's
 * Links.ResourceBlocks when the server takes them in one request (the
 * partition is stopped, or the change is staged for its restart); a
 * running partition takes one unit per request (docs/redfish.md), so
 * then each is its own operation, in order, stopping at the first that
 * does not complete.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

#define SYSTEMS "/redfish/v1/Systems"
#define BLOCKS "/redfish/v1/CompositionService/ResourceBlocks"

static int check_names(const struct ctl_args *args)
{
	if (!ctl_valid_name(args->v[0]))
		return ctl_usage("bad partition name \"%s\"", args->v[0]);
	for (int i = 1; i < args->n; i++)
		if (!ctl_valid_name(args->v[i]))
			return ctl_usage("bad unit id \"%s\"", args->v[i]);
	return 0;
}

static int one_action(struct ctl *ctl, const char *name, const char *unit, bool add,
		      bool on_restart)
{
	json_t *body = json_pack("{so}", "ResourceBlock", ref_new(BLOCKS, unit));
	char path[192], done[192];
	int rc;

	if (on_restart)
		json_object_set_new(body, "@Redfish.OperationApplyTime", json_string("OnReset"));
	snprintf(path, sizeof(path), SYSTEMS "/%s/Actions/ComputerSystem.%sResourceBlock", name,
		 add ? "Add" : "Remove");
	snprintf(done, sizeof(done), "partition %s: %s %s%s", name, unit,
		 add ? "added" : "removed", on_restart ? " at restart" : "");
	rc = ctl_change(ctl, "POST", path, body, NULL, done);
	json_decref(body);
	return rc;
}

static bool listed(const json_t *refs, const char *unit)
{
	const json_t *ref;
	size_t i;

	json_array_foreach(refs, i, ref)
		if (ref_id(ref) && !strcmp(ref_id(ref), unit))
			return true;
	return false;
}

/* The system's unit list with the change made: every unit added, or
 * every unit taken out; NULL and err set when a unit cannot be. */
static json_t *new_list(const json_t *sys, const struct ctl_args *args, bool add,
			struct ctl_error *err)
{
	const json_t *cur = jget(sys, "Links/ResourceBlocks"), *ref;
	json_t *list = json_array();
	size_t i;

	for (int u = 1; u < args->n; u++)
		if (listed(cur, args->v[u]) == add) {
			json_decref(list);
			ctl_error_set(err, CTL_EXIT_REFUSED, NULL, "unit %s is %s partition \"%s\"",
				      args->v[u], add ? "already in" : "not in", args->v[0]);
			return NULL;
		}
	json_array_foreach(cur, i, ref) {
		bool leaving = false;

		for (int u = 1; !add && u < args->n; u++)
			leaving = leaving || !strcmp(ref_id(ref) ? ref_id(ref) : "", args->v[u]);
		if (!leaving)
			json_array_append_new(list, ref_new(BLOCKS, ref_id(ref) ? ref_id(ref) : ""));
	}
	for (int u = 1; add && u < args->n; u++)
		json_array_append_new(list, ref_new(BLOCKS, args->v[u]));
	return list;
}

static int patch_units(struct ctl *ctl, const json_t *sys, const char *etag,
		       const struct ctl_args *args, bool add, bool on_restart)
{
	struct ctl_error err = { 0 };
	char path[128], done[1024];
	size_t pos = 0;
	json_t *list = new_list(sys, args, add, &err), *body;
	int rc;

	if (!list)
		return ctl_error_print(&err);
	body = json_pack("{s{so}}", "Links", "ResourceBlocks", list);
	if (on_restart)
		json_object_set_new(body, "@Redfish.OperationApplyTime", json_string("OnReset"));
	snprintf(path, sizeof(path), SYSTEMS "/%s", args->v[0]);
	buf_add(done, sizeof(done), &pos, "partition %s:", args->v[0]);
	for (int u = 1; u < args->n; u++)
		buf_add(done, sizeof(done), &pos, " %s", args->v[u]);
	buf_add(done, sizeof(done), &pos, " %s%s", add ? "added" : "removed",
		on_restart ? " at restart" : "");
	/* If-Match: the list we changed is the list the server still has. */
	rc = ctl_change(ctl, "PATCH", path, body, etag && etag[0] ? etag : NULL, done);
	json_decref(body);
	return rc;
}

static int compose(struct ctl *ctl, const struct ctl_args *args, bool add)
{
	bool on_restart = ctl_arg_opt(args, "on-restart") != NULL;
	struct ctl_error err = { 0 };
	struct http_reply reply;
	char path[128];
	int rc = CTL_EXIT_OK;

	if (check_names(args))
		return CTL_EXIT_USAGE;
	if (args->n == 2)
		return one_action(ctl, args->v[0], args->v[1], add, on_restart);
	snprintf(path, sizeof(path), SYSTEMS "/%s", args->v[0]);
	if (http_call(ctl->http, "GET", path, NULL, NULL, &reply, &err) < 0 ||
	    !json_is_object(reply.json)) {
		http_reply_release(&reply);
		ctl_error_set(&err, CTL_EXIT_UNREACHABLE, NULL, "%s is not a system", path);
		return ctl_error_print(&err);
	}
	if (on_restart || strcmp(jstr(reply.json, "Oem/Dhp/State", "running"), "running")) {
		rc = patch_units(ctl, reply.json, reply.etag[0] ? reply.etag :
				 jstr(reply.json, "@odata.etag", NULL), args, add, on_restart);
	} else if (ctl->no_wait) {
		rc = ctl_usage("--no-wait takes one unit at a time while \"%s\" runs", args->v[0]);
	} else {
		for (int u = 1; u < args->n && rc == CTL_EXIT_OK; u++)
			rc = one_action(ctl, args->v[0], args->v[u], add, false);
	}
	http_reply_release(&reply);
	return rc;
}

int cmd_add(struct ctl *ctl, const struct ctl_args *args)
{
	return compose(ctl, args, true);
}

int cmd_remove(struct ctl *ctl, const struct ctl_args *args)
{
	return compose(ctl, args, false);
}

int cmd_replace(struct ctl *ctl, const struct ctl_args *args)
{
	const char *name = args->v[0], *unit = args->v[1], *spare = ctl_arg_opt(args, "spare");
	char path[160], done[192];
	json_t *body;
	int rc;

	if (check_names(args))
		return CTL_EXIT_USAGE;
	if (spare && !ctl_valid_name(spare))
		return ctl_usage("bad unit id \"%s\"", spare);
	body = json_pack("{so}", "ResourceBlock", ref_new(BLOCKS, unit));
	if (spare)
		json_object_set_new(body, "Spare", ref_new(BLOCKS, spare));
	snprintf(path, sizeof(path), SYSTEMS "/%s/Actions/Oem/DhpComputerSystem.Replace", name);
	snprintf(done, sizeof(done), "partition %s: %s replaced", name, unit);
	rc = ctl_change(ctl, "POST", path, body, NULL, done);
	json_decref(body);
	return rc;
}
