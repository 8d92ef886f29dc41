/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/Systems: partitions as ComputerSystems. Listing, reading,
 * creating (POST to the collection or its Members: with
 * Links.ResourceBlocks, specific composition, as in DMTF's
 * bladed-partitions mockup; or with sizes, constrained composition, the
 * planner picking the blocks: systems-plan.c)
 * and deleting (If-Match checked); the route table of every system URI. Changes to a system's units are systems-patch.c, its actions
 * systems-actions.c, its processors and memory systems-parts.c.
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <string.h>

static void systems_list(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	json_t *coll = rf_collection(RF_T_SYSTEMS, "Computer System Collection", RF_SYSTEMS);

	(void)req;
	for (size_t i = 0; coll && i < server->n_partitions; i++)
		rf_members_add(coll, "Members",
			       rf_link(RF_SYSTEMS "/%s", server->partitions[i]->name));
	if (coll)
		json_object_set_new(coll, "@Redfish.CollectionCapabilities",
				    rf_collection_caps(server));
	rf_send(res, 200, coll);
}

/* What a create request may say (DMTF's capabilities object). */
static json_t *capabilities(void)
{
	unsigned n;
	const struct dhp_os_profile *profiles = dhp_profiles(&n);
	json_t *names = json_array();
	json_t *caps;

	for (unsigned i = 0; names && i < n; i++)
		json_array_append_new(names, json_string(profiles[i].name));
	caps = rf_resource(RF_T_SYSTEM, RF_CAPS_ID, "Capabilities for the system collection",
			   RF_SYSTEMS_CAPS);
	if (!caps) {
		json_decref(names);
		return NULL;
	}
	json_object_set_new(caps, "Description", json_string(
		"What a request to create a partition (POST " RF_SYSTEMS ") may contain"));
	json_object_set_new(caps, "Name@Redfish.RequiredOnCreate", json_true());
	json_object_set_new(caps, "Name@Redfish.SetOnlyOnCreate", json_true());
	/* Either the blocks (specific composition) or the sizes (constrained
	 * composition: the service picks the blocks): each is optional alone,
	 * one of the two is needed (docs/redfish.md). */
	json_object_set_new(caps, "Links@Redfish.OptionalOnCreate", json_true());
	json_object_set_new(caps, "Links", json_pack("{s:b, s:b}",
		"ResourceBlocks@Redfish.OptionalOnCreate", 1,
		"ResourceBlocks@Redfish.UpdatableAfterCreate", 1));
	json_object_set_new(caps, "ProcessorSummary@Redfish.OptionalOnCreate", json_true());
	json_object_set_new(caps, "ProcessorSummary", json_pack("{s:b}",
		"Count@Redfish.OptionalOnCreate", 1));
	json_object_set_new(caps, "MemorySummary@Redfish.OptionalOnCreate", json_true());
	json_object_set_new(caps, "MemorySummary", json_pack("{s:b}",
		"TotalSystemMemoryGiB@Redfish.OptionalOnCreate", 1));
	json_object_set_new(caps, "Oem@Redfish.OptionalOnCreate", json_true());
	json_object_set_new(caps, "Oem", rf_oem(RF_T_OEM_SYSTEM, json_pack("{s:b, s:b, s:o, s:b, s:b}",
		"OsProfile@Redfish.OptionalOnCreate", 1,
		"OsProfile@Redfish.SetOnlyOnCreate", 1,
		"OsProfile@Redfish.AllowableValues", names,
		"IoHostBridges@Redfish.OptionalOnCreate", 1,
		"Socket@Redfish.OptionalOnCreate", 1)));
	return caps;
}

static void systems_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct dhp_partition *p = rf_partition(rf, req->params[0]);

	if (!strcmp(req->params[0], RF_CAPS_ID)) {
		rf_send(res, 200, capabilities());
		return;
	}
	if (!p) {
		rf_not_found(res, "ComputerSystem", req->params[0]);
		return;
	}
	rf_send(res, 200, rf_system_json(rf, p));
}

