/* SPDX-License-Identifier: MIT */
/*
 * Partitions as wholes: `partitions` (the Systems), `create`, `delete`,
 * and `start`, `stop`, `restart` (ComputerSystem.Reset).
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

#define SYSTEMS "/redfish/v1/Systems"
#define BLOCKS "/redfish/v1/CompositionService/ResourceBlocks"

static const struct col partition_cols[] = {
	{ "name", "PARTITION", COL_TEXT, false },
	{ "profile", "PROFILE", COL_TEXT, false },
	{ "state", "STATE", COL_TEXT, false },
	{ "processors", "CPUS", COL_TEXT, true },
	{ "memory_gib", "MEMORY", COL_GIB, true },
	{ "locality", "LOCALITY", COL_TEXT, true },
	{ "staged", "STAGED", COL_LIST, false },
	{ "units", "UNITS", COL_LIST, false },
};

/* Unit ids of an array of references, each with a prefix ("+", "-" or ""). */
static void add_ids(json_t *out, const json_t *refs, const char *prefix)
{
	const json_t *ref;
	char buf[160];
	size_t i;

	json_array_foreach(refs, i, ref) {
		const char *id = ref_id(ref);

		if (!id)
			continue;
		snprintf(buf, sizeof(buf), "%s%s", prefix, id);
		json_array_append_new(out, json_string(buf));
	}
}

/* A unit staged to join is listed among the system's ResourceBlocks too;
 * UNITS shows what the partition has now, STAGED what will change. */
static void drop_staged(json_t *units, const json_t *staged)
{
	const json_t *s;
	size_t i;

	json_array_foreach(staged, i, s)
		for (size_t j = 0; j < json_array_size(units); j++)
			if (!strcmp(json_string_value(s) + 1,
				    json_string_value(json_array_get(units, j))))
				json_array_remove(units, j--);
}

static json_t *partition_row(const json_t *sys)
{
	json_t *units = json_array(), *staged = json_array();
	const char *state = jstr(sys, "Oem/Dhp/State", NULL);
	const json_t *count = jget(sys, "ProcessorSummary/Count");
	const json_t *gib = jget(sys, "MemorySummary/TotalSystemMemoryGiB");
	/* null (no processor or no memory) and absent (not dhp's) print "-". */
	const json_t *locality = jget(sys, "Oem/Dhp/Locality");

	add_ids(units, jget(sys, "Links/ResourceBlocks"), "");
	add_ids(staged, jget(sys, "Oem/Dhp/StagedResourceBlocks/Add"), "+");
	drop_staged(units, staged);
	add_ids(staged, jget(sys, "Oem/Dhp/StagedResourceBlocks/Remove"), "-");
	if (!state)	/* not dhp's: say what Redfish says */
		state = jstr(sys, "PowerState", "-");
	/* uuid is for -o json only: a table column 36 wide would crowd out
	 * the units. */
	return json_pack("{ss ss ss sO* sO* sO* so so s:s?}",
			 "name", jstr(sys, "Id", "?"),
			 "profile", jstr(sys, "Oem/Dhp/OsProfile", "-"),
			 "state", state,
			 "processors", count, "memory_gib", gib, "locality", locality,
			 "staged", staged, "units", units,
			 "uuid", jstr(sys, "UUID", NULL));
}

int cmd_partitions(struct ctl *ctl, const struct ctl_args *args)
{
	struct table t = { partition_cols, sizeof(partition_cols) / sizeof(partition_cols[0]),
			   NULL, "no partitions", NULL };
	struct ctl_error err = { 0 };
	json_t *systems, *sys;
	size_t i;

	(void)args;
	if (collection_get(ctl, SYSTEMS, NULL, &systems, &err) < 0)
		return ctl_error_print(&err);
	t.rows = json_array();
	json_array_foreach(systems, i, sys) {
		const char *id = jstr(sys, "@odata.id", "");
		json_t *row;

		if (!strcmp(id, SYSTEMS "/Capabilities"))
			continue;	/* the create template, not a partition */
		row = partition_row(sys);
		if (row)
			json_array_append_new(t.rows, row);
	}
	table_print(ctl, &t);
	json_decref(t.rows);
	json_decref(systems);
	return CTL_EXIT_OK;
}

static int check_name(const char *name)
{
	return ctl_valid_name(name) ? 0 :
	       ctl_usage("bad partition name \"%s\" (1 to 63 of A-Z a-z 0-9 . _ -)", name);
}

int cmd_create(struct ctl *ctl, const struct ctl_args *args)
{
	const char *name = args->v[0], *os = ctl_arg_opt(args, "os");
	json_t *refs, *body;
	char done[1024];
	size_t pos = 0;
	int rc;

	if (ctl_arg_opt(args, "processors") || ctl_arg_opt(args, "memory") ||
	    ctl_arg_opt(args, "io-bridges") || ctl_arg_opt(args, "socket") ||
	    ctl_arg_opt(args, "dry-run"))
		return cmd_create_sized(ctl, args);
	if (args->n < 2)
		return ctl_usage("create: name the units, or give sizes (--processors, --memory)");
	if (!os)
		return ctl_usage("create: --os PROFILE is required");
	if (check_name(name))
		return CTL_EXIT_USAGE;
	refs = json_array();
	buf_add(done, sizeof(done), &pos, "partition %s created (%s:", name, os);
	for (int i = 1; i < args->n; i++) {
		if (!ctl_valid_name(args->v[i])) {
			json_decref(refs);
			return ctl_usage("bad unit id \"%s\"", args->v[i]);
		}
		json_array_append_new(refs, ref_new(BLOCKS, args->v[i]));
		buf_add(done, sizeof(done), &pos, " %s", args->v[i]);
	}
	buf_add(done, sizeof(done), &pos, ")");
	body = json_pack("{ss s{so} s{s{ss}}}", "Name", name, "Links", "ResourceBlocks", refs,
			 "Oem", "Dhp", "OsProfile", os);
	rc = ctl_change(ctl, "POST", SYSTEMS, body, NULL, done);
	json_decref(body);
	return rc;
}

int cmd_delete(struct ctl *ctl, const struct ctl_args *args)
{
	const char *name = args->v[0];
	char path[128], done[128];

	if (check_name(name))
		return CTL_EXIT_USAGE;
	snprintf(path, sizeof(path), SYSTEMS "/%s", name);
	snprintf(done, sizeof(done), "partition %s deleted", name);
	return ctl_change(ctl, "DELETE", path, NULL, NULL, done);
}

int cmd_reset(struct ctl *ctl, const struct ctl_args *args)
{
	const char *verb = ctl_current_cmd->name, *name = args->v[0], *type;
	bool force = ctl_arg_opt(args, "force") != NULL;
	char path[160], done[128];
	json_t *body;
	int rc;

	if (check_name(name))
		return CTL_EXIT_USAGE;
	if (!strcmp(verb, "start"))
		type = "On";
	else if (!strcmp(verb, "stop"))
		type = force ? "ForceOff" : "GracefulShutdown";
	else
		type = force ? "ForceRestart" : "GracefulRestart";
	snprintf(path, sizeof(path), SYSTEMS "/%s/Actions/ComputerSystem.Reset", name);
	snprintf(done, sizeof(done), "partition %s: %s done", name, verb);
	body = json_pack("{ss}", "ResetType", type);
	rc = ctl_change(ctl, "POST", path, body, NULL, done);
	json_decref(body);
	return rc;
}
