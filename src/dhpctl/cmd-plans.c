/* SPDX-License-Identifier: MIT */
/*
 * Plans of several units as one operation (issue 11): `resize` (units to
 * add and to remove: #DhpComputerSystem.Resize) and `move` (units from one
 * running partition to another: #DhpComputerSystem.Move); and the spare
 * pool: `spare add|remove UNIT` (a PATCH of Oem.Dhp.Spare).
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

#define SYSTEMS "/redfish/v1/Systems"
#define BLOCKS "/redfish/v1/CompositionService/ResourceBlocks"

/* "U1,U2,..." as an array of resource block links; NULL on a bad id. */
static json_t *block_list(const char *csv)
{
	json_t *list = json_array();
	char buf[1024], *save = NULL;

	if (strlen(csv) >= sizeof(buf)) {
		json_decref(list);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", csv);
	for (char *t = strtok_r(buf, ",", &save); t && list; t = strtok_r(NULL, ",", &save)) {
		if (!ctl_valid_name(t)) {
			ctl_usage("bad unit id \"%s\"", t);
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, ref_new(BLOCKS, t));
	}
	return list;
}

int cmd_resize(struct ctl *ctl, const struct ctl_args *args)
{
	const char *name = args->v[0], *add = ctl_arg_opt(args, "add");
	const char *remove = ctl_arg_opt(args, "remove");
	char path[160], done[192];
	json_t *body, *list;
	int rc;

	if (!ctl_valid_name(name))
		return ctl_usage("bad partition name \"%s\"", name);
	if (ctl_arg_opt(args, "processors") || ctl_arg_opt(args, "memory") ||
	    ctl_arg_opt(args, "io-bridges") || ctl_arg_opt(args, "dry-run"))
		return cmd_resize_sized(ctl, args);
	if (!add && !remove)
		return ctl_usage("resize takes --add UNIT,..., --remove UNIT,..., or both; "
				 "or sizes: --processors N, --memory SIZE, --io-bridges N");
	body = json_object();
	for (int i = 0; i < 2; i++) {
		const char *csv = i ? remove : add;

		if (!csv)
			continue;
		list = block_list(csv);
		if (!list) {
			json_decref(body);
			return CTL_EXIT_USAGE;
		}
		json_object_set_new(body, i ? "Remove" : "Add", list);
	}
	if (ctl_arg_opt(args, "on-restart"))
		json_object_set_new(body, "@Redfish.OperationApplyTime", json_string("OnReset"));
	snprintf(path, sizeof(path), SYSTEMS "/%s/Actions/Oem/DhpComputerSystem.Resize", name);
	snprintf(done, sizeof(done), "partition %s: resized", name);
	rc = ctl_change(ctl, "POST", path, body, NULL, done);
	json_decref(body);
	return rc;
}

int cmd_move(struct ctl *ctl, const struct ctl_args *args)
{
	const char *from = args->v[1], *to = args->v[2];
	char path[160], target[160], done[192];
	json_t *body, *list;
	int rc;

	if (!ctl_valid_name(from) || !ctl_valid_name(to))
		return ctl_usage("bad partition name \"%s\"", ctl_valid_name(from) ? to : from);
	list = block_list(args->v[0]);
	if (!list)
		return CTL_EXIT_USAGE;
	snprintf(target, sizeof(target), SYSTEMS "/%s", to);
	body = json_pack("{s:o, s:{s:s}}", "ResourceBlocks", list, "TargetSystem",
			 "@odata.id", target);
	snprintf(path, sizeof(path), SYSTEMS "/%s/Actions/Oem/DhpComputerSystem.Move", from);
	snprintf(done, sizeof(done), "%s moved from %s to %s", args->v[0], from, to);
	rc = ctl_change(ctl, "POST", path, body, NULL, done);
	json_decref(body);
	return rc;
}

int cmd_spare(struct ctl *ctl, const struct ctl_args *args)
{
	const char *how = args->v[0], *unit = args->v[1];
	bool add = !strcmp(how, "add");
	char path[160], done[192];
	json_t *body;
	int rc;

	if (!add && strcmp(how, "remove"))
		return ctl_usage("spare takes add or remove, not \"%s\"", how);
	if (!ctl_valid_name(unit))
		return ctl_usage("bad unit id \"%s\"", unit);
	body = json_pack("{s:{s:{s:b}}}", "Oem", "Dhp", "Spare", add);
	snprintf(path, sizeof(path), BLOCKS "/%s", unit);
	snprintf(done, sizeof(done), "%s %s the spare pool", unit, add ? "is in" : "is out of");
	rc = ctl_change(ctl, "PATCH", path, body, NULL, done);
	json_decref(body);
	return rc;
}
