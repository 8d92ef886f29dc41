/* SPDX-License-Identifier: MIT */
/*
 * What a create request asks for, read once for POST /redfish/v1/Systems
 * and for the stanzas of the Compose action (compose.c): either the
 * blocks themselves (specific composition) or sizes, for which the
 * planner picks the blocks (constrained composition, core/plan.h). And
 * the plan as the answer shows it: Oem.Dhp.Plan, each step with its
 * reason.
 */
#include "redfish/resources/resources.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct rf_prop create_links[] = {
	{ "ResourceBlocks", RF_LINKS, 0, NULL },
	{ "ResourceBlocks@odata.count", RF_STRING, RF_READONLY, NULL },
	{ "Chassis", RF_LINKS, RF_READONLY, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_dhp[] = {
	{ "OsProfile", RF_STRING, 0, NULL },
	{ "IoHostBridges", RF_INTEGER, 0, NULL },
	{ "Socket", RF_INTEGER, 0, NULL },
	{ "@odata.type", RF_STRING, 0, NULL },	/* as a GET shows it; not checked */
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_oem[] = {
	{ "Dhp", RF_OBJECT, 0, create_dhp },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_procs[] = {
	{ "Count", RF_INTEGER, 0, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_memory[] = {
	{ "TotalSystemMemoryGiB", RF_NUMBER, 0, NULL },
	{ NULL, 0, 0, NULL },
};

/* The sizes come before RF_SYSTEM_READONLY, whose ProcessorSummary and
 * MemorySummary they override (rf_check takes the first of a name). */
const struct rf_prop rf_create_props[] = {
	{ "Name", RF_STRING, RF_REQUIRED, NULL },
	{ "Links", RF_OBJECT, 0, create_links },
	{ "ProcessorSummary", RF_OBJECT, 0, create_procs },
	{ "MemorySummary", RF_OBJECT, 0, create_memory },
	{ "@Redfish.ZoneAffinity", RF_STRING, 0, NULL },
	{ "Oem", RF_OBJECT, 0, create_oem },
	RF_SYSTEM_READONLY,
	{ NULL, 0, 0, NULL },
};

static int block_ids(struct redfish *rf, struct http_response *res, const json_t *blocks,
		     struct rf_create *c)
{
	size_t i;
	json_t *link;

	if (json_array_size(blocks) > DHP_OP_MAX_UNITS) {
		rf_error(res, 400, "PropertyValueIncorrect",
			 "Compose the partition with fewer units, then add more.",
			 "The property 'Links/ResourceBlocks' with the requested value of '%zu "
			 "resource blocks' could not be written because the value is not "
			 "acceptable for the property (at most %d).", json_array_size(blocks),
			 DHP_OP_MAX_UNITS);
		return -EINVAL;
	}
	json_array_foreach(blocks, i, link) {
		struct dhp_unit *u;

		if (rf_block_ref(rf, res, link, &u) < 0)
			return -EINVAL;
		c->ids[i] = u->id;
	}
	c->n_ids = json_array_size(blocks);
	return 0;
}

static int bad_number(struct http_response *res, const char *prop, const json_t *val,
		      const char *why)
{
	char *text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);

	rf_error(res, 400, "PropertyValueIncorrect", why,
		 "The property '%s' with the requested value of '%.40s' could not be written "
		 "because the value is not acceptable for the property.", prop,
		 text ? text : "?");
	free(text);
	return -EINVAL;
}

/* The sizes of a constrained composition into c->want. */
static int read_sizes(struct redfish *rf, struct http_response *res, const json_t *body,
		      const json_t *dhp, struct rf_create *c)
{
	const json_t *count = json_object_get(json_object_get(body, "ProcessorSummary"), "Count");
	const json_t *gib = json_object_get(json_object_get(body, "MemorySummary"),
					    "TotalSystemMemoryGiB");
	const json_t *io = json_object_get(dhp, "IoHostBridges");
	const json_t *socket = json_object_get(dhp, "Socket");
	const json_t *zone = json_object_get(body, "@Redfish.ZoneAffinity");
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	double mib;

	c->sized = true;
	c->want = (struct dhp_plan_request){ .processors = 0, .memory_mib = 0, .socket = -1 };
	if (!count)
		return bad_number(res, "ProcessorSummary/Count", json_null(),
				  "Ask for one processor or more: a partition needs one to start.");
	if (!gib)
		return bad_number(res, "MemorySummary/TotalSystemMemoryGiB", json_null(),
				  "Ask for memory: a partition needs a module to start.");
	mib = json_number_value(gib) * 1024.0;
	if (json_integer_value(count) < 1)
		return bad_number(res, "ProcessorSummary/Count", count,
				  "Ask for one processor or more.");
	if (!(mib >= 1.0) || mib > 9.0e15 || mib != floor(mib))
		return bad_number(res, "MemorySummary/TotalSystemMemoryGiB", gib,
				  "Ask for a positive size, a whole number of MiB.");
	if (io && json_integer_value(io) < 0)
		return bad_number(res, "Oem/Dhp/IoHostBridges", io, "Ask for 0 or more.");
	if (socket && (json_integer_value(socket) < 0 ||
		       json_integer_value(socket) >= (json_int_t)server->n_sockets))
		return bad_number(res, "Oem/Dhp/Socket", socket,
				  "Name a socket of the server (Chassis Oem.Dhp.Sockets).");
	if (zone && strcmp(json_string_value(zone), server->name)) {
		rf_error(res, 400, "ResourceMissingAtURI",
			 "Name the server's zone, as Systems' @Redfish.CollectionCapabilities do.",
			 "The resource at the URI '" RF_ZONES "/%.64s' was not found.",
			 json_string_value(zone));
		return -EINVAL;
	}
	c->want.processors = json_integer_value(count);
	c->want.memory_mib = (int64_t)mib;
	c->want.io_bridges = io ? json_integer_value(io) : 0;
	c->want.socket = socket ? (int)json_integer_value(socket) : -1;
	return 0;
}

int rf_create_parse(struct redfish *rf, struct http_response *res, const json_t *body,
		    struct rf_create *c)
{
	const json_t *dhp = json_object_get(json_object_get(body, "Oem"), "Dhp");
	const json_t *blocks = json_object_get(json_object_get(body, "Links"), "ResourceBlocks");
	bool sizes = json_object_get(body, "ProcessorSummary") ||
		     json_object_get(body, "MemorySummary") ||
		     json_object_get(dhp, "IoHostBridges") || json_object_get(dhp, "Socket") ||
		     json_object_get(body, "@Redfish.ZoneAffinity");

	memset(c, 0, sizeof(*c));
	if (rf_check(res, body, rf_create_props, NULL) < 0)
		return -EINVAL;
	c->name = json_string_value(json_object_get(body, "Name"));
	c->profile = json_object_get(dhp, "OsProfile") ?
		     json_string_value(json_object_get(dhp, "OsProfile")) : "linux";
	if (!dhp_profile_find(c->profile)) {
		rf_bad_value(res, NULL, "Oem/Dhp/OsProfile", c->profile);
		return -EINVAL;
	}
	if (!strcmp(c->name, RF_CAPS_ID) || !strcmp(c->name, "Members")) {
		rf_error(res, 409, "ResourceAlreadyExists", "Choose another name.",
			 "The requested resource of type ComputerSystem with the property Name "
			 "with the value '%s' already exists.", c->name);
		return -EINVAL;
	}
	if (blocks && sizes) {
		rf_error(res, 400, "PropertyValueConflict",
			 "Name the resource blocks, or ask for sizes and let the service pick "
			 "them: not both.",
			 "The property 'Links/ResourceBlocks' could not be written because its value "
			 "conflicts with the value of the 'ProcessorSummary/Count' property.");
		return -EINVAL;
	}
	if (sizes)
		return read_sizes(rf, res, body, dhp, c);
	if (!blocks) {
		rf_error(res, 400, "PropertyMissing",
			 "Name the resource blocks (Links/ResourceBlocks), or ask for sizes "
			 "(ProcessorSummary/Count and MemorySummary/TotalSystemMemoryGiB).",
			 "The property Links/ResourceBlocks is a required property and must be "
			 "included in the request.");
		return -EINVAL;
	}
	return block_ids(rf, res, blocks, c);
}

int rf_create_plan(struct redfish *rf, struct http_response *res, struct rf_create *c,
		   uint64_t reservation)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_error err = { 0 };

	if (!c->sized)
		return 0;
	c->want.reservation = reservation;
	if (dhp_core_plan(core, &c->want, &c->plan, &err) < 0) {
		rf_error_from(res, &err);
		return err.code;
	}
	for (uint32_t i = 0; i < c->plan.n_units; i++)
		c->ids[i] = dhp_core_server(core)->units[c->plan.units[i]].id;
	c->n_ids = c->plan.n_units;
	return 0;
}

json_t *rf_plan_json(struct redfish *rf, const struct dhp_plan *plan)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	json_t *steps = json_array();

	for (uint32_t s = 0; steps && s < plan->n_steps; s++) {
		const struct dhp_plan_step *st = &plan->steps[s];
		json_t *blocks = json_array();

		for (uint32_t i = 0; blocks && i < st->n; i++)
			json_array_append_new(blocks, rf_link(RF_BLOCKS "/%s",
				server->units[plan->units[st->first + i]].id));
		json_array_append_new(steps, json_pack("{s:s, s:s, s:I, s:I, s:o, s:s}",
			"Action", st->give_back ? "GiveBack" : "Take",
			"Type", dhp_unit_type_name(st->type),
			"Socket", (json_int_t)st->socket, "Distance", (json_int_t)st->distance,
			"ResourceBlocks", blocks ? blocks : json_null(), "Reason", st->reason));
	}
	return json_pack("{s:I, s:s, s:o}", "HomeSocket", (json_int_t)plan->home,
			 "HomeReason", plan->home_reason, "Steps", steps ? steps : json_null());
}
