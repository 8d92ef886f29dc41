/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/CompositionService: the service, its resource zones (one:
 * the server, holding every unit) and the route table of resource blocks
 * (composition-blocks.c).
 */
#include "redfish/resources/resources.h"

#include <string.h>

static void composition_get(struct redfish *rf, const struct rf_request *req,
			    struct http_response *res)
{
	json_t *svc = rf_resource(RF_T_COMP, "CompositionService", "Composition Service",
				  RF_COMPOSITION);

	(void)req;
	if (svc) {
		json_object_set_new(svc, "Description", json_string(
			"Partitions are composed from the server's units: specific composition "
			"by POST to " RF_SYSTEMS " and PATCH of Links.ResourceBlocks; constrained "
			"composition by sizes in that POST or by the Compose action, the "
			"service picking the blocks"));
		json_object_set_new(svc, "Status", rf_status("Enabled", "OK"));
		json_object_set_new(svc, "ServiceEnabled", json_true());
		/* A unit is in one partition at most (DESIGN.md §2). */
		json_object_set_new(svc, "AllowOverprovisioning", json_false());
		json_object_set_new(svc, "AllowZoneAffinity", json_true());
		json_object_set_new(svc, "ResourceBlocks", rf_link(RF_BLOCKS));
		json_object_set_new(svc, "ResourceZones", rf_link(RF_ZONES));
		json_object_set_new(svc, "CompositionReservations", rf_link(RF_RESERVATIONS));
		json_object_set_new(svc, "ReservationDuration",
				    json_sprintf("PT%uS", rf_reservation_lifetime_s(rf)));
		json_object_set_new(svc, "Actions", json_pack("{s:{s:s, s:s}}",
			"#CompositionService.Compose",
			"target", RF_COMPOSITION "/Actions/CompositionService.Compose",
			"@Redfish.ActionInfo", RF_COMPOSITION "/ComposeActionInfo"));
	}
	rf_send(res, 200, svc);
}

static void zones_list(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res)
{
	json_t *coll = rf_collection(RF_T_ZONES, "Resource Zone Collection", RF_ZONES);

	(void)req;
	if (coll)
		rf_members_add(coll, "Members", rf_zone_link(dhp_core_server(rf_core(rf))));
	rf_send(res, 200, coll);
}

static void zone_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	const char *health = "OK";
	json_t *zone, *links;

	if (strcmp(req->params[0], server->name)) {
		rf_not_found(res, "Zone", req->params[0]);
		return;
	}
	zone = rf_resource(RF_T_ZONE, server->name, server->name, RF_ZONES "/%s", server->name);
	links = json_pack("{s:[], s:i}", "ResourceBlocks", "ResourceBlocks@odata.count", 0);
	if (!zone || !links) {
		json_decref(zone), json_decref(links);
		rf_send(res, 500, NULL);
		return;
	}
	for (size_t i = 0; i < server->n_units; i++) {
		rf_members_add(links, "ResourceBlocks", rf_link(RF_BLOCKS "/%s", server->units[i].id));
		/* A failed unit is the zone's warning, not its failure. */
		if (server->units[i].health != DHP_HEALTH_OK)
			health = "Warning";
	}
	json_object_set_new(zone, "Description",
			    json_sprintf("Every unit of server %s: any may join any partition",
					 server->name));
	json_object_set_new(zone, "ZoneType", json_string("ZoneOfResourceBlocks"));
	json_object_set_new(zone, "Status", rf_status("Enabled", health));
	json_object_set_new(zone, "Links", links);
	json_object_set_new(zone, "@Redfish.CollectionCapabilities", rf_collection_caps(server));
	rf_send(res, 200, zone);
}

#define LOGIN AUTH_PRIV_LOGIN
#define CONFIGURE AUTH_PRIV_CONFIGURE_COMPONENTS
#define BLOCK RF_BLOCKS "/{}"

const struct rf_route rf_routes_composition[] = {
	{ HTTP_GET, RF_COMPOSITION, composition_get, LOGIN },
	{ HTTP_GET, RF_BLOCKS, rf_blocks_list, LOGIN },
	{ HTTP_GET, BLOCK, rf_blocks_get, LOGIN },
	{ HTTP_PATCH, BLOCK, rf_blocks_patch, CONFIGURE },	/* Oem.Dhp.Spare */
	{ HTTP_GET, BLOCK "/Processors/{}", rf_blocks_processor, LOGIN },
	{ HTTP_GET, BLOCK "/Memory/{}", rf_blocks_memory, LOGIN },
	{ HTTP_POST, BLOCK "/Actions/Oem/DhpResourceBlock.Power", rf_blocks_power, CONFIGURE },
	{ HTTP_POST, RF_COMPOSITION "/Actions/CompositionService.Compose", rf_compose, CONFIGURE },
	{ HTTP_GET, RF_RESERVATIONS, rf_reservations_list, LOGIN },
	{ HTTP_GET, RF_RESERVATIONS "/{}", rf_reservation_get, LOGIN },
	{ HTTP_DELETE, RF_RESERVATIONS "/{}", rf_reservation_delete, CONFIGURE },
	{ HTTP_GET, RF_ZONES, zones_list, LOGIN },
	{ HTTP_GET, RF_ZONES "/{}", zone_get, LOGIN },
	{ 0, NULL, NULL, 0 },
};
