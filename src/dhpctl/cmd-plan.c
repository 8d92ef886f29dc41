/* SPDX-License-Identifier: MIT */
/*
 * `create NAME --processors N --memory SIZE`: constrained composition.
 * dhpd's planner picks the units (docs/redfish.md, "Constrained
 * composition"); this prints which and why. The create is a POST to
 * Systems with the sizes; --dry-run asks the CompositionService's Compose
 * action for a Preview instead, which changes nothing.
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

/* Print the plan of a system body (Oem.Dhp.Plan) as "take UNITS: reason". */
static void print_plan(const json_t *sys)
{
	const json_t *steps = jget(sys, "Oem/Dhp/Plan/Steps"), *step, *link;
	size_t i, j;

	printf("  home %s\n", jstr(sys, "Oem/Dhp/Plan/HomeReason", "?"));
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
		print_plan(sys);
	}
	http_reply_release(&reply);
	return CTL_EXIT_OK;
}
