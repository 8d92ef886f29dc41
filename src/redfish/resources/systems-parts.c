/* SPDX-License-Identifier: MIT */
/*
 * Processor and Memory resources: a system's processors and memory
 * modules (the units it owns now), and the one each processor or memory
 * resource block contains, as in DMTF's composability mockup. The same
 * unit is the same resource under both URIs, so one builder makes both.
 */
#include "redfish/resources/resources.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Memory.MemoryDeviceType from a model name that starts with one
 * ("DDR3 RDIMM"); NULL when it does not: the property is then left out. */
static const char *device_type(const char *model)
{
	static const char *const types[] = { "DDR5", "DDR4", "DDR3", "DDR2", "HBM3", "HBM2" };

	for (size_t i = 0; model && i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i]);

		if (!strncmp(model, types[i], n) && !isalnum((unsigned char)model[n]))
			return types[i];
	}
	return NULL;
}

static json_t *part_oem(const struct dhp_unit *u)
{
	json_t *dhp = json_pack("{s:o}", "ResourceBlock", rf_link(RF_BLOCKS "/%s", u->id));

	if (dhp && u->type == DHP_UNIT_PROCESSOR)
		json_object_set_new(dhp, "HostCpu",
				    u->host_cpu >= 0 ? json_integer(u->host_cpu) : json_null());
	if (dhp && u->type == DHP_UNIT_MEMORY) {
		json_object_set_new(dhp, "Boot", json_boolean(u->boot));
		json_object_set_new(dhp, "Removable", json_boolean(!u->boot));
	}
	return rf_oem(u->type == DHP_UNIT_PROCESSOR ? RF_T_OEM_PROC : RF_T_OEM_MEM, dhp);
}

json_t *rf_part_json(struct redfish *rf, const struct dhp_unit *u, const char *base)
{
	bool cpu = u->type == DHP_UNIT_PROCESSOR;
	char name[64];
	json_t *part;

	snprintf(name, sizeof(name), "%s %s", cpu ? "Processor" : "Memory module", u->id);
	part = rf_resource(cpu ? RF_T_PROC : RF_T_MEM, u->id, name, "%s/%s/%s", base,
			   cpu ? "Processors" : "Memory", u->id);
	if (!part)
		return NULL;
	json_object_set_new(part, "Model", json_string(u->model));
	/* Only what the topology says: a made-up number would mislead an
	 * inventory (docs/topology.md). */
	if (u->serial)
		json_object_set_new(part, "SerialNumber", json_string(u->serial));
	if (u->part_number)
		json_object_set_new(part, "PartNumber", json_string(u->part_number));
	if (cpu) {
		json_object_set_new(part, "ProcessorType", json_string("CPU"));
		json_object_set_new(part, "Socket", json_sprintf("%u", (unsigned)u->socket));
	} else {
		json_object_set_new(part, "CapacityMiB", json_integer((json_int_t)(u->size_bytes >> 20)));
		json_object_set_new(part, "MemoryType", json_string("DRAM"));
		if (device_type(u->model))
			json_object_set_new(part, "MemoryDeviceType", json_string(device_type(u->model)));
		json_object_set_new(part, "MemoryLocation", json_pack("{s:I, s:I}",
			"Socket", (json_int_t)u->socket, "Slot", (json_int_t)u->index));
	}
	json_object_set_new(part, "Status", rf_status(u->powered ? "Enabled" : "StandbyOffline",
						      rf_health(u->health)));
	json_object_set_new(part, "Links", json_pack("{s:o}", "Chassis",
		rf_chassis_link(dhp_core_server(rf_core(rf)))));
	json_object_set_new(part, "Oem", part_oem(u));
	return part;
}

/* The collection of a partition's units of one type. */
static void system_parts(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res, enum dhp_unit_type type)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	struct dhp_partition *p = rf_partition(rf, req->params[0]);
	bool cpu = type == DHP_UNIT_PROCESSOR;
	json_t *coll;

	if (!p) {
		rf_not_found(res, "ComputerSystem", req->params[0]);
		return;
	}
	coll = rf_collection(cpu ? RF_T_PROCS : RF_T_MEMS,
			     cpu ? "Processor Collection" : "Memory Collection", RF_SYSTEMS "/%s/%s",
			     p->name, cpu ? "Processors" : "Memory");
	for (size_t i = 0; coll && i < server->n_units; i++)
		if (server->units[i].partition == p->id && server->units[i].type == type)
			rf_members_add(coll, "Members", rf_link(RF_SYSTEMS "/%s/%s/%s", p->name,
								cpu ? "Processors" : "Memory",
								server->units[i].id));
	rf_send(res, 200, coll);
}

static void system_part(struct redfish *rf, const struct rf_request *req,
			struct http_response *res, enum dhp_unit_type type)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	struct dhp_partition *p = rf_partition(rf, req->params[0]);
	struct dhp_unit *u = dhp_server_unit(server, req->params[1]);
	char base[128];

	if (!p || !u || u->partition != p->id || u->type != type) {
		rf_not_found(res, type == DHP_UNIT_PROCESSOR ? "Processor" : "Memory",
			     req->params[1]);
		return;
	}
	snprintf(base, sizeof(base), RF_SYSTEMS "/%s", p->name);
	rf_send(res, 200, rf_part_json(rf, u, base));
}

static void block_part(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res, enum dhp_unit_type type)
{
	struct dhp_unit *u = dhp_server_unit(dhp_core_server(rf_core(rf)), req->params[0]);
	char base[128];

	/* A block holds exactly its own unit. */
	if (!u || strcmp(req->params[0], req->params[1]) || u->type != type) {
		rf_not_found(res, type == DHP_UNIT_PROCESSOR ? "Processor" : "Memory",
			     req->params[1]);
		return;
	}
	snprintf(base, sizeof(base), RF_BLOCKS "/%s", u->id);
	rf_send(res, 200, rf_part_json(rf, u, base));
}

void rf_systems_processors(struct redfish *rf, const struct rf_request *req,
			   struct http_response *res)
{
	system_parts(rf, req, res, DHP_UNIT_PROCESSOR);
}

void rf_systems_memories(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res)
{
	system_parts(rf, req, res, DHP_UNIT_MEMORY);
}

void rf_systems_processor(struct redfish *rf, const struct rf_request *req,
			  struct http_response *res)
{
	system_part(rf, req, res, DHP_UNIT_PROCESSOR);
}

void rf_systems_memory(struct redfish *rf, const struct rf_request *req,
		       struct http_response *res)
{
	system_part(rf, req, res, DHP_UNIT_MEMORY);
}

void rf_blocks_processor(struct redfish *rf, const struct rf_request *req,
			 struct http_response *res)
{
	block_part(rf, req, res, DHP_UNIT_PROCESSOR);
}

void rf_blocks_memory(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	block_part(rf, req, res, DHP_UNIT_MEMORY);
}
