/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/Chassis: the partitionable server, the one chassis. It
 * contains every unit (Links.ResourceBlocks) and hosts every partition
 * (Links.ComputerSystems); its partitioning mode and sockets, and what
 * the backend is (the processor removal method), are dhp's own (Oem.Dhp).
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <string.h>

static void chassis_list(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res)
{
	json_t *coll = rf_collection(RF_T_CHASSISES, "Chassis Collection", RF_CHASSIS);

	(void)req;
	if (coll)
		rf_members_add(coll, "Members", rf_chassis_link(dhp_core_server(rf_core(rf))));
	rf_send(res, 200, coll);
}

static json_t *chassis_links(struct dhp_server *server, const char **ret_health)
{
	json_t *links = json_pack("{s:[], s:i, s:[], s:i}", "ComputerSystems",
				  "ComputerSystems@odata.count", 0, "ResourceBlocks",
				  "ResourceBlocks@odata.count", 0);

	for (size_t i = 0; links && i < server->n_partitions; i++)
		rf_members_add(links, "ComputerSystems",
			       rf_link(RF_SYSTEMS "/%s", server->partitions[i]->name));
	for (size_t i = 0; links && i < server->n_units; i++) {
		rf_members_add(links, "ResourceBlocks", rf_link(RF_BLOCKS "/%s", server->units[i].id));
		/* A degraded or fenced unit is a warning for the whole server. */
		if (server->units[i].health != DHP_HEALTH_OK)
			*ret_health = "Warning";
	}
	return links;
}

/* What the backend is and how a processor leaves a running partition
 * (DESIGN.md §9: QEMU parks it where a CPU unplug is unsafe). */
static void backend_info(struct redfish *rf, json_t *dhp)
{
	struct dhp_backend *be = dhp_core_backend(rf_core(rf));
	struct dhp_backend_info info;

	dhp_backend_describe(be, &info);
	if (!dhp)
		return;
	json_object_set_new(dhp, "Backend", be ? json_string(be->ops->name) : json_null());
	json_object_set_new(dhp, "BackendVersion", info.version ? json_string(info.version)
								 : json_null());
	json_object_set_new(dhp, "Accelerator", info.accelerator ? json_string(info.accelerator)
								 : json_null());
	json_object_set_new(dhp, "ProcessorRemoveMethod",
			    info.cpu_remove ? json_string(info.cpu_remove) : json_null());
	json_object_set_new(dhp, "ProcessorRemoveReason",
			    info.cpu_remove_reason ? json_string(info.cpu_remove_reason)
						   : json_null());
}

static void chassis_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	const char *health = "OK";
	json_t *chassis, *links;
	char name[DHP_NAME_MAX + 16], digest[17];

	if (strcmp(req->params[0], server->name)) {
		rf_not_found(res, "Chassis", req->params[0]);
		return;
	}
	snprintf(name, sizeof(name), "Server %s", server->name);
	chassis = rf_resource(RF_T_CHASSIS, server->name, name, RF_CHASSIS "/%s", server->name);
	links = chassis_links(server, &health);
	if (!chassis || !links) {
		json_decref(chassis), json_decref(links);
		rf_send(res, 500, NULL);
		return;
	}
	json_object_set_new(chassis, "Description", json_string(
		"The partitionable server: its units are the resource blocks, its partitions "
		"the computer systems"));
	json_object_set_new(chassis, "ChassisType", json_string("RackMount"));
	/* Partitions power units on and off; the server itself is always on. */
	json_object_set_new(chassis, "PowerState", json_string("On"));
	json_object_set_new(chassis, "Status", rf_status("Enabled", health));
	json_object_set_new(chassis, "Links", links);
	snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)dhp_server_digest(server));
	json_object_set_new(chassis, "Oem", rf_oem(RF_T_OEM_CHASSIS, json_pack("{s:s, s:I, s:I, s:I, s:s}",
		"PartitioningMode", dhp_mode_name(server->mode),
		"Sockets", (json_int_t)server->n_sockets,
		"Units", (json_int_t)server->n_units,
		"Partitions", (json_int_t)server->n_partitions,
		"Digest", digest)));
	backend_info(rf, json_object_get(json_object_get(chassis, "Oem"), "Dhp"));
	rf_send(res, 200, chassis);
}

const struct rf_route rf_routes_chassis[] = {
	{ HTTP_GET, RF_CHASSIS, chassis_list, AUTH_PRIV_LOGIN },
	{ HTTP_GET, RF_CHASSIS "/{}", chassis_get, AUTH_PRIV_LOGIN },
	{ 0, NULL, NULL, 0 },
};