static void systems_create(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	struct dhp_request rq = { .verb = DHP_VERB_CREATE };
	struct dhp_error err = { 0 };
	struct rf_create c;
	struct dhp_partition *p;
	json_t *body;

	if (rf_create_parse(rf, res, req->body, &c) < 0 || rf_create_plan(rf, res, &c, 0) < 0)
		return;
	rq.partition = c.name;
	rq.profile = c.profile;
	rq.units = c.ids;
	rq.n_units = c.n_ids;
	if (dhp_core_submit(rf_core(rf), &rq, NULL, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	/* The partition exists from the submit on; its create commits on the
	 * loop's next turn, and its body already shows the units. */
	p = rf_partition(rf, rq.partition);
	http_header(res, "Location", RF_SYSTEMS "/%s", rq.partition);
	body = p ? rf_system_json(rf, p) : NULL;
	/* Which blocks the planner picked, and why: in this answer only. */
	if (body && c.sized)
		json_object_set_new(json_object_get(json_object_get(body, "Oem"), "Dhp"), "Plan",
				    rf_plan_json(rf, &c.plan));
	rf_send(res, 201, body);
}

static void systems_delete(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	struct dhp_request rq = { .verb = DHP_VERB_DELETE, .partition = req->params[0] };
	struct dhp_partition *p = rf_partition(rf, req->params[0]);
	struct dhp_error err = { 0 };

	if (!strcmp(req->params[0], RF_CAPS_ID)) {
		rf_not_allowed(res, "GET");
		return;
	}
	if (!p) {
		rf_not_found(res, "ComputerSystem", req->params[0]);
		return;
	}
	if (rf_precondition(res, req->if_match, rf_system_json(rf, p)) < 0)
		return;
	/* Deleting is a commit only, run on the loop's next turn: answered
	 * as done, like the create. */
	if (dhp_core_submit(rf_core(rf), &rq, NULL, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	rf_ok(res, 204, NULL);
}

#define LOGIN AUTH_PRIV_LOGIN
#define CONFIGURE AUTH_PRIV_CONFIGURE_COMPONENTS
#define SYSTEM RF_SYSTEMS "/{}"

const struct rf_route rf_routes_systems[] = {
	{ HTTP_GET, RF_SYSTEMS, systems_list, LOGIN },
	{ HTTP_POST, RF_SYSTEMS, systems_create, CONFIGURE },
	/* A POST to a collection's Members is one to the collection (DSP0266). */
	{ HTTP_POST, RF_SYSTEMS "/Members", systems_create, CONFIGURE },
	{ HTTP_GET, SYSTEM, systems_get, LOGIN },
	{ HTTP_PATCH, SYSTEM, rf_systems_patch, CONFIGURE },
	{ HTTP_DELETE, SYSTEM, systems_delete, CONFIGURE },
	{ HTTP_POST, SYSTEM "/Actions/ComputerSystem.Reset", rf_systems_reset, CONFIGURE },
	{ HTTP_POST, SYSTEM "/Actions/ComputerSystem.AddResourceBlock", rf_systems_add_block,
	  CONFIGURE },
	{ HTTP_POST, SYSTEM "/Actions/ComputerSystem.RemoveResourceBlock",
	  rf_systems_remove_block, CONFIGURE },
	{ HTTP_POST, SYSTEM "/Actions/Oem/DhpComputerSystem.Replace", rf_systems_replace,
	  CONFIGURE },
	{ HTTP_POST, SYSTEM "/Actions/Oem/DhpComputerSystem.Resize", rf_systems_resize,
	  CONFIGURE },
	{ HTTP_POST, SYSTEM "/Actions/Oem/DhpComputerSystem.Move", rf_systems_move, CONFIGURE },
	{ HTTP_GET, SYSTEM "/Processors", rf_systems_processors, LOGIN },
	{ HTTP_GET, SYSTEM "/Processors/{}", rf_systems_processor, LOGIN },
	{ HTTP_GET, SYSTEM "/Memory", rf_systems_memories, LOGIN },
	{ HTTP_GET, SYSTEM "/Memory/{}", rf_systems_memory, LOGIN },
	{ 0, NULL, NULL, 0 },
};
