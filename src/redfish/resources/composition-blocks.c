/* SPDX-License-Identifier: MIT */
/*
 * Resource blocks: one per partition unit, with its composition state
 * (docs/redfish.md), the system it is linked to (rf_unit_system, the same
 * rule the system's Links.ResourceBlocks follows) and dhp's own detail
 * under Oem.Dhp. A free unit can be powered on or off by an OEM action.
 */
#include "redfish/resources/resources.h"

#include <stdio.h>
#include <string.h>

static const char *const block_types[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "Processor",
	[DHP_UNIT_MEMORY] = "Memory",
	[DHP_UNIT_IO_HOST_BRIDGE] = "Expansion",
};

static const char *const block_names[DHP_UNIT_TYPE_MAX] = {
	[DHP_UNIT_PROCESSOR] = "Processor",
	[DHP_UNIT_MEMORY] = "Memory module",
	[DHP_UNIT_IO_HOST_BRIDGE] = "I/O host bridge",
};

/* Kinds of operation that change which partition a unit is in. */
static bool changes_membership(enum dhp_op_kind kind)
{
	return kind == DHP_OP_CREATE || kind == DHP_OP_ASSIGN || kind == DHP_OP_UNASSIGN ||
	       kind == DHP_OP_HOT_ADD || kind == DHP_OP_HOT_REMOVE || kind == DHP_OP_HOT_REPLACE ||
	       kind == DHP_OP_RESIZE || kind == DHP_OP_HOT_RESIZE || kind == DHP_OP_HOT_MOVE;
}

/* The schema has no Decomposing: a unit on its way in or out is Composing. */
static const char *composition_state(struct dhp_core *core, const struct dhp_unit *u)
{
	const struct dhp_op *op = u->busy_op ? dhp_core_active_op(core, u->busy_op) : NULL;

	if (u->health == DHP_HEALTH_FAILED)
		return "Failed";
	if (op && changes_membership(op->kind))
		return "Composing";
	if (u->partition)
		return "Composed";
	if (u->staged_partition)
		return "Unavailable";	/* reserved for a system's next restart */
	return "Unused";
}

static const char *block_state(const struct dhp_unit *u)
{
	if (u->health == DHP_HEALTH_FAILED)
		return "UnavailableOffline";
	if (u->powered)
		return "Enabled";
	/* A free unit waits to join a partition or to replace a unit. */
	return dhp_unit_is_free(u) ? "StandbySpare" : "StandbyOffline";
}

static json_t *devices(const char *list)
{
	json_t *arr = json_array();
	const char *p = list;

	while (arr && p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len)
			json_array_append_new(arr, json_stringn(p, len));
		p = comma ? comma + 1 : NULL;
	}
	return arr;
}

static json_t *block_oem(const struct dhp_unit *u)
{
	const char *staged = u->staged_partition ? "add" : u->staged_remove ? "remove" : NULL;

	return rf_oem(RF_T_OEM_BLOCK, json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:b, s:b, s:b, s:b, s:o, s:o}",
		"Type", dhp_unit_type_name(u->type),
		"Socket", (json_int_t)u->socket,
		"Index", (json_int_t)u->index,
		"Model", u->model,
		"SizeMiB", u->type == DHP_UNIT_MEMORY ? json_integer((json_int_t)(u->size_bytes >> 20))
						      : json_null(),
		"Devices", devices(u->devices),
		"Powered", u->powered,
		"Boot", u->boot,
		"Removable", !u->boot,
		"Spare", u->spare,
		"Staged", staged ? json_string(staged) : json_null(),
		"Task", u->busy_op ? rf_link(RF_TASKS "/%llu", (unsigned long long)u->busy_op)
				   : json_null()));
}

const char *const rf_power_states[] = { "On", "Off", NULL };

/* Actions.Oem: the power action, its values and its ActionInfo (oem.c). */
static json_t *block_actions(const struct dhp_unit *u)
{
	json_t *values = json_array();

	for (size_t i = 0; values && rf_power_states[i]; i++)
		json_array_append_new(values, json_string(rf_power_states[i]));
	return json_pack("{s:{s:{s:o, s:o, s:o}}}", "Oem", "#DhpResourceBlock.Power",
		"target", json_sprintf(RF_BLOCKS "/%s/Actions/Oem/DhpResourceBlock.Power", u->id),
		"@Redfish.ActionInfo", json_sprintf(RF_BLOCKS "/%s/PowerActionInfo", u->id),
		"PowerState@Redfish.AllowableValues", values);
}

