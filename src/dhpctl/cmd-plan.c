/* SPDX-License-Identifier: MIT */
/*
 * `create NAME --processors N --memory SIZE`: constrained composition.
 * dhpd's planner picks the units (docs/redfish.md, "Constrained
 * composition"); this prints which and why. The create is a POST to
 * Systems with the sizes; --dry-run asks the CompositionService's Compose
 * action for a Preview instead, which changes nothing.
 *
 * `resize NAME --processors N --memory SIZE`: the same for a partition
 * that exists. The Resize action's Preview gives the plan, which is
 * printed; then the plan's own units are sent as the Resize's Add and
 * Remove, so that what runs is what was printed (the engine refuses it
 * whole if a unit was taken meanwhile).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define SYSTEMS "/redfish/v1/Systems"
#define COMPOSE "/redfish/v1/CompositionService/Actions/CompositionService.Compose"

/* "32GiB", "32G", "512MiB", "512M" or "32" (GiB) as GiB; -1 when bad. */
static double parse_memory(const char *text)
{
	char *end;
	double n;

	errno = 0;
	n = strtod(text, &end);
	if (errno || end == text || n <= 0)
		return -1;
	if (!*end || !strcmp(end, "GiB") || !strcmp(end, "G"))
		return n;
	if (!strcmp(end, "MiB") || !strcmp(end, "M"))
		return n / 1024;
	if (!strcmp(end, "TiB") || !strcmp(end, "T"))
		return n * 1024;
	return -1;
}

/* A count option: a whole number from 0 on; -1 when absent, -2 when bad. */
static long long parse_count(const struct ctl_args *args, const char *name)
{
	const char *text = ctl_arg_opt(args, name);
	char *end;
	long long n;

	if (!text)
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	return errno || end == text || *end || n < 0 ? -2 : n;
}

/* Print a plan (Oem.Dhp.Plan, or a resize's Plan) as "take UNITS: reason". */
static void print_plan(const json_t *plan)
{
	const json_t *steps = jget(plan, "Steps"), *step, *link;
	size_t i, j;

	printf("  home %s\n", jstr(plan, "HomeReason", "?"));
	json_array_foreach(steps, i, step) {
		printf("  %s", strcmp(jstr(step, "Action", ""), "GiveBack") ? "take" : "give back");
		json_array_foreach(json_object_get(step, "ResourceBlocks"), j, link) {
			const char *id = ref_id(link);

			printf(" %s", id ? id : "?");
		}
		printf(": %s\n", jstr(step, "Reason", ""));
	}
}

static void print_units(const json_t *sys)
{
	const json_t *link;
	size_t i;

	json_array_foreach(jget(sys, "Links/ResourceBlocks"), i, link)
		printf(" %s", ref_id(link) ? ref_id(link) : "?");
}

int cmd_create_sized(struct ctl *ctl, const struct ctl_args *args)
{
	const char *name = args->v[0], *os = ctl_arg_opt(args, "os");
	const char *mem = ctl_arg_opt(args, "memory");
	long long procs = parse_count(args, "processors"), io = parse_count(args, "io-bridges");
	long long socket = parse_count(args, "socket");
	bool dry = ctl_arg_opt(args, "dry-run") != NULL;
	struct ctl_error err = { 0 };
	struct http_reply reply;
	const json_t *sys;
	json_t *request, *body;
	double gib;
	int rc;

	if (!ctl_valid_name(name))
		return ctl_usage("bad partition name \"%s\"", name);
	if (args->n > 1)
		return ctl_usage("create: name units or sizes (--processors, --memory), not both");
	if (procs < 1 || !mem)
		return ctl_usage("create: --processors N (1 or more) and --memory SIZE are needed");
	gib = parse_memory(mem);
	if (gib <= 0)
		return ctl_usage("bad memory size \"%s\" (e.g. 32GiB, 512MiB)", mem);
	if (io == -2 || socket == -2)
		return ctl_usage("--io-bridges and --socket take a whole number");
	request = json_pack("{ss s{sI} s{sf} s{s{ss}}}", "Name", name,
			    "ProcessorSummary", "Count", (json_int_t)procs,
			    "MemorySummary", "TotalSystemMemoryGiB", gib,
			    "Oem", "Dhp", "OsProfile", os ? os : "linux");
	if (io >= 0)
		json_object_set_new(jget(request, "Oem/Dhp"), "IoHostBridges", json_integer(io));
	if (socket >= 0)
		json_object_set_new(jget(request, "Oem/Dhp"), "Socket", json_integer(socket));
	if (dry)
		body = json_pack("{ss ss s{s[{ss ss so}]}}", "RequestFormat", "Manifest",
				 "RequestType", "Preview", "Manifest", "Stanzas",
				 "StanzaType", "ComposeSystem", "StanzaId", name, "Request", request);
	else
		body = request;
	rc = http_call(ctl->http, "POST", dry ? COMPOSE : SYSTEMS, body, NULL, &reply, &err);
	json_decref(body);
	if (rc < 0) {
		http_reply_release(&reply);
		return ctl_error_print(&err);
	}
	sys = dry ? jget(json_array_get(jget(reply.json, "Manifest/Stanzas"), 0), "Response")
		  : reply.json;
	if (ctl->json) {
		json_print(reply.json);
	} else {
		printf(dry ? "partition %s would be (%s:" : "partition %s created (%s:", name,
		       os ? os : "linux");
		print_units(sys);
		printf(")%s\n", dry ? "; nothing changed" : "");
		print_plan(jget(sys, "Oem/Dhp/Plan"));
	}
	http_reply_release(&reply);
	return CTL_EXIT_OK;
}

