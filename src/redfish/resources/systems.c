/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/Systems: partitions as ComputerSystems. Listing, reading,
 * creating (POST with Links.ResourceBlocks, to the collection or its
 * Members: specific composition, as in DMTF's bladed-partitions mockup)
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
	json_object_set_new(caps, "Links@Redfish.RequiredOnCreate", json_true());
	json_object_set_new(caps, "Links", json_pack("{s:b, s:b}",
		"ResourceBlocks@Redfish.RequiredOnCreate", 1,
		"ResourceBlocks@Redfish.UpdatableAfterCreate", 1));
	json_object_set_new(caps, "Oem@Redfish.OptionalOnCreate", json_true());
	json_object_set_new(caps, "Oem", rf_oem(RF_T_OEM_SYSTEM, json_pack("{s:b, s:b, s:o}",
		"OsProfile@Redfish.OptionalOnCreate", 1,
		"OsProfile@Redfish.SetOnlyOnCreate", 1,
		"OsProfile@Redfish.AllowableValues", names)));
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

static const struct rf_prop create_links[] = {
	{ "ResourceBlocks", RF_LINKS, RF_REQUIRED, NULL },
	{ "ResourceBlocks@odata.count", RF_STRING, RF_READONLY, NULL },
	{ "Chassis", RF_LINKS, RF_READONLY, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_dhp[] = {
	{ "OsProfile", RF_STRING, 0, NULL },
	{ "@odata.type", RF_STRING, 0, NULL },	/* as a GET shows it; not checked */
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_oem[] = {
	{ "Dhp", RF_OBJECT, 0, create_dhp },
	{ NULL, 0, 0, NULL },
};

static const struct rf_prop create_props[] = {
	{ "Name", RF_STRING, RF_REQUIRED, NULL },
	{ "Links", RF_OBJECT, RF_REQUIRED, create_links },
	{ "Oem", RF_OBJECT, 0, create_oem },
	RF_SYSTEM_READONLY,
	{ NULL, 0, 0, NULL },
};

/* The units of a list of resource block links, into ids[max]. */
static int block_ids(struct redfish *rf, struct http_response *res, const json_t *blocks,
		     const char **ids, size_t max, size_t *ret_n)
{
	size_t i;
	json_t *link;

	if (json_array_size(blocks) > max) {
		rf_error(res, 400, "PropertyValueIncorrect",
			 "Compose the partition with fewer units, then add more.",
			 "The property 'Links/ResourceBlocks' with the requested value of '%zu "
			 "resource blocks' could not be written because the value is not "
			 "acceptable for the property (at most %zu).", json_array_size(blocks), max);
		return -EINVAL;
	}
	json_array_foreach(blocks, i, link) {
		struct dhp_unit *u;

		if (rf_block_ref(rf, res, link, &u) < 0)
			return -EINVAL;
		ids[i] = u->id;
	}
	*ret_n = json_array_size(blocks);
	return 0;
}

static void systems_create(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	const char *ids[DHP_OP_MAX_UNITS];
	struct dhp_request rq = { .verb = DHP_VERB_CREATE, .units = ids };
	struct dhp_error err = { 0 };
	const json_t *profile;
	struct dhp_partition *p;
	uint64_t op_id;

	if (rf_check(res, req->body, create_props, NULL) < 0)
		return;
	rq.partition = json_string_value(json_object_get(req->body, "Name"));
	profile = json_object_get(json_object_get(json_object_get(req->body, "Oem"), "Dhp"),
				  "OsProfile");
	rq.profile = profile ? json_string_value(profile) : "linux";
	if (!dhp_profile_find(rq.profile)) {
		rf_bad_value(res, NULL, "Oem/Dhp/OsProfile", rq.profile);
		return;
	}
	if (!strcmp(rq.partition, RF_CAPS_ID) || !strcmp(rq.partition, "Members")) {
		rf_error(res, 409, "ResourceAlreadyExists", "Choose another name.",
			 "The requested resource of type ComputerSystem with the property Name "
			 "with the value '%s' already exists.", rq.partition);
		return;
	}
	if (block_ids(rf, res, json_object_get(json_object_get(req->body, "Links"),
					       "ResourceBlocks"),
		      ids, DHP_OP_MAX_UNITS, &rq.n_units) < 0)
		return;
	if (dhp_core_submit(rf_core(rf), &rq, &op_id, &err) < 0) {
		rf_error_from(res, &err);
		return;
	}
	/* The partition exists from the submit on; its create commits on the
	 * loop's next turn, and its body already shows the units. */
	p = rf_partition(rf, rq.partition);
	http_header(res, "Location", RF_SYSTEMS "/%s", rq.partition);
	rf_send(res, 201, p ? rf_system_json(rf, p) : NULL);
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