json_t *rf_block_json(struct redfish *rf, const struct dhp_unit *u)
{
	struct dhp_core *core = rf_core(rf);
	struct dhp_server *server = dhp_core_server(core);
	uint32_t owner = rf_unit_system(core, u);
	const struct dhp_partition *p = owner ? dhp_server_partition(server, owner) : NULL;
	char name[64];
	json_t *block, *systems = json_array();

	snprintf(name, sizeof(name), "%s %s", block_names[u->type], u->id);
	block = rf_resource(RF_T_BLOCK, u->id, name, RF_BLOCKS "/%s", u->id);
	if (!block || !systems) {
		json_decref(block), json_decref(systems);
		return NULL;
	}
	if (p)
		json_array_append_new(systems, rf_link(RF_SYSTEMS "/%s", p->name));
	json_object_set_new(block, "ResourceBlockType", json_pack("[s]", block_types[u->type]));
	json_object_set_new(block, "Status", rf_status(block_state(u), rf_health(u->health)));
	json_object_set_new(block, "CompositionStatus", json_pack("{s:s, s:b, s:b, s:i, s:i}",
		"CompositionState", composition_state(core, u),
		"Reserved", u->staged_partition != DHP_NO_PARTITION,
		"SharingCapable", 0, "MaxCompositions", 1, "NumberOfCompositions", p ? 1 : 0));
	if (u->type == DHP_UNIT_PROCESSOR)
		json_object_set_new(block, "Processors", json_pack("[o]",
			rf_link(RF_BLOCKS "/%s/Processors/%s", u->id, u->id)));
	if (u->type == DHP_UNIT_MEMORY)
		json_object_set_new(block, "Memory", json_pack("[o]",
			rf_link(RF_BLOCKS "/%s/Memory/%s", u->id, u->id)));
	json_object_set_new(block, "Links", json_pack("{s:o, s:[o], s:[o]}",
		"ComputerSystems", systems, "Chassis", rf_chassis_link(server),
		"Zones", rf_zone_link(server)));
	json_object_set_new(block, "Actions", block_actions(u));
	json_object_set_new(block, "Oem", block_oem(u));
	return block;
}

void rf_blocks_list(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_server *server = dhp_core_server(rf_core(rf));
	json_t *coll = rf_collection(RF_T_BLOCKS, "Resource Block Collection", RF_BLOCKS);

	(void)req;
	for (size_t i = 0; coll && i < server->n_units; i++)
		rf_members_add(coll, "Members", rf_link(RF_BLOCKS "/%s", server->units[i].id));
	rf_send(res, 200, coll);
}

void rf_blocks_get(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	struct dhp_unit *u = dhp_server_unit(dhp_core_server(rf_core(rf)), req->params[0]);

	if (!u) {
		rf_not_found(res, "ResourceBlock", req->params[0]);
		return;
	}
	rf_send(res, 200, rf_block_json(rf, u));
}

const struct rf_prop rf_power_params[] = {
	{ "PowerState", RF_STRING, RF_REQUIRED, NULL },
	{ NULL, 0, 0, NULL },
};

void rf_blocks_power(struct redfish *rf, const struct rf_request *req, struct http_response *res)
{
	const char *action = "DhpResourceBlock.Power";
	struct dhp_unit *u = dhp_server_unit(dhp_core_server(rf_core(rf)), req->params[0]);
	struct dhp_request rq = { .n_units = 1 };
	const char *state, *id;

	if (!u) {
		rf_not_found(res, "ResourceBlock", req->params[0]);
		return;
	}
	if (rf_check(res, req->body, rf_power_params, action) < 0)
		return;
	state = json_string_value(json_object_get(req->body, "PowerState"));
	if (strcmp(state, rf_power_states[0]) && strcmp(state, rf_power_states[1])) {
		rf_bad_value(res, action, "PowerState", state);
		return;
	}
	rq.verb = !strcmp(state, rf_power_states[0]) ? DHP_VERB_POWER_ON : DHP_VERB_POWER_OFF;
	id = u->id;
	rq.units = &id;
	rf_submit(rf, res, &rq);
}