/* The Resize body of a plan's steps: Add the taken units, Remove the
 * given back ones. */
static json_t *plan_body(const json_t *plan)
{
	json_t *add = json_array(), *remove = json_array();
	const json_t *step, *link;
	size_t i, j;

	json_array_foreach(jget(plan, "Steps"), i, step)
		json_array_foreach(json_object_get(step, "ResourceBlocks"), j, link)
			json_array_append(strcmp(jstr(step, "Action", ""), "GiveBack") ? add : remove,
					  (json_t *)link);
	return json_pack("{s:o, s:o}", "Add", add, "Remove", remove);
}

int cmd_resize_sized(struct ctl *ctl, const struct ctl_args *args)
{
	const char *name = args->v[0], *mem = ctl_arg_opt(args, "memory");
	long long procs = parse_count(args, "processors"), io = parse_count(args, "io-bridges");
	bool dry = ctl_arg_opt(args, "dry-run") != NULL;
	struct ctl_error err = { 0 };
	struct http_reply reply;
	char path[160], done[192];
	const json_t *plan;
	json_t *body;
	double gib = 0;
	int rc;

	if (ctl_arg_opt(args, "add") || ctl_arg_opt(args, "remove") ||
	    ctl_arg_opt(args, "on-restart"))
		return ctl_usage("resize: name units (--add, --remove) or sizes, not both");
	if (procs == -2 || io == -2 || procs == 0)
		return ctl_usage("--processors (1 or more) and --io-bridges take a whole number");
	if (mem && (gib = parse_memory(mem)) <= 0)
		return ctl_usage("bad memory size \"%s\" (e.g. 32GiB, 512MiB)", mem);
	body = json_pack("{s:b}", "Preview", 1);
	if (procs > 0)
		json_object_set_new(body, "ProcessorCount", json_integer(procs));
	if (mem)
		json_object_set_new(body, "MemoryGiB", json_real(gib));
	if (io >= 0)
		json_object_set_new(body, "IoHostBridges", json_integer(io));
	snprintf(path, sizeof(path), "/redfish/v1/Systems/%s/Actions/Oem/DhpComputerSystem.Resize",
		 name);
	rc = http_call(ctl->http, "POST", path, body, NULL, &reply, &err);
	json_decref(body);
	if (rc < 0) {
		http_reply_release(&reply);
		return ctl_error_print(&err);
	}
	plan = jget(reply.json, "Plan");
	if (ctl->json && dry)
		json_print(reply.json);
	else if (!ctl->json) {
		printf(json_array_size(jget(plan, "Steps")) ? "partition %s%s:\n"
			: "partition %s: %s\n", name,
			json_array_size(jget(plan, "Steps")) ? (dry ? " would be resized (nothing "
			"changed)" : " will be resized") : "already that size, nothing to do");
		if (json_array_size(jget(plan, "Steps")))
			print_plan(plan);
	}
	rc = CTL_EXIT_OK;
	if (!dry && json_array_size(jget(plan, "Steps"))) {
		body = plan_body(plan);
		snprintf(done, sizeof(done), "partition %s: resized", name);
		rc = ctl_change(ctl, "POST", path, body, NULL, done);
		json_decref(body);
	}
	http_reply_release(&reply);
	return rc;
}
